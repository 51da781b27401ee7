package moelab.ops;

import moelab.tensor.Autograd;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.Tensor;

/** Elementwise activations: SiLU and the SwiGLU gate of the expert MLPs, and the sigmoid router scores. */
public final class Activations {
    private Activations() {}

    /** silu(x) = x * sigmoid(x). x [...] -> y [...] (same shape). */
    public static Tensor silu(Tensor x) {
        Tensor xc = x.contiguous();
        float[] xd = xc.data();
        int xo = xc.offset(), n = xc.numel();
        float[] y = StepArena.floats(n);
        // A plain loop: the kernel set has no standalone silu, and this is cheap next to the GEMMs.
        for (int i = 0; i < n; i++) {
            float v = xd[xo + i];
            y[i] = v * sigmoid(v);
        }
        Tensor out = Tensor.of(y, xc.shape());
        return Autograd.record("silu", out, g -> {
            float[] dx = xc.gradBuffer();
            for (int i = 0; i < n; i++) {
                float v = xd[xo + i], s = sigmoid(v);
                dx[i] += g[i] * s * (1f + v * (1f - s)); // silu'(v) = s + v * s * (1 - s)
            }
        }, xc);
    }

    /** sigmoid(x) = 1 / (1 + exp(-x)), finite for every x. x [...] -> y [...] (same shape). */
    public static Tensor sigmoid(Tensor x) {
        Tensor xc = x.contiguous();
        float[] xd = xc.data();
        int xo = xc.offset(), n = xc.numel();
        float[] y = StepArena.floats(n);
        for (int i = 0; i < n; i++) y[i] = sigmoid(xd[xo + i]);
        Tensor out = Tensor.of(y, xc.shape());
        return Autograd.record("sigmoid", out, g -> {
            float[] dx = xc.gradBuffer();
            for (int i = 0; i < n; i++) dx[i] += g[i] * y[i] * (1f - y[i]); // sigmoid' = s * (1 - s)
        }, xc);
    }

    /** swiglu(a, b) = silu(a) * b. a [...], b [...] (same shape) -> h [...]. */
    public static Tensor swiglu(Tensor a, Tensor b) {
        Shape.requireEqual("swiglu", a.shape(), b.shape());
        Tensor ac = a.contiguous(), bc = b.contiguous();
        int n = ac.numel();
        float[] h = StepArena.floats(n);
        Kernels k = Backends.get();
        k.swigluForward(ac.data(), ac.offset(), bc.data(), bc.offset(), h, 0, n);
        Tensor out = Tensor.of(h, ac.shape());
        return Autograd.record("swiglu", out, g -> k.swigluBackward(
                ac.data(), ac.offset(), bc.data(), bc.offset(), g, 0,
                ac.requiresGrad() ? ac.gradBuffer() : null, 0,
                bc.requiresGrad() ? bc.gradBuffer() : null, 0, n), ac, bc);
    }

    private static float sigmoid(float v) { return (float) (1.0 / (1.0 + Math.exp(-v))); }
}
