package moelab.ops;

import moelab.tensor.GradCheck;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ActivationsTest {

    static double silu(double v) { return v / (1 + Math.exp(-v)); }

    @Test void siluMatchesFormula() {
        Tensor x = Tensor.randn(new Random(1), 3f, 5, 7);
        float[] y = Activations.silu(x).toArray(), xs = x.toArray();
        for (int i = 0; i < xs.length; i++) assertEquals(silu(xs[i]), y[i], 1e-5 * (1 + Math.abs(y[i])), "element " + i);
    }

    @Test void siluExtremesStayFinite() {
        float[] y = Activations.silu(Tensor.of(new float[]{-200f, 0f, 200f}, 3)).toArray();
        assertArrayEquals(new float[]{0f, 0f, 200f}, y, 1e-6f);
    }

    @Test void siluGradients() {
        for (int[] shape : new int[][]{{1}, {13}, {3, 5}, {2, 3, 7}}) {
            Tensor x = Tensor.randn(new Random(2), 2f, shape).requiresGrad(true);
            GradCheck.check("silu " + java.util.Arrays.toString(shape), in -> Activations.silu(in[0]), x);
        }
    }

    @Test void sigmoidMatchesFormulaAndStaysFinite() {
        float[] y = Activations.sigmoid(Tensor.of(new float[]{-200f, -1f, 0f, 2f, 200f}, 5)).toArray();
        assertArrayEquals(new float[]{0f, (float) (1 / (1 + Math.E)), 0.5f, (float) (1 / (1 + Math.exp(-2))), 1f}, y, 1e-6f);
    }

    @Test void sigmoidGradients() {
        for (int[] shape : new int[][]{{1}, {13}, {3, 5}}) {
            Tensor x = Tensor.randn(new Random(4), 2f, shape).requiresGrad(true);
            GradCheck.check("sigmoid " + java.util.Arrays.toString(shape), in -> Activations.sigmoid(in[0]), x);
        }
        Tensor x = Tensor.randn(new Random(5), 1f, 3, 5).requiresGrad(true);
        GradCheck.check("sigmoid(x^T)", in -> Activations.sigmoid(in[0].t()), x);
    }

    @Test void siluOfTransposedView() {
        Tensor x = Tensor.randn(new Random(3), 1f, 3, 5).requiresGrad(true);
        GradCheck.check("silu(x^T)", in -> Activations.silu(in[0].t()), x);
        float[] y = Activations.silu(x.t()).toArray();
        assertEquals(silu(x.get(2, 1)), y[1 * 3 + 2], 1e-6);
    }

    @Test void swigluMatchesFormula() {
        Random rng = new Random(4);
        Tensor a = Tensor.randn(rng, 2f, 7, 3), b = Tensor.randn(rng, 2f, 7, 3);
        float[] h = Activations.swiglu(a, b).toArray(), as = a.toArray(), bs = b.toArray();
        for (int i = 0; i < h.length; i++) assertEquals(silu(as[i]) * bs[i], h[i], 1e-5 * (1 + Math.abs(h[i])));
    }

    @Test void swigluGradients() {
        for (int[] shape : new int[][]{{1}, {5, 7}, {2, 1, 13}}) {
            Random rng = new Random(5);
            Tensor a = Tensor.randn(rng, 2f, shape).requiresGrad(true), b = Tensor.randn(rng, 2f, shape).requiresGrad(true);
            GradCheck.check("swiglu", in -> Activations.swiglu(in[0], in[1]), a, b);
        }
    }

    @Test void swigluGradientToOneSideOnly() {
        Random rng = new Random(6);
        Tensor a = Tensor.randn(rng, 2f, 3, 5), b = Tensor.randn(rng, 2f, 3, 5).requiresGrad(true);
        GradCheck.check("swiglu db only", in -> Activations.swiglu(in[0], in[1]), a, b);
        assertNull(a.grad());
        Tensor a2 = Tensor.randn(rng, 2f, 3, 5).requiresGrad(true), b2 = Tensor.randn(rng, 2f, 3, 5);
        GradCheck.check("swiglu da only", in -> Activations.swiglu(in[0], in[1]), a2, b2);
    }

    @Test void swigluSameTensorBothSides() {
        // h = silu(a) * a: both backward contributions land in one gradient buffer.
        Tensor a = Tensor.randn(new Random(7), 1.5f, 11).requiresGrad(true);
        GradCheck.check("swiglu(a, a)", in -> Activations.swiglu(in[0], in[0]), a);
    }

    @Test void gradientsAccumulate() {
        Random rng = new Random(8);
        Tensor x = Tensor.randn(rng, 1f, 3, 5).requiresGrad(true), o = Tensor.randn(rng, 1f, 3, 5);
        GradAccumulation.assertAccumulates("silu", Activations::silu, x);
        GradAccumulation.assertAccumulates("swiglu da", t -> Activations.swiglu(t, o), x);
        GradAccumulation.assertAccumulates("swiglu db", t -> Activations.swiglu(o, t), x);
    }

    @Test void swigluShapeMismatchNamesOpAndShapes() {
        ShapeException e = assertThrows(ShapeException.class,
                () -> Activations.swiglu(Tensor.zeros(3, 5), Tensor.zeros(5, 3)));
        assertTrue(e.getMessage().contains("swiglu"), e.getMessage());
        assertTrue(e.getMessage().contains("[3, 5]") && e.getMessage().contains("[5, 3]"), e.getMessage());
    }
}
