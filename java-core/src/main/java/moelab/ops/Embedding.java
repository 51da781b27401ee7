package moelab.ops;

import moelab.autograd.Autograd;
import moelab.tensor.Shape;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

/** Token embedding lookup. */
public final class Embedding {
    private Embedding() {}

    /** table [V, d], ids [n] (each in [0, V)) -> out [n, d] with out[i] = table[ids[i]]. */
    public static Tensor embedding(Tensor table, int[] ids) {
        Shape.requireRank("embedding", table, 2);
        int v = table.dim(0), d = table.dim(1);
        for (int i = 0; i < ids.length; i++)
            if (ids[i] < 0 || ids[i] >= v)
                throw new ShapeException("embedding: id " + ids[i] + " at position " + i + " is outside [0, " + v
                        + ") for table of shape " + Shape.str(table.shape()));
        int[] idx = ids.clone(); // kept for backward; the caller may reuse its buffer
        Tensor tc = table.contiguous();
        float[] src = tc.data();
        int so = tc.offset();
        float[] y = new float[idx.length * d];
        for (int i = 0; i < idx.length; i++) System.arraycopy(src, so + idx[i] * d, y, i * d, d);
        Tensor out = Tensor.of(y, idx.length, d);
        return Autograd.record("embedding", out, g -> {
            // Scatter-add: a token that appears several times sums its gradients.
            float[] dt = tc.gradBuffer();
            for (int i = 0; i < idx.length; i++) {
                int row = idx[i] * d, gi = i * d;
                for (int c = 0; c < d; c++) dt[row + c] += g[gi + c];
            }
        }, tc);
    }
}
