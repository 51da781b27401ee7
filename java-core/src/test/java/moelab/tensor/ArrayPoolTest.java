package moelab.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import moelab.ops.Elementwise;
import moelab.ops.Reduce;
import org.junit.jupiter.api.Test;

/** Intermediate gradients are recycled through {@link ArrayPool}; leaf gradients never are. */
class ArrayPoolTest {

    /** loss = sum((a * b + a) * b): a chain of intermediates of one length. */
    private static Tensor loss(Tensor a, Tensor b) {
        return Reduce.sumAll(Elementwise.mul(Elementwise.add(Elementwise.mul(a, b), a), b));
    }

    @Test
    void recycledArraysComeBackZeroedAndBackwardGivesTheSameBitsEveryTime() {
        Random r = new Random(3);
        Tensor a = Tensor.randn(r, 1f, 37, 5).requiresGrad(true), b = Tensor.randn(r, 1f, 37, 5).requiresGrad(true);
        float[] first = null;
        for (int step = 0; step < 4; step++) { // later steps run on recycled (dirty, then zeroed) arrays
            a.clearGrad();
            b.clearGrad();
            Autograd.backward(loss(a, b));
            float[] g = a.grad().clone();
            if (first == null) first = g;
            else assertArrayEquals(first, g, "step " + step);
        }
        assertTrue(ArrayPool.keptFloats() >= 37 * 5, "intermediate gradients went back to the pool");
        float[] again = ArrayPool.take(37 * 5);
        for (float v : again) assertEquals(0f, v, "a recycled array is zeroed");
    }

    @Test
    void leafGradientsAreKeptAndNeverRecycled() {
        Tensor a = Tensor.randn(new Random(4), 1f, 11).requiresGrad(true), b = Tensor.randn(new Random(5), 1f, 11).requiresGrad(true);
        Autograd.backward(loss(a, b));
        float[] ga = a.grad();
        Autograd.backward(loss(a, b)); // leaf gradients accumulate into the same array
        assertSame(ga, a.grad());
        for (int i = 0; i < 50; i++) assertNotSame(ga, ArrayPool.take(11));
    }

    @Test
    void intermediateGradientsAreGoneAfterBackward() {
        Tensor a = Tensor.randn(new Random(6), 1f, 9).requiresGrad(true);
        Tensor mid = Elementwise.mul(a, a);
        Autograd.backward(Reduce.sumAll(mid));
        assertNull(mid.grad());
    }

    @Test
    void keepsAtMostItsCap() {
        long before = ArrayPool.keptFloats(), cap = before + 4_000;
        long old = ArrayPool.setCap(cap);
        try {
            int n = 1_001;
            for (int i = 0; i < 5; i++) ArrayPool.give(new float[n]);
            assertTrue(ArrayPool.keptFloats() <= cap, "kept " + ArrayPool.keptFloats());
            assertEquals(3L * n, ArrayPool.keptFloats() - before, "three fit under the cap, two are dropped");
            while (ArrayPool.keptFloats() > before) ArrayPool.take(n); // leave the pool as found for other tests
        } finally {
            ArrayPool.setCap(old);
        }
    }
}
