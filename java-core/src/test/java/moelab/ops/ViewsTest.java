package moelab.ops;

import moelab.tensor.GradCheck;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static moelab.ops.OpsTesting.param;
import static org.junit.jupiter.api.Assertions.*;

/** Tensor's own views (reshape, transpose, t, contiguous) under autodiff. */
class ViewsTest {
    private final Random rng = new Random(13);

    @Test void transposeValuesAndGradients() {
        Tensor x = Tensor.randn(rng, 1f, 3, 5, 7);
        Tensor y = x.transpose(0, 2);
        assertArrayEquals(new int[]{7, 5, 3}, y.shape());
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++)
                for (int k = 0; k < 7; k++) assertEquals(x.get(i, j, k), y.get(k, j, i));
        GradCheck.check("transpose(0,2)", in -> in[0].transpose(0, 2), param(rng, 3, 5, 7));
        GradCheck.check("transpose(-1,-2).contiguous()", in -> in[0].transpose(-1, -2).contiguous(), param(rng, 2, 3, 5));
        GradCheck.check("t() of [1,13]", in -> in[0].t(), param(rng, 1, 13));
        GradCheck.check("t().t()", in -> in[0].t().t(), param(rng, 3, 5));
    }

    @Test void reshapeValuesAndGradients() {
        Tensor x = Tensor.randn(rng, 1f, 3, 5, 7);
        Tensor y = x.reshape(15, -1);
        assertArrayEquals(new int[]{15, 7}, y.shape());
        assertSame(x.data(), y.data(), "reshape of a contiguous tensor is a view");
        assertArrayEquals(x.toArray(), y.toArray());
        GradCheck.check("reshape", in -> in[0].reshape(5, 21), param(rng, 3, 5, 7));
        GradCheck.check("reshape to rank 0", in -> in[0].reshape(), param(rng, 1, 1));
        // reshape of a transposed view copies (via contiguous) and still routes gradients back
        Tensor t = Tensor.randn(rng, 1f, 3, 5).t();
        assertArrayEquals(t.toArray(), t.reshape(15).toArray());
        GradCheck.check("t().reshape(-1)", in -> in[0].t().reshape(-1), param(rng, 3, 5));
        GradCheck.check("reshape then transpose then reshape", in -> in[0].reshape(5, 3).t().reshape(3, 5), param(rng, 15));
        assertArrayEquals(new int[]{0, 3}, Tensor.zeros(3, 0).reshape(0, 3).shape());
        ShapeException e = assertThrows(ShapeException.class, () -> Tensor.zeros(3, 5).reshape(4, -1));
        assertTrue(e.getMessage().startsWith("reshape:") && e.getMessage().contains("[3, 5]"), e.getMessage());
    }

    @Test void emptyTensorsAreContiguous() {
        // regression: contiguousStrides([2,0,5]) = [5,5,1] used to fail isContiguous(), so
        // zero-sized tensors were copied by contiguous() and rejected by GradCheck
        Tensor x = Tensor.zeros(2, 0, 5);
        assertTrue(x.isContiguous());
        assertSame(x, x.contiguous());
        assertTrue(Tensor.zeros(0).isContiguous());
    }

    @Test void viewsUsedTwiceAccumulate() {
        Tensor x = param(rng, 3, 3);
        // L = sum(x + x.t()) -> dL/dx = 2 everywhere
        Reduce.sumAll(Elementwise.add(x, x.t())).backward();
        for (float g : x.grad()) assertEquals(2f, g);
        GradCheck.check("x * x.t()", in -> Elementwise.mul(in[0], in[0].t()), param(rng, 4, 4));
    }
}
