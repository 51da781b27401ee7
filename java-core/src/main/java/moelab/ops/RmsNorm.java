package moelab.ops;

import moelab.tensor.Autograd;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

/** RMSNorm over the last axis with a learned gain: y = x / rms(x) * w. */
public final class RmsNorm {
    private RmsNorm() {}

    /** x [..., d], w [d], eps >= 0 -> y [..., d]. invRms [rows] is kept for backward. */
    public static Tensor rmsnorm(Tensor x, Tensor w, float eps) {
        if (x.rank() < 1)
            throw new ShapeException("rmsnorm: x must have at least one axis, got shape " + Shape.str(x.shape()));
        int d = x.dim(-1);
        if (w.rank() != 1 || w.dim(0) != d)
            throw new ShapeException("rmsnorm: weight shape " + Shape.str(w.shape()) + " does not match x shape "
                    + Shape.str(x.shape()) + " (need [" + d + "])");
        if (!(eps >= 0) || Float.isInfinite(eps))
            throw new IllegalArgumentException("rmsnorm: eps must be finite and >= 0, got " + eps);
        Tensor xc = x.contiguous(), wc = w.contiguous();
        int rows = d == 0 ? 0 : xc.numel() / d;
        float[] y = StepArena.floats(xc.numel());
        float[] invRms = StepArena.floats(rows);
        Kernels k = Backends.get();
        k.rmsnormForward(xc.data(), xc.offset(), wc.data(), wc.offset(), y, 0, invRms, 0, rows, d, eps);
        Tensor out = Tensor.of(y, xc.shape());
        return Autograd.record("rmsnorm", out, g -> k.rmsnormBackward(
                xc.data(), xc.offset(), wc.data(), wc.offset(), invRms, 0, g, 0,
                xc.requiresGrad() ? xc.gradBuffer() : null, 0,
                wc.requiresGrad() ? wc.gradBuffer() : null, 0, rows, d), xc, wc);
    }
}
