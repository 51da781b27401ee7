package moelab.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import moelab.kernels.Parallel;

/**
 * Top-k per row for router-sized rows (cols up to a few hundred, k small): idx, val [rows, k]
 * in descending order, ties to the lower column index.
 *
 * <p>For k <= L (the vector width) a row takes three steps, with no sorting and few branches:
 * <ol>
 *   <li>Lane-wise max over the row's full vectors: lane j holds the max of x[j], x[j+L], ... .
 *   These L column maxima are L distinct elements, so at least k elements are >= the k-th
 *   largest of them: that is a lower bound (thr) for the k-th largest value of the row. Rows
 *   where it would be -inf (shorter than a vector, or -inf logits) take the insertion path.</li>
 *   <li>One compare per vector finds the candidates x >= thr, as bits of a 64-bit mask: on
 *   random data about 17 of 64 for E=64, k=8 (thr = min of the maxima), and few for small k.</li>
 *   <li>Each candidate, in column order, is inserted into a sorted buffer that is one vector of
 *   values and one of indices (held as floats, exact below 2^24), with compares and blends: the
 *   lanes that hold a value >= the new one stay, the next lane takes the new value, the rest
 *   shift down one lane. Equal values stay ahead of the newcomer, which has the higher index.</li>
 * </ol>
 * Larger k use insertion into the output row itself, skipping values not above the current k-th.
 */
final class SimdTopK {
    /**
     * 256 bits (8 lanes) at every width: router rows are short (E = 8..64), and on Zen 5 the
     * 8-lane form measured faster than the 16-lane one on every router shape (E:k 64:8 9.5 vs
     * 5.6 M rows/s, 8:2 29.7 vs 9.4-10.2, 32:4 13.6 vs 13.4-14.4; JMH TopKBench, one thread):
     * a row of 8 experts fits one 8-lane vector but not a 16-lane one, and the insertion buffer's
     * cross-lane shifts cost more at 16 lanes.
     */
    static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    static final int L = S.length();
    /** Row elements per task below which one thread does all rows. */
    static final long MIN_TASK = 1 << 14;
    /** Column indices travel as floats in the vector buffer: exact up to 2^24. */
    private static final int MAX_VECTOR_COLS = 1 << 24;

    /** Lane i takes lane i-1 (lane 0 keeps lane 0; it is replaced by a blend). */
    private static final VectorShuffle<Float> SHIFT_DOWN = VectorShuffle.fromOp(S, i -> Math.max(0, i - 1));
    private static final VectorMask<Float> LANE0 = VectorMask.fromLong(S, 1L);

    private final Parallel parallel;

    SimdTopK(Parallel parallel) { this.parallel = parallel; }

    // x [rows, cols] -> idx, val [rows, k]
    void topkRows(float[] x, int xOff, int rows, int cols, int k, int[] idx, int idxOff, float[] val, int valOff) {
        if (k < 0 || k > cols) throw new IllegalArgumentException("topk: k=" + k + " must be in [0, " + cols + "]");
        if (k == 0 || rows <= 0) return;
        boolean vector = k <= L && cols < MAX_VECTOR_COLS;
        Ranges.forEach(parallel, rows, cols, MIN_TASK, 1, (r0, r1) -> {
            float[] tv = new float[L], ti = new float[L];
            for (int r = r0; r < r1; r++) {
                if (vector) vectorRow(x, xOff + r * cols, cols, k, idx, idxOff + r * k, val, valOff + r * k, tv, ti);
                else insertionRow(x, xOff + r * cols, cols, k, idx, idxOff + r * k, val, valOff + r * k);
            }
        });
    }

