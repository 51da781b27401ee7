package moelab.ops;

import moelab.tensor.Autograd;
import moelab.tensor.Tensor;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Backward closures must ADD into input gradients. GradCheck always starts from an empty buffer,
 * so an op that overwrites would pass it; two backward passes into one leaf must give exactly twice
 * the gradient of one.
 */
final class GradAccumulation {
    private GradAccumulation() {}

    static void assertAccumulates(String what, Function<Tensor, Tensor> f, Tensor x) {
        x.clearGrad();
        Tensor y = f.apply(x);
        float[] seed = new float[y.numel()];
        for (int i = 0; i < seed.length; i++) seed[i] = (i % 5) - 1.75f;
        Autograd.backward(y, seed);
        assertNotNull(x.grad(), what + ": no gradient reached the input");
        float[] once = x.grad().clone();
        Autograd.backward(f.apply(x), seed);
        for (int i = 0; i < once.length; i++)
            assertEquals(2 * once[i], x.grad()[i], 1e-6 * (1 + Math.abs(once[i])), what + ": element " + i);
        x.clearGrad();
    }
}
