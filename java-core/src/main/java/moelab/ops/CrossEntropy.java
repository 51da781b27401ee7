package moelab.ops;

import java.util.Arrays;

import moelab.tensor.Autograd;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

/**
 * Fused, numerically stable softmax cross-entropy: one tape node from logits to the mean loss.
 * Only per-row scratch is allocated (a chunk of rows at a time), never a second [N, V] copy,
 * because with a real vocabulary the logits are the largest activation of the model.
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    /** Target value meaning "no loss at this position" (padding). */
    public static final int IGNORE = -1;

    /** Floats of scratch per chunk of rows (a few MB), so big vocabularies stay cache friendly. */
    private static final int CHUNK_FLOATS = 1 << 18;

    /**
     * logits [N, V], targets [N] (each in [0, V) or {@link #IGNORE}) -> loss [] = mean over the
     * counted rows of -log softmax(logits[r])[targets[r]]. With no counted row the loss is 0 and
     * the gradient is 0 (an all-padding batch contributes nothing rather than NaN).
     */
    public static Tensor crossEntropy(Tensor logits, int[] targets) {
        Shape.requireRank("crossEntropy", logits, 2);
        int rows = logits.dim(0), v = logits.dim(1);
        if (targets.length != rows)
            throw new ShapeException("crossEntropy: " + targets.length + " targets for logits of shape "
                    + Shape.str(logits.shape()) + " (need one per row)");
        int[] t = targets.clone(); // kept for backward; the caller may reuse its buffer
        int count = 0;
        for (int r = 0; r < rows; r++) {
            if (t[r] == IGNORE) continue;
            if (t[r] < 0 || t[r] >= v)
                throw new ShapeException("crossEntropy: target " + t[r] + " at row " + r + " is outside [0, " + v
                        + ") for logits of shape " + Shape.str(logits.shape()) + " (" + IGNORE + " means ignored)");
            count++;
        }
        Tensor xc = logits.contiguous();
        float[] x = xc.data();
        int xo = xc.offset();
        int chunk = chunkRows(rows, v);
        Kernels k = Backends.get();
        float[] logp = StepArena.floats(chunk * v);
        double nll = 0;
        for (int r0 = 0; r0 < rows; r0 += chunk) {
            int n = Math.min(chunk, rows - r0);
            k.logSoftmaxRows(x, xo + r0 * v, logp, 0, n, v);
            for (int r = r0; r < r0 + n; r++) if (t[r] != IGNORE) nll -= logp[(r - r0) * v + t[r]];
        }
        int counted = count;
        Tensor out = Tensor.scalar(counted == 0 ? 0f : (float) (nll / counted));
        return Autograd.record("crossEntropy", out, g -> {
            float[] dx = xc.gradBuffer(); // allocated even when nothing is counted: the gradient is 0, not absent
            if (counted == 0) return;
            // dlogits[r] += g/count * (softmax(logits[r]) - onehot(target[r])) for counted rows.
            float scale = g[0] / counted;
            float[] p = StepArena.floats(chunk * v);
            for (int r0 = 0; r0 < rows; r0 += chunk) {
                int n = Math.min(chunk, rows - r0);
                k.softmaxRows(x, xo + r0 * v, p, 0, n, v);
                // one axpy over the whole chunk (the kernels split it over their threads); ignored rows add 0
                for (int r = r0; r < r0 + n; r++) if (t[r] == IGNORE) Arrays.fill(p, (r - r0) * v, (r - r0 + 1) * v, 0f);
                k.axpy(scale, p, 0, dx, r0 * v, n * v);
                for (int r = r0; r < r0 + n; r++) if (t[r] != IGNORE) dx[r * v + t[r]] -= scale;
            }
        }, xc);
    }

    private static int chunkRows(int rows, int v) {
        return Math.max(1, Math.min(rows, CHUNK_FLOATS / Math.max(v, 1)));
    }
}