    // x [cols] -> idx, val [k], k <= L; tv, ti [L] scratch
    static void vectorRow(float[] x, int xr, int cols, int k, int[] idx, int ir, float[] val, int vr, float[] tv, float[] ti) {
        int bound = S.loopBound(cols);
        float thr = bound == 0 ? Float.NEGATIVE_INFINITY : threshold(x, xr, bound, k);
        if (thr == Float.NEGATIVE_INFINITY) {
            // a row shorter than a vector, or -inf among the column maxima: the buffer below
            // relies on every candidate being above -inf (its empty lanes hold -inf)
            insertionRow(x, xr, cols, k, idx, ir, val, vr);
            return;
        }
        // vectors are made here, not kept in static fields: C2 keeps a loop-carried vector in a
        // register only when every value flowing into the loop is a vector it created itself
        FloatVector vthr = FloatVector.broadcast(S, thr);
        FloatVector posInf = FloatVector.broadcast(S, Float.POSITIVE_INFINITY);
        FloatVector best = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), bestIdx = best;
        // candidates of each 64-column chunk as mask bits, then inserted in column order
        for (int base = 0; base < cols; base += 64) {
            int end = Math.min(base + 64, cols), vend = Math.min(end, bound);
            long bits = 0;
            int c = base;
            for (; c < vend; c += L) bits |= FloatVector.fromArray(S, x, xr + c).compare(VectorOperators.GE, vthr).toLong() << (c - base);
            for (; c < end; c++) if (x[xr + c] >= thr) bits |= 1L << (c - base);
            while (bits != 0) {
                int col = base + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                // v > -inf, so empty lanes (-inf) never stay ahead of it
                FloatVector v = FloatVector.broadcast(S, x[xr + col]);
                FloatVector up = best.rearrange(SHIFT_DOWN).blend(posInf, LANE0); // up[j] = best[j-1], up[0] = +inf
                VectorMask<Float> stay = best.compare(VectorOperators.GE, v);   // equal values came first: they stay
                VectorMask<Float> here = up.compare(VectorOperators.GE, v);     // the first lane not staying takes v
                best = up.blend(v, here).blend(best, stay);
                bestIdx = bestIdx.rearrange(SHIFT_DOWN).blend((float) col, here).blend(bestIdx, stay);
            }
        }
        best.intoArray(tv, 0);
        bestIdx.intoArray(ti, 0);
        for (int j = 0; j < k; j++) {
            val[vr + j] = tv[j];
            idx[ir + j] = (int) ti[j];
        }
    }

    /**
     * A lower bound for the k-th largest value of the row (k <= L): the k-th largest of the L
     * column maxima over the full vectors [0, bound), which are L distinct elements. For k = L
     * that is their minimum; for small k the k-th largest, found by removing the largest k-1
     * times, is a much tighter bound (for k = 1 it is the row's max).
     */
    private static float threshold(float[] x, int xr, int bound, int k) {
        FloatVector colMax = FloatVector.fromArray(S, x, xr);
        for (int c = L; c < bound; c += L) colMax = colMax.max(FloatVector.fromArray(S, x, xr + c));
        if (k > L / 2) return colMax.reduceLanes(VectorOperators.MIN);
        FloatVector negInf = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int removed = 0;
        while (true) {
            float m = colMax.reduceLanes(VectorOperators.MAX);
            VectorMask<Float> eq = colMax.compare(VectorOperators.EQ, m);
            removed += eq.trueCount(); // equal maxima count once each
            if (removed >= k) return m;
            colMax = colMax.blend(negInf, eq);
        }
    }

    // x [cols] -> idx, val [k], k >= 1: insertion into the output row, kept sorted
    static void insertionRow(float[] x, int xr, int cols, int k, int[] idx, int ir, float[] val, int vr) {
        int n = 0;
        for (int c = 0; c < cols; c++) {
            float v = x[xr + c];
            if (n == k && !(v > val[vr + k - 1])) continue; // not above the k-th: ties keep the lower index
            int j = n < k ? n++ : k - 1;
            while (j > 0 && val[vr + j - 1] < v) {
                val[vr + j] = val[vr + j - 1];
                idx[ir + j] = idx[ir + j - 1];
                j--;
            }
            val[vr + j] = v;
            idx[ir + j] = c;
        }
    }
}
