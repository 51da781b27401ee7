package moelab.ops;

import moelab.tensor.Autograd;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

/**
 * Row gathers and scatters for MoE routing: indexSelect dispatches token rows to an expert,
 * scatterAdd combines expert outputs back into token order, gather picks the router
 * probabilities of the chosen experts. Every backward accumulates, so duplicate indices are summed.
 */
public final class Indexing {
    private Indexing() {}

    /** x [n, d], rows [m] (each in [0, n)) -> out [m, d] with out[i] = x[rows[i]]. */
    public static Tensor indexSelect(Tensor x, int[] rows) {
        Shape.requireRank("indexSelect", x, 2);
        int n = x.dim(0);
        checkRange("indexSelect", "row index", rows, n, "x of shape " + Shape.str(x.shape()));
        return selectRows("indexSelect", x, rows);
    }

    /**
     * The gather behind indexSelect and the embedding lookup, rows already range-checked:
     * x [n, d], rows [m] -> [m, d]; backward scatter-adds (repeated rows sum their gradients).
     */
    static Tensor selectRows(String op, Tensor x, int[] rows) {
        int d = x.dim(1);
        int[] r = rows.clone(); // kept for backward; the caller may reuse its buffer
        Tensor xc = x.contiguous();
        float[] src = xc.data();
        int so = xc.offset();
        float[] y = StepArena.floats(r.length * d);
        for (int i = 0; i < r.length; i++) System.arraycopy(src, so + r[i] * d, y, i * d, d);
        Tensor out = Tensor.of(y, r.length, d);
        return Autograd.record(op, out, g -> {
            float[] dx = xc.gradBuffer();
            for (int i = 0; i < r.length; i++) addRow(g, i * d, dx, r[i] * d, d);
        }, xc);
    }

    /**
     * src [m, d], rows [m] (each in [0, outRows)) -> out [outRows, d] with out[rows[i]] += src[i];
     * rows nobody writes stay zero.
     */
    public static Tensor scatterAdd(Tensor src, int[] rows, int outRows) {
        Shape.requireRank("scatterAdd", src, 2);
        int m = src.dim(0), d = src.dim(1);
        if (rows.length != m)
            throw new ShapeException("scatterAdd: " + rows.length + " row indices for src of shape " + Shape.str(src.shape())
                    + " (need one per row)");
        if (outRows < 0) throw new ShapeException("scatterAdd: outRows must be >= 0, got " + outRows);
        checkRange("scatterAdd", "row index", rows, outRows, "outRows " + outRows);
        int[] r = rows.clone();
        Tensor sc = src.contiguous();
        float[] s = sc.data();
        int so = sc.offset();
        float[] y = StepArena.floats(outRows * d);
        for (int i = 0; i < m; i++) addRow(s, so + i * d, y, r[i] * d, d);
        Tensor out = Tensor.of(y, outRows, d);
        return Autograd.record("scatterAdd", out, g -> {
            float[] ds = sc.gradBuffer();
            for (int i = 0; i < m; i++) addRow(g, r[i] * d, ds, i * d, d);
        }, sc);
    }

    /**
     * x [T, E], idx [T*k] (each in [0, E)) -> out [T, k] with out[t, j] = x[t, idx[t*k + j]].
     */
    public static Tensor gather(Tensor x, int[] idx, int k) {
        Shape.requireRank("gather", x, 2);
        int rowsT = x.dim(0), e = x.dim(1);
        if (k < 0) throw new ShapeException("gather: k must be >= 0, got " + k);
        if ((long) rowsT * k != idx.length)
            throw new ShapeException("gather: " + idx.length + " indices for x of shape " + Shape.str(x.shape())
                    + " with k=" + k + " (need T*k = " + ((long) rowsT * k) + ")");
        checkRange("gather", "column index", idx, e, "x of shape " + Shape.str(x.shape()));
        int[] ix = idx.clone();
        Tensor xc = x.contiguous();
        float[] xd = xc.data();
        int xo = xc.offset();
        float[] y = StepArena.floats(rowsT * k);
        for (int t = 0; t < rowsT; t++)
            for (int j = 0; j < k; j++) y[t * k + j] = xd[xo + t * e + ix[t * k + j]];
        Tensor out = Tensor.of(y, rowsT, k);
        return Autograd.record("gather", out, g -> {
            float[] dx = xc.gradBuffer();
            for (int t = 0; t < rowsT; t++)
                for (int j = 0; j < k; j++) dx[t * e + ix[t * k + j]] += g[t * k + j];
        }, xc);
    }

    private static void addRow(float[] src, int so, float[] dst, int dOff, int d) {
        for (int c = 0; c < d; c++) dst[dOff + c] += src[so + c];
    }

    private static void checkRange(String op, String what, int[] ix, int bound, String against) {
        for (int i = 0; i < ix.length; i++)
            if (ix[i] < 0 || ix[i] >= bound)
                throw new ShapeException(op + ": " + what + " " + ix[i] + " at position " + i + " is outside [0, "
                        + bound + ") for " + against);
    }
}
