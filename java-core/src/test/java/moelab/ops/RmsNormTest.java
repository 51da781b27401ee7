package moelab.ops;

import moelab.tensor.GradCheck;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class RmsNormTest {

    static double[] naive(float[] x, float[] w, int d, double eps) {
        double[] y = new double[x.length];
        for (int r = 0; r < x.length / d; r++) {
            double ss = 0;
            for (int c = 0; c < d; c++) ss += (double) x[r * d + c] * x[r * d + c];
            double inv = 1 / Math.sqrt(ss / d + eps);
            for (int c = 0; c < d; c++) y[r * d + c] = x[r * d + c] * inv * w[c];
        }
        return y;
    }

    @Test void matchesNaive() {
        for (int[] shape : new int[][]{{1, 1}, {3, 5}, {2, 3, 7}, {13}, {4, 1, 1, 9}}) {
            Random rng = new Random(Arrays.hashCode(shape));
            int d = shape[shape.length - 1];
            Tensor x = Tensor.randn(rng, 2f, shape), w = Tensor.rand(rng, 0.5f, 1.5f, d);
            float[] y = RmsNorm.rmsnorm(x, w, 1e-5f).toArray();
            double[] want = naive(x.toArray(), w.toArray(), d, 1e-5);
            for (int i = 0; i < y.length; i++) assertEquals(want[i], y[i], 1e-5 * (1 + Math.abs(want[i])), Arrays.toString(shape) + " " + i);
        }
    }

    @Test void unitGainGivesUnitRms() {
        Tensor x = Tensor.randn(new Random(1), 5f, 4, 11);
        float[] y = RmsNorm.rmsnorm(x, Tensor.full(1f, 11), 0f).toArray();
        for (int r = 0; r < 4; r++) {
            double ss = 0;
            for (int c = 0; c < 11; c++) ss += y[r * 11 + c] * y[r * 11 + c];
            assertEquals(1.0, ss / 11, 1e-5);
        }
    }

    @Test void gradientsOnAwkwardShapes() {
        for (int[] shape : new int[][]{{1, 1}, {1, 7}, {3, 5}, {2, 3, 13}}) {
            Random rng = new Random(7 + shape.length);
            int d = shape[shape.length - 1];
            Tensor x = Tensor.randn(rng, 1f, shape).requiresGrad(true);
            Tensor w = Tensor.rand(rng, 0.5f, 1.5f, d).requiresGrad(true);
            GradCheck.check("rmsnorm " + Arrays.toString(shape), in -> RmsNorm.rmsnorm(in[0], in[1], 1e-5f), x, w);
        }
    }

    @Test void gradientToOneInputOnly() {
        Random rng = new Random(8);
        Tensor x = Tensor.randn(rng, 1f, 3, 5), w = Tensor.rand(rng, 0.5f, 1.5f, 5).requiresGrad(true);
        GradCheck.check("rmsnorm dw only", in -> RmsNorm.rmsnorm(in[0], in[1], 1e-5f), x, w);
        assertNull(x.grad());
        Tensor x2 = Tensor.randn(rng, 1f, 3, 5).requiresGrad(true), w2 = Tensor.rand(rng, 0.5f, 1.5f, 5);
        GradCheck.check("rmsnorm dx only", in -> RmsNorm.rmsnorm(in[0], in[1], 1e-5f), x2, w2);
    }

    @Test void gradientThroughTransposedInput() {
        Random rng = new Random(9);
        Tensor x = Tensor.randn(rng, 1f, 5, 3).requiresGrad(true), w = Tensor.rand(rng, 0.5f, 1.5f, 5).requiresGrad(true);
        GradCheck.check("rmsnorm(x^T)", in -> RmsNorm.rmsnorm(in[0].t(), in[1], 1e-5f), x, w);
    }

    @Test void gradientsAccumulate() {
        Random rng = new Random(10);
        Tensor x = Tensor.randn(rng, 1f, 3, 5).requiresGrad(true), w = Tensor.rand(rng, 0.5f, 1.5f, 5).requiresGrad(true);
        GradAccumulation.assertAccumulates("rmsnorm dx", t -> RmsNorm.rmsnorm(t, w, 1e-5f), x);
        GradAccumulation.assertAccumulates("rmsnorm dw", t -> RmsNorm.rmsnorm(x, t, 1e-5f), w);
    }

    @Test void weightShapeMismatchNamesOpAndShapes() {
        ShapeException e = assertThrows(ShapeException.class, () -> RmsNorm.rmsnorm(Tensor.zeros(3, 5), Tensor.zeros(3), 1e-5f));
        String m = e.getMessage();
        assertTrue(m.startsWith("rmsnorm") && m.contains("[3]") && m.contains("[3, 5]"), m);
        e = assertThrows(ShapeException.class, () -> RmsNorm.rmsnorm(Tensor.zeros(3, 5), Tensor.zeros(1, 5), 1e-5f));
        assertTrue(e.getMessage().contains("[1, 5]"), e.getMessage());
        IllegalArgumentException ie = assertThrows(IllegalArgumentException.class,
                () -> RmsNorm.rmsnorm(Tensor.zeros(3, 5), Tensor.zeros(5), -1f));
        assertTrue(ie.getMessage().startsWith("rmsnorm") && ie.getMessage().contains("-1"), ie.getMessage());
    }
}
