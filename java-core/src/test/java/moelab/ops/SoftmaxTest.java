package moelab.ops;

import moelab.tensor.GradCheck;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class SoftmaxTest {

    /** Naive softmax (or log-softmax) in double along one axis of a contiguous row-major array. */
    static double[] naive(float[] x, int[] shape, int axis, boolean log) {
        int outer = 1, inner = 1, n = shape[axis];
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.length; i++) inner *= shape[i];
        double[] y = new double[x.length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) max = Math.max(max, x[(o * n + j) * inner + i]);
                double sum = 0;
                for (int j = 0; j < n; j++) sum += Math.exp(x[(o * n + j) * inner + i] - max);
                for (int j = 0; j < n; j++) {
                    int p = (o * n + j) * inner + i;
                    y[p] = log ? x[p] - max - Math.log(sum) : Math.exp(x[p] - max) / sum;
                }
            }
        return y;
    }

    static void assertClose(double[] want, float[] got, double tol) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++)
            assertEquals(want[i], got[i], tol * (1 + Math.abs(want[i])), "element " + i);
    }

    @Test void everyAxisMatchesNaiveAndSumsToOne() {
        int[] shape = {3, 5, 7};
        Tensor x = Tensor.randn(new Random(1), 3f, shape);
        for (int axis = 0; axis < 3; axis++) {
            float[] y = Softmax.softmax(x, axis).toArray();
            assertClose(naive(x.toArray(), shape, axis, false), y, 1e-5);
            assertClose(naive(x.toArray(), shape, axis, true), Softmax.logSoftmax(x, axis).toArray(), 1e-5);
            // each line along the axis sums to 1
            double[] sums = new double[x.numel() / shape[axis]];
            int inner = 1;
            for (int i = axis + 1; i < 3; i++) inner *= shape[i];
            for (int p = 0; p < y.length; p++) {
                int o = p / (shape[axis] * inner), i = p % inner;
                sums[o * inner + i] += y[p];
            }
            for (double s : sums) assertEquals(1.0, s, 1e-5, "axis " + axis);
        }
    }

    @Test void negativeAxisIsLastAxis() {
        Tensor x = Tensor.randn(new Random(2), 1f, 4, 6);
        assertArrayEquals(Softmax.softmax(x, 1).toArray(), Softmax.softmax(x, -1).toArray());
        assertArrayEquals(Softmax.logSoftmax(x, 0).toArray(), Softmax.logSoftmax(x, -2).toArray());
    }

    @Test void largeLogitsAreStable() {
        Tensor x = Tensor.of(new float[]{1000f, 1001f, -1000f, 3e4f, 3e4f, 3e4f}, 2, 3);
        float[] y = Softmax.softmax(x, 1).toArray(), ly = Softmax.logSoftmax(x, 1).toArray();
        double e = 1 / (1 + Math.E);
        assertArrayEquals(new float[]{(float) e, (float) (1 - e), 0f, 1f / 3, 1f / 3, 1f / 3}, y, 1e-6f);
        for (float v : ly) assertTrue(Float.isFinite(v));
        // x - logsumexp(x) is computed next to |x|, so its absolute error is about ulp(max |x|)
        assertEquals(-Math.log(1 + Math.E), ly[0], 1e-4);
        assertEquals(-2000 - Math.log(1 + Math.E), ly[2], 1e-3);
        assertEquals(-Math.log(3), ly[4], 5e-3);
    }

    @Test void gradientsOnAwkwardShapes() {
        int[][] shapes = {{1}, {13}, {1, 1}, {3, 5}, {7, 1}, {2, 3, 5}};
        for (int[] shape : shapes)
            for (int axis = 0; axis < shape.length; axis++) {
                int a = axis;
                Tensor x = Tensor.randn(new Random(3 + axis), 2f, shape).requiresGrad(true);
                GradCheck.check("softmax " + Arrays.toString(shape) + " axis " + a, in -> Softmax.softmax(in[0], a), x);
                GradCheck.check("logSoftmax " + Arrays.toString(shape) + " axis " + a, in -> Softmax.logSoftmax(in[0], a), x);
            }
    }

    @Test void gradientThroughNonContiguousInput() {
        Tensor x = Tensor.randn(new Random(4), 1f, 5, 3).requiresGrad(true);
        GradCheck.check("softmax(x^T, 1)", in -> Softmax.softmax(in[0].t(), 1), x);
        GradCheck.check("logSoftmax(x^T, 0)", in -> Softmax.logSoftmax(in[0].t(), 0), x);
    }

    @Test void gradientsAccumulateIntoExistingGradient() {
        // x feeds two nodes, so the second backward closure must add to what the first wrote.
        Tensor x = Tensor.randn(new Random(5), 1f, 3, 5).requiresGrad(true);
        GradCheck.check("swiglu(softmax(x,0), logSoftmax(x,0))",
                in -> Activations.swiglu(Softmax.softmax(in[0], 0), Softmax.logSoftmax(in[0], 0)), x);
        GradCheck.check("swiglu(softmax(x,1), logSoftmax(x,1))",
                in -> Activations.swiglu(Softmax.softmax(in[0], 1), Softmax.logSoftmax(in[0], 1)), x);
        for (int axis = 0; axis < 2; axis++) {
            int a = axis;
            GradAccumulation.assertAccumulates("softmax axis " + a, t -> Softmax.softmax(t, a), x);
            GradAccumulation.assertAccumulates("logSoftmax axis " + a, t -> Softmax.logSoftmax(t, a), x);
        }
    }

    @Test void badAxisNamesOp() {
        ShapeException e = assertThrows(ShapeException.class, () -> Softmax.softmax(Tensor.zeros(2, 3), 2));
        assertTrue(e.getMessage().startsWith("softmax"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Softmax.logSoftmax(Tensor.zeros(2, 3), -3));
        assertTrue(e.getMessage().startsWith("logSoftmax") && e.getMessage().contains("-3"), e.getMessage());
    }
}
