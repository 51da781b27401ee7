package moelab.ops;

import moelab.tensor.Autograd;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

import java.util.Arrays;

/**
 * Joining and cutting along one axis. Tensors are viewed as [outer, n, inner] around the axis.
 * concat copies; narrow and split return views that share the input's array (no copy), and
 * each piece's backward adds into its own slice of the input's gradient.
 */
public final class Join {
    private Join() {}

    // ts[i] [..., n_i, ...] (equal outside axis) -> [..., sum n_i, ...]
    public static Tensor concat(int axis, Tensor... ts) {
        if (ts.length == 0) throw new ShapeException("concat: no tensors");
        int[] first = ts[0].shape();
        int ax = Shape.axis("concat", axis, first.length);
        int total = 0;
        for (Tensor t : ts) {
            int[] s = t.shape();
            if (s.length != first.length || !equalOutside(s, first, ax))
                throw new ShapeException("concat: along axis " + axis + " shapes " + Shape.str(first) + " and " + Shape.str(s)
                        + " must match except on that axis");
            total += s[ax];
        }
        int outer = prod(first, 0, ax), inner = prod(first, ax + 1, first.length);
        int[] outShape = first.clone();
        outShape[ax] = total;

        float[] out = StepArena.floats(Shape.numel(outShape));
        int[] start = new int[ts.length]; // where each piece begins along the axis
        for (int t = 0, at = 0; t < ts.length; t++) {
            start[t] = at;
            Tensor d = ts[t].isContiguous() ? ts[t] : ts[t].detach();
            int len = ts[t].dim(ax) * inner;
            for (int o = 0; o < outer; o++)
                System.arraycopy(d.data(), d.offset() + o * len, out, (o * total + at) * inner, len);
            at += ts[t].dim(ax);
        }
        Tensor[] ins = ts.clone();
        int rowLen = total * inner;
        Kernels k = Backends.get();
        return Autograd.record("concat", Tensor.of(out, outShape), g -> {
            for (int t = 0; t < ins.length; t++) {
                if (!ins[t].requiresGrad()) continue;
                float[] dt = ins[t].gradBuffer();
                int len = ins[t].dim(ax) * inner;
                for (int o = 0; o < outer; o++)
                    k.axpy(1f, g, o * rowLen + start[t] * inner, dt, o * len, len);
            }
        }, ins);
    }

    // x [..., n, ...] -> [..., length, ...]: elements start .. start+length-1 of the axis, a view
    public static Tensor narrow(Tensor x, int axis, int start, int length) {
        int[] shape = x.shape();
        int ax = Shape.axis("narrow", axis, shape.length);
        if (start < 0 || length < 0 || start + length > shape[ax])
            throw new ShapeException("narrow: range [" + start + ", " + (start + length) + ") out of bounds for axis " + axis
                    + " of shape " + Shape.str(shape));
        int outer = prod(shape, 0, ax), n = shape[ax], inner = prod(shape, ax + 1, shape.length);
        int[] outShape = shape.clone();
        outShape[ax] = length;
        Tensor out = new Tensor(x.data(), x.offset() + start * x.stride(ax), outShape, x.strides());
        Kernels k = Backends.get();
        return Autograd.record("narrow", out, g -> {
            if (!x.requiresGrad()) return;
            // g [outer, length, inner] goes to rows start.. of dx [outer, n, inner]
            float[] dx = x.gradBuffer();
            int len = length * inner;
            for (int o = 0; o < outer; o++)
                k.axpy(1f, g, o * len, dx, (o * n + start) * inner, len);
        }, x);
    }

    // x [..., sum sizes, ...] -> pieces [..., sizes[i], ...], views in order along the axis
    public static Tensor[] split(Tensor x, int axis, int... sizes) {
        int ax = Shape.axis("split", axis, x.rank());
        int total = 0;
        for (int s : sizes) {
            if (s < 0) throw new ShapeException("split: negative size in " + Arrays.toString(sizes));
            total += s;
        }
        if (total != x.dim(ax))
            throw new ShapeException("split: sizes " + Arrays.toString(sizes) + " sum to " + total + " but axis " + axis
                    + " of shape " + Shape.str(x.shape()) + " has " + x.dim(ax));
        Tensor[] pieces = new Tensor[sizes.length];
        for (int i = 0, at = 0; i < sizes.length; at += sizes[i], i++) pieces[i] = narrow(x, ax, at, sizes[i]);
        return pieces;
    }

    /** Product of shape[from..to). */
    private static int prod(int[] shape, int from, int to) {
        int p = 1;
        for (int i = from; i < to; i++) p *= shape[i];
        return p;
    }

    private static boolean equalOutside(int[] a, int[] b, int ax) {
        for (int i = 0; i < a.length; i++) if (i != ax && a[i] != b[i]) return false;
        return true;
    }
}
