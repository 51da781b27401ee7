package moelab.routing;

import moelab.ops.Indexing;
import moelab.ops.Softmax;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** SH: the plan's marginals, balanced selection, and no gradient through Sinkhorn. */
class SinkhornBalancingTest {
    static Routing route(Router r, Tensor z, int k, TokenInfo info, boolean training) {
        return r.route(new RoutingInput(0, Tensor.zeros(z.dim(0), 1), z, k, info, training));
    }

    @Test
    void planMarginalsWithinTolerance() {
        for (int[] s : new int[][]{{13, 5}, {64, 8}, {1, 4}, {7, 7}, {30, 3}}) {
            int t = s[0], e = s[1];
            Tensor z = Tensor.randn(new Random(t + 100L * e), 2f, t, e);
            float[] zz = z.toArray();
            for (int x = 0; x < t; x++) zz[x * e] += 3f;             // skewed toward expert 0
            // exact up to the eps = 1e-8 in the denominators (relative 1e-4 here)
            double[] pi = SinkhornBalancing.plan(zz, 0, t, e, 1e-9, 100_000);
            for (int x = 0; x < t; x++) {
                double row = 0;
                for (int i = 0; i < e; i++) row += pi[x * e + i];
                assertEquals(1.0 / t, row, 1e-4 / t, "row " + x + " of T=" + t + " E=" + e);
            }
            for (int i = 0; i < e; i++) {
                double col = 0;
                for (int x = 0; x < t; x++) col += pi[x * e + i];
                assertEquals(1.0 / e, col, 1e-4 / e, "column " + i + " of T=" + t + " E=" + e);
            }
        }
        // the default tolerance still gives marginals within 1e-3 relative on a typical group
        Tensor z = Tensor.randn(new Random(9), 1f, 40, 8);
        double[] pi = SinkhornBalancing.plan(z.toArray(), 0, 40, 8, 1e-4, 1000);
        for (int x = 0; x < 40; x++) {
            double row = 0;
            for (int i = 0; i < 8; i++) row += pi[x * 8 + i];
            assertEquals(1.0 / 40, row, 1e-3 / 40);
        }
    }

    @Test
    void balancesASkewedRouterAndEvalIsPlainTopK() {
        int t = 64, e = 4;
        float[] zz = Tensor.randn(new Random(3), 0.5f, t, e).toArray();
        for (int x = 0; x < t; x++) zz[x * e] += 2f;
        Tensor z = Tensor.of(zz, t, e);
        TopKRouter sh = new TopKRouter(true, 0, new SinkhornBalancing(1e-6, 10_000), Scope.GLOBAL, 0);
        long[] c = BalancingMethod.counts(route(sh, z, 1, TokenInfo.of(1, t), true).experts(), 0, t, 1, e);
        for (long x : c) assertTrue(x >= 10 && x <= 22, "near 16 each: " + java.util.Arrays.toString(c));
        long[] plain = BalancingMethod.counts(route(sh, z, 1, TokenInfo.of(1, t), false).experts(), 0, t, 1, e);
        assertTrue(plain[0] > 40, "eval is greedy TopK(p), collapsed onto expert 0: " + java.util.Arrays.toString(plain));
    }

    @Test
    void noGradientThroughSinkhornGatesAreTheSoftmaxAtTheSelection() {
        int t = 11, e = 5, k = 2;
        Tensor z = Tensor.randn(new Random(4), 1.5f, t, e).requiresGrad(true);
        TopKRouter sh = new TopKRouter(true, 0, new SinkhornBalancing(1e-4, 1000), Scope.SEQUENCE, 0);
        Routing r = route(sh, z, k, TokenInfo.of(1, t), true);
        assertNull(r.auxLoss());
        float[] w = Tensor.randn(new Random(5), 1f, t, k).toArray();
        moelab.tensor.Autograd.backward(r.gates(), w);
        float[] g = z.grad().clone();
        // the same gates computed directly from the fixed selection give the same gradient
        Tensor z2 = Tensor.of(z.toArray(), t, e).requiresGrad(true);
        Tensor direct = Softmax.softmax(Indexing.gather(z2, r.experts(), k), -1);
        assertArrayEquals(direct.toArray(), r.gates().toArray(), 1e-7f);
        moelab.tensor.Autograd.backward(direct, w);
        assertArrayEquals(z2.grad(), g, 1e-7f);
    }
}
