package moelab.ops;

import moelab.tensor.Autograd;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

/**
 * Sums and means over one axis or over everything. The reduced axis is viewed as the middle of
 * [outer, n, inner]; sums are accumulated in float in a fixed order (deterministic). The sum over
 * an empty axis is 0; the mean over an empty axis is an error (it would be 0/0).
 */
public final class Reduce {
    private Reduce() {}

    // x [..., n, ...] -> [..., ...], or [..., 1, ...] with keepDim; axis may be negative
    public static Tensor sum(Tensor x, int axis, boolean keepDim) { return reduce("sum", x, axis, keepDim, false); }

    // x [..., n, ...] -> [..., ...], or [..., 1, ...] with keepDim: the sum divided by n (n > 0)
    public static Tensor mean(Tensor x, int axis, boolean keepDim) { return reduce("mean", x, axis, keepDim, true); }

    // x [...] -> [] (a scalar tensor)
    public static Tensor sumAll(Tensor x) { return all("sumAll", x, 1f); }

    // x [...] -> [] (a scalar tensor); x must not be empty
    public static Tensor meanAll(Tensor x) {
        if (x.numel() == 0) throw new ShapeException("meanAll: mean of an empty tensor of shape " + Shape.str(x.shape()));
        return all("meanAll", x, 1f / x.numel());
    }

    private static Tensor all(String op, Tensor x, float scale) {
        Tensor xd = dense(x);
        float s = scale * Backends.get().sum(xd.data(), xd.offset(), x.numel());
        return Autograd.record(op, Tensor.scalar(s), g -> {
            if (!x.requiresGrad()) return;
            float[] dx = x.gradBuffer();
            float v = scale * g[0];
            for (int i = 0; i < dx.length; i++) dx[i] += v;
        }, x);
    }

    private static Tensor reduce(String op, Tensor x, int axis, boolean keepDim, boolean mean) {
        int[] shape = x.shape();
        int ax = Shape.axis(op, axis, shape.length);
        int outer = prod(shape, 0, ax), n = shape[ax], inner = prod(shape, ax + 1, shape.length);
        if (mean && n == 0)
            throw new ShapeException(op + ": axis " + axis + " of shape " + Shape.str(shape) + " is empty (mean would be 0/0)");
        float scale = mean ? 1f / n : 1f;

        int[] outShape = outShape(shape, ax, keepDim);
        Tensor xd = dense(x);
        float[] v = xd.data(), out = StepArena.floats(outer * inner);
        int off = xd.offset();
        Kernels k = Backends.get();
        for (int o = 0; o < outer; o++) {
            if (inner == 1) { // reducing the last (or only non-trivial) axis: one contiguous row each
                out[o] = k.sum(v, off + o * n, n);
            } else {          // add n rows of length inner
                for (int j = 0; j < n; j++) k.axpy(1f, v, off + (o * n + j) * inner, out, o * inner, inner);
            }
        }
        if (mean) k.scale(scale, out, 0, out.length);

        return Autograd.record(op, Tensor.of(out, outShape), g -> {
            if (!x.requiresGrad()) return;
            // every input element along the axis receives its output's gradient (times 1/n for mean)
            float[] dx = x.gradBuffer();
            for (int o = 0; o < outer; o++) {
                if (inner == 1) {
                    float gv = scale * g[o];
                    for (int j = 0; j < n; j++) dx[o * n + j] += gv;
                } else {
                    for (int j = 0; j < n; j++) k.axpy(scale, g, o * inner, dx, (o * n + j) * inner, inner);
                }
            }
        }, x);
    }

    private static int[] outShape(int[] shape, int ax, boolean keepDim) {
        if (keepDim) {
            int[] s = shape.clone();
            s[ax] = 1;
            return s;
        }
        int[] s = new int[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) if (i != ax) s[j++] = shape[i];
        return s;
    }

    /** Product of shape[from..to). */
    private static int prod(int[] shape, int from, int to) {
        int p = 1;
        for (int i = from; i < to; i++) p *= shape[i];
        return p;
    }


    /** x itself when contiguous, else a contiguous copy of its values (no history: gradients go to x). */
    private static Tensor dense(Tensor x) { return x.isContiguous() ? x : x.detach(); }
}
