package moelab.ops;

import moelab.tensor.GradCheck;
import moelab.tensor.NonFiniteException;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.BinaryOperator;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;

import static moelab.ops.OpsTesting.assertClose;
import static moelab.ops.OpsTesting.param;
import static org.junit.jupiter.api.Assertions.*;

class ElementwiseTest {
    private final Random rng = new Random(11);

    private record Op(String name, BinaryOperator<Tensor> f, DoubleBinaryOperator ref) {}

    private static final Op[] BINARY = {
            new Op("add", Elementwise::add, (x, y) -> x + y),
            new Op("sub", Elementwise::sub, (x, y) -> x - y),
            new Op("mul", Elementwise::mul, (x, y) -> x * y),
            new Op("div", Elementwise::div, (x, y) -> x / y),
    };

    /** Divisors kept away from 0 so div's finite differences are well conditioned. */
    private Tensor divisor(int... shape) {
        Tensor t = Tensor.rand(rng, 0.5f, 2f, shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) if (rng.nextBoolean()) d[i] = -d[i];
        return t.requiresGrad(true);
    }

    @Test void broadcastForwardMatchesLoops() {
        // [3,1,5] op [4,1] -> [3,4,5]
        Tensor a = Tensor.randn(rng, 1f, 3, 1, 5), b = divisor(4, 1);
        for (Op op : BINARY) {
            Tensor c = op.f.apply(a, b);
            assertArrayEquals(new int[]{3, 4, 5}, c.shape(), op.name);
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 4; j++)
                    for (int k = 0; k < 5; k++)
                        assertEquals((float) op.ref.applyAsDouble(a.get(i, 0, k), b.get(j, 0)), c.get(i, j, k), 1e-6f, op.name);
        }
    }

    @Test void sameShapeForwardMatchesLoops() {
        Tensor a = Tensor.randn(rng, 1f, 7, 13), b = divisor(7, 13);
        for (Op op : BINARY) {
            float[] c = op.f.apply(a, b).toArray(), x = a.toArray(), y = b.toArray();
            for (int i = 0; i < c.length; i++) assertEquals((float) op.ref.applyAsDouble(x[i], y[i]), c[i], 1e-6f, op.name);
        }
    }

    @Test void gradcheckBinaryOnAwkwardShapes() {
        int[][][] pairs = {
                {{3, 5}, {3, 5}},        // same shape: the kernel fast path
                {{3, 1, 5}, {4, 1}},     // both sides broadcast
                {{2, 3, 7}, {7}},        // bias-like
                {{13}, {1}},
                {{}, {2, 3}},            // rank-0 scalar
                {{5, 1}, {1, 5}},
                {{1, 1, 1}, {1}},
        };
        for (Op op : BINARY)
            for (int[][] p : pairs)
                GradCheck.check(op.name + " " + java.util.Arrays.toString(p[0]) + " " + java.util.Arrays.toString(p[1]),
                        in -> op.f.apply(in[0], in[1]), param(rng, p[0]), divisor(p[1]));
    }

    @Test void nonContiguousOperands() {
        Tensor a0 = Tensor.randn(rng, 1f, 5, 3), b = Tensor.randn(rng, 1f, 3, 5);
        Tensor c = Elementwise.mul(a0.t(), b);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++) assertEquals(a0.get(j, i) * b.get(i, j), c.get(i, j), 1e-6f);
        for (Op op : BINARY) {
            GradCheck.check(op.name + "(x.t(), y)", in -> op.f.apply(in[0].t(), in[1]), param(rng, 5, 3), divisor(3, 5));
            GradCheck.check(op.name + "(x, y.t()) broadcast", in -> op.f.apply(in[0], in[1].t()), param(rng, 2, 3, 5), divisor(5, 3));
        }
    }

    private record Unary(String name, UnaryOperator<Tensor> f, DoubleUnaryOperator ref, float lo, float hi) {}

    private static final Unary[] UNARY = {
            new Unary("neg", Elementwise::neg, x -> -x, -2f, 2f),
            new Unary("exp", Elementwise::exp, Math::exp, -2f, 2f),
            new Unary("log", Elementwise::log, Math::log, 0.5f, 3f),   // away from 0 where log'' blows up
            new Unary("square", Elementwise::square, x -> x * x, -2f, 2f),
            new Unary("sqrt", Elementwise::sqrt, Math::sqrt, 0.5f, 3f),
            new Unary("addScalar", x -> Elementwise.addScalar(x, 2.5f), x -> x + 2.5, -2f, 2f),
            new Unary("mulScalar", x -> Elementwise.mulScalar(x, -1.5f), x -> x * -1.5, -2f, 2f),
    };

    @Test void unaryForwardAndGradients() {
        for (Unary u : UNARY) {
            Tensor x = Tensor.rand(rng, u.lo, u.hi, 3, 7);
            float[] y = u.f.apply(x).toArray(), xv = x.toArray();
            for (int i = 0; i < y.length; i++) assertEquals((float) u.ref.applyAsDouble(xv[i]), y[i], 1e-6f * (1 + Math.abs(y[i])), u.name);
            for (int[] shape : new int[][]{{3, 7}, {1}, {}, {2, 1, 13}})
                GradCheck.check(u.name + " " + java.util.Arrays.toString(shape), in -> u.f.apply(in[0]),
                        Tensor.rand(rng, u.lo, u.hi, shape).requiresGrad(true));
            // a transposed (non-contiguous) input
            GradCheck.check(u.name + " of x.t()", in -> u.f.apply(in[0].t()), Tensor.rand(rng, u.lo, u.hi, 5, 3).requiresGrad(true));
        }
    }

    @Test void usedTwiceAccumulates() {
        Tensor x = param(rng, 4, 3);
        Reduce.sumAll(Elementwise.mul(x, x)).backward();
        float[] want = x.toArray();
        for (int i = 0; i < want.length; i++) want[i] *= 2;
        assertClose(want, x.grad(), 1e-6f, "d sum(x*x) = 2x");

        x.clearGrad();
        Reduce.sumAll(Elementwise.sub(Elementwise.add(x, x), Elementwise.mulScalar(x, 5f))).backward();
        for (float g : x.grad()) assertEquals(-3f, g, 1e-6f); // 1 + 1 - 5

        GradCheck.check("x*x", in -> Elementwise.mul(in[0], in[0]), param(rng, 3, 5));
        GradCheck.check("x / sum(x, 1, keepDim)", in -> Elementwise.div(in[0], Reduce.sum(in[0], 1, true)),
                Tensor.rand(rng, 0.5f, 2f, 3, 4).requiresGrad(true));
    }

    @Test void zeroSized() {
        Tensor a = param(rng, 0, 3), b = param(rng, 3);
        Tensor c = Elementwise.add(a, b);
        assertArrayEquals(new int[]{0, 3}, c.shape());
        Reduce.sumAll(Elementwise.mul(c, b)).backward();
        assertArrayEquals(new float[3], b.grad(), "no element of the output reads b");
        assertEquals(0, Elementwise.exp(Tensor.zeros(2, 0)).numel());
    }

    @Test void domainErrors() {
        NonFiniteException e = assertThrows(NonFiniteException.class, () -> Elementwise.log(Tensor.of(new float[]{1f, -1f}, 2)));
        assertTrue(e.getMessage().startsWith("log:") && e.getMessage().contains("-1.0") && e.getMessage().contains("index 1"), e.getMessage());
        e = assertThrows(NonFiniteException.class, () -> Elementwise.log(Tensor.zeros(3)));
        assertTrue(e.getMessage().startsWith("log:") && e.getMessage().contains("0.0"), e.getMessage());
        e = assertThrows(NonFiniteException.class, () -> Elementwise.sqrt(Tensor.of(new float[]{4f, 0f, -2f}, 3)));
        assertTrue(e.getMessage().startsWith("sqrt:") && e.getMessage().contains("-2.0"), e.getMessage());
        assertEquals(0f, Elementwise.sqrt(Tensor.zeros(1)).item());
        // div is IEEE when the finite check is off (the class comment says so)
        assertTrue(Float.isNaN(Elementwise.div(Tensor.zeros(1), Tensor.zeros(1)).item()));
        assertEquals(Float.POSITIVE_INFINITY, Elementwise.div(Tensor.full(1f, 1), Tensor.zeros(1)).item());
    }

    @Test void shapeErrorsNameOpAndShapes() {
        for (Op op : BINARY) {
            ShapeException e = assertThrows(ShapeException.class, () -> op.f.apply(Tensor.zeros(3, 2), Tensor.zeros(4)));
            assertTrue(e.getMessage().startsWith(op.name + ":") && e.getMessage().contains("[3, 2]") && e.getMessage().contains("[4]"),
                    e.getMessage());
        }
    }
}
