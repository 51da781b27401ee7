package moelab.nn;

import moelab.tensor.Parameters;
import moelab.ops.Activations;
import moelab.ops.MatMul;
import moelab.tensor.Tensor;

import java.util.Random;

/** SwiGLU MLP: y = (silu(x·w1) * (x·w3))·w2, w1, w3 [d, f], w2 [f, d]. */
public final class DenseFeedForward {
    private final Tensor w1, w3, w2;

    public DenseFeedForward(String prefix, int dModel, int dFf, double initStd, double outStd, Parameters params, Random rng) {
        w1 = params.add(prefix + "w1", Tensor.randn(rng, (float) initStd, dModel, dFf));
        w3 = params.add(prefix + "w3", Tensor.randn(rng, (float) initStd, dModel, dFf));
        w2 = params.add(prefix + "w2", Tensor.randn(rng, (float) outStd, dFf, dModel));
    }

    // x [T, d] -> [T, d]
    public Tensor forward(Tensor x) {
        return MatMul.matmul(Activations.swiglu(MatMul.matmul(x, w1), MatMul.matmul(x, w3)), w2);
    }
}
