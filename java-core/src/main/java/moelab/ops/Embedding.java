package moelab.ops;

import moelab.tensor.Shape;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

/** Token embedding lookup. */
public final class Embedding {
    private Embedding() {}

    /** table [V, d], ids [n] (each in [0, V)) -> out [n, d] with out[i] = table[ids[i]]. */
    public static Tensor embedding(Tensor table, int[] ids) {
        Shape.requireRank("embedding", table, 2);
        int v = table.dim(0);
        for (int i = 0; i < ids.length; i++)
            if (ids[i] < 0 || ids[i] >= v)
                throw new ShapeException("embedding: id " + ids[i] + " at position " + i + " is outside [0, " + v
                        + ") for table of shape " + Shape.str(table.shape()));
        return Indexing.selectRows("embedding", table, ids);
    }
}
