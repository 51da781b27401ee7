package moelab.ops;

import moelab.tensor.Autograd;
import moelab.tensor.NoGrad;
import moelab.tensor.NonFiniteException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static moelab.ops.OpsTesting.param;
import static org.junit.jupiter.api.Assertions.*;

/** The tape as the ops use it: deep graphs, NoGrad, NaN/Inf detection. */
class AutogradOpsTest {
    private final Random rng = new Random(17);

    @Test void deepChainBackpropagatesWithoutStackOverflow() {
        Tensor x = param(rng, 3);
        Tensor one = Tensor.full(1f, 3);
        Tensor y = x;
        int depth = 20_000;
        for (int i = 0; i < depth; i++) y = Elementwise.add(y, one);
        Reduce.sumAll(y).backward();
        for (int i = 0; i < 3; i++) {
            assertEquals(x.get(i) + depth, y.get(i), 1e-2f);
            assertEquals(1f, x.grad()[i]);
        }
    }

    @Test void noGradRecordsNothing() {
        Tensor a = param(rng, 3, 5), b = param(rng, 5, 2);
        Tensor[] outs;
        try (NoGrad ng = NoGrad.enter()) {
            outs = new Tensor[]{
                    MatMul.matmul(a, b), MatMul.linear(a, b), Elementwise.add(a, a), Elementwise.exp(a),
                    Elementwise.mulScalar(a, 2f), Reduce.sum(a, 0, true), Reduce.meanAll(a),
                    Join.concat(0, a, a), Join.split(a, 1, 2, 3)[1], Join.narrow(a, 0, 1, 1), a.t(), a.reshape(15),
            };
        }
        for (Tensor t : outs) {
            assertNull(t.node(), t.toString());
            assertFalse(t.requiresGrad(), t.toString());
        }
        // and recording is back on afterwards
        assertNotNull(MatMul.matmul(a, b).node());
    }

    @Test void checkFiniteNamesTheOp() {
        Autograd.setCheckFinite(true);
        try {
            NonFiniteException e = assertThrows(NonFiniteException.class,
                    () -> Elementwise.div(Tensor.zeros(2), Tensor.zeros(2)));
            assertTrue(e.getMessage().contains("'div'") && e.getMessage().contains("NaN"), e.getMessage());
            e = assertThrows(NonFiniteException.class, () -> Elementwise.log(Tensor.full(-1f, 1)));
            assertTrue(e.getMessage().startsWith("log:"), e.getMessage());
            e = assertThrows(NonFiniteException.class, () -> Elementwise.exp(Tensor.full(100f, 1)));
            assertTrue(e.getMessage().contains("'exp'") && e.getMessage().contains("Infinity"), e.getMessage());
            // a finite forward whose backward is not: sqrt'(0) = +Inf
            Tensor x = Tensor.zeros(2).requiresGrad(true);
            Tensor s = Reduce.sumAll(Elementwise.sqrt(x));
            e = assertThrows(NonFiniteException.class, s::backward);
            assertTrue(e.getMessage().contains("'sqrt'") && e.getMessage().contains("gradient"), e.getMessage());
        } finally {
            Autograd.setCheckFinite(false);
        }
    }

    @Test void tensorUsedInTwoBranchesAccumulates() {
        Tensor x = param(rng, 2, 3), w = Tensor.randn(rng, 1f, 3, 4);
        // L = sum(linear(x, w)) + sum(exp(x)): dL/dx[i][j] = sum_c w[j][c] + e^x[i][j]
        Elementwise.add(Reduce.sumAll(MatMul.linear(x, w)), Reduce.sumAll(Elementwise.exp(x))).backward();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++) {
                float want = (float) Math.exp(x.get(i, j));
                for (int c = 0; c < 4; c++) want += w.get(j, c);
                assertEquals(want, x.grad()[i * 3 + j], 1e-5f);
            }
        assertNull(w.grad(), "w does not require grad");
    }
}
