package moelab.ops;

import moelab.tensor.Autograd;
import moelab.kernels.Backends;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

/**
 * The k largest entries of each row (router expert selection). values [T, k] is differentiable
 * (the gradient goes to the selected positions); indices [T*k], row-major, are integers with no
 * gradient. Within a row the order is descending, ties go to the lower column.
 */
public record TopK(Tensor values, int[] indices) {

    /** x [T, E], 0 <= k <= E -> values [T, k], indices [T*k]. NaN in x is an error. */
    public static TopK topk(Tensor x, int k) {
        Shape.requireRank("topk", x, 2);
        int rows = x.dim(0), e = x.dim(1);
        if (k < 0 || k > e)
            throw new ShapeException("topk: k=" + k + " must be in [0, " + e + "] for x of shape " + Shape.str(x.shape()));
        Tensor xc = x.contiguous();
        float[] xd = xc.data();
        int xo = xc.offset();
        for (int i = 0; i < rows * e; i++)
            if (Float.isNaN(xd[xo + i]))
                throw new IllegalArgumentException("topk: NaN at row " + (i / e) + ", column " + (i % e)
                        + " of x with shape " + Shape.str(x.shape()));
        int[] idx = new int[rows * k];
        float[] val = StepArena.floats(rows * k);
        Backends.get().topkRows(xd, xo, rows, e, k, idx, 0, val, 0);
        int[] kept = idx.clone(); // the caller owns the returned indices and may overwrite them
        Tensor values = Tensor.of(val, rows, k);
        Autograd.record("topk", values, g -> {
            float[] dx = xc.gradBuffer();
            for (int t = 0; t < rows; t++)
                for (int j = 0; j < k; j++) dx[t * e + kept[t * k + j]] += g[t * k + j];
        }, xc);
        return new TopK(values, idx);
    }

    /** Number of selected entries per row. */
    public int k() { return values.dim(1); }
}
