package moelab.simd;

import static moelab.simd.Vec.L;
import static moelab.simd.Vec.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import moelab.kernels.Parallel;

/**
 * Top-k per row for router-sized rows (cols up to a few hundred, k small): idx, val [rows, k]
 * in descending order, ties to the lower column index.
 *
 * <p>For k <= L (the vector width) and rows of at least one vector a row takes four steps, with
 * no sorting and no data-dependent chain of cross-lane operations:
 * <ol>
 *   <li>Lane-wise max over the row's full vectors: lane j holds the max of x[j], x[j+L], ... .
 *   These L column maxima are L distinct elements, so at least k elements are >= the k-th
 *   largest of them: that is a lower bound (thr) for the k-th largest value of the row. Rows
 *   where it would be -inf (-inf logits) take the insertion path.</li>
 *   <li>One compare per vector finds the candidates x >= thr, as bits of a 64-bit mask, and
 *   they are gathered in column order: on random data about 12 of 64 for E=64, k=8 at 16
 *   lanes.</li>
 *   <li>If they fit in one vector, each candidate's rank is counted with one broadcast and two
 *   compares per candidate: rank(i) = #{j < i : v[j] >= v[i]} + #{j > i : v[j] > v[i]}, the
 *   position it has in the sorted order with ties to the lower column (see {@link #ranks}). The
 *   compares are independent of each other, unlike an insertion, whose steps each wait for the
 *   previous one.</li>
 *   <li>The candidates of rank < k go straight to their output positions.</li>
 * </ol>
 * More candidates than lanes (rare at 16 lanes; common at 8 lanes with k = 8) take a sorted
 * insertion buffer of one vector ({@link #bufferRow}). Larger k and rows shorter than a vector
 * use insertion into the output row itself, skipping values not above the current k-th.
 */
final class SimdTopK {
    /** Row elements per task below which one thread does all rows. */
    static final long MIN_TASK = 1 << 14;
    /** Column indices travel as floats in the vector buffer: exact up to 2^24. */
    private static final int MAX_VECTOR_COLS = 1 << 24;

    /** Lane i takes lane i-1 (lane 0 keeps lane 0; it is replaced by a blend). */
    private static final VectorShuffle<Float> SHIFT_DOWN = VectorShuffle.fromOp(S, i -> Math.max(0, i - 1));
    private static final VectorMask<Float> LANE0 = VectorMask.fromLong(S, 1L);

    private final Parallel parallel;

    SimdTopK(Parallel parallel) { this.parallel = parallel; }

    /** Per-task scratch: candidate values, their columns, their ranks (L each). */
    private static final class Scratch {
        final float[] values = new float[L], ranks = new float[L];
        final int[] columns = new int[L];
    }

    // x [rows, cols] -> idx, val [rows, k]
    void topkRows(float[] x, int xOff, int rows, int cols, int k, int[] idx, int idxOff, float[] val, int valOff) {
        if (k < 0 || k > cols) throw new IllegalArgumentException("topk: k=" + k + " must be in [0, " + cols + "]");
        if (k == 0 || rows <= 0) return;
        boolean vector = k <= L && cols < MAX_VECTOR_COLS;
        Ranges.forEach(parallel, rows, cols, MIN_TASK, 1, (r0, r1) -> {
            Scratch s = new Scratch();
            for (int r = r0; r < r1; r++) {
                if (vector) vectorRow(x, xOff + r * cols, cols, k, idx, idxOff + r * k, val, valOff + r * k, s);
                else insertionRow(x, xOff + r * cols, cols, k, idx, idxOff + r * k, val, valOff + r * k);
            }
        });
    }

    // x [cols] -> idx, val [k], k <= L
    private static void vectorRow(float[] x, int xr, int cols, int k, int[] idx, int ir, float[] val, int vr, Scratch s) {
        int bound = S.loopBound(cols);
        float thr = bound == 0 ? Float.NEGATIVE_INFINITY : threshold(x, xr, bound, k, s);
        if (!(thr > Float.NEGATIVE_INFINITY)) {
            // a row shorter than a vector, or -inf (or NaN) among the column maxima: the paths
            // below rely on every candidate being above -inf (their empty lanes hold -inf)
            insertionRow(x, xr, cols, k, idx, ir, val, vr);
            return;
        }
        // gather the candidates x >= thr in column order, while they fit in one vector
        float[] cv = s.values;
        int[] cc = s.columns;
        int n = 0;
        for (int base = 0; base < cols; base += 64) {
            long bits = candidates(x, xr, base, Math.min(base + 64, cols), bound, thr);
            if (n + Long.bitCount(bits) > L) {
                bufferRow(x, xr, cols, k, bound, thr, idx, ir, val, vr, s);
                return;
            }
            while (bits != 0) {
                int col = base + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                cv[n] = x[xr + col];
                cc[n++] = col;
            }
        }
        for (int i = n; i < L; i++) cv[i] = Float.NEGATIVE_INFINITY; // empty lanes rank last, and are not read
        ranks(cv, n, s.ranks);
        float[] rank = s.ranks;
        for (int i = 0; i < n; i++) {
            int r = (int) rank[i];
            if (r < k) {
                val[vr + r] = cv[i];
                idx[ir + r] = cc[i];
            }
        }
    }

    /** Bits (c - base) of the columns c in [base, end) with x[c] >= thr; full vectors below bound. */
    private static long candidates(float[] x, int xr, int base, int end, int bound, float thr) {
        // thr arrives as a float: a vector parameter of a call C2 does not inline is boxed
        FloatVector vthr = FloatVector.broadcast(S, thr);
        long bits = 0;
        int c = base, vend = Math.min(end, bound);
        for (; c < vend; c += L) bits |= FloatVector.fromArray(S, x, xr + c).compare(VectorOperators.GE, vthr).toLong() << (c - base);
        for (; c < end; c++) if (x[xr + c] >= thr) bits |= 1L << (c - base);
        return bits;
    }

    /**
     * v [L] (lanes >= n unused) -> rank [L]: rank[i] = #{j < i, j < n : v[j] >= v[i]} + #{i < j < n : v[j] > v[i]}
     * (as floats), the position of v[i] in descending order with ties to the lower lane; for
     * i < n the ranks are 0..n-1, each once. Two accumulators halve the chain of adds.
     */
    static void ranks(float[] v, int n, float[] rank) {
        FloatVector vals = FloatVector.fromArray(S, v, 0);
        FloatVector lane = FloatVector.zero(S).addIndex(1);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector even = FloatVector.zero(S), odd = FloatVector.zero(S);
        int j = 0;
        // lane j beats lane i when v[j] > v[i], or v[j] == v[i] and j < i. Written out twice
        // rather than in a helper: a mask returned from a call C2 does not inline is boxed.
        for (; j < n; j += 2) {
            FloatVector b = FloatVector.broadcast(S, v[j]);
            VectorMask<Float> beats = b.compare(VectorOperators.GT, vals)
                    .or(b.compare(VectorOperators.EQ, vals).and(lane.compare(VectorOperators.GT, (float) j)));
            even = even.add(one, beats);
            if (j + 1 == n) break;
            b = FloatVector.broadcast(S, v[j + 1]);
            beats = b.compare(VectorOperators.GT, vals)
                    .or(b.compare(VectorOperators.EQ, vals).and(lane.compare(VectorOperators.GT, (float) (j + 1))));
            odd = odd.add(one, beats);
        }
        even.add(odd).intoArray(rank, 0);
    }

    /**
     * A lower bound for the k-th largest value of the row (k <= L): the k-th largest of the L
     * column maxima over the full vectors [0, bound), which are L distinct elements: the
     * smallest of the maxima ranked below k. For k = 1 it is the row's max.
     */
    private static float threshold(float[] x, int xr, int bound, int k, Scratch s) {
        FloatVector colMax = FloatVector.fromArray(S, x, xr);
        for (int c = L; c < bound; c += L) colMax = colMax.max(FloatVector.fromArray(S, x, xr + c));
        if (k == 1) return colMax.reduceLanes(VectorOperators.MAX);
        if (k == L) return colMax.reduceLanes(VectorOperators.MIN);
        colMax.intoArray(s.values, 0);
        ranks(s.values, L, s.ranks);
        VectorMask<Float> topK = FloatVector.fromArray(S, s.ranks, 0).compare(VectorOperators.LT, (float) k);
        return colMax.reduceLanes(VectorOperators.MIN, topK);
    }

    /**
     * The row's top k (k <= L) by insertion of the candidates x >= thr, in column order, into a
     * sorted buffer of one vector of values and one of indices (held as floats, exact below
     * 2^24), with compares and blends: the lanes that hold a value >= the new one stay, the next
     * lane takes the new value, the rest shift down one lane. Equal values stay ahead of the
     * newcomer, which has the higher index.
     */
    private static void bufferRow(float[] x, int xr, int cols, int k, int bound, float thr,
                                  int[] idx, int ir, float[] val, int vr, Scratch s) {
        // vectors are made here, not kept in static fields: C2 keeps a loop-carried vector in a
        // register only when every value flowing into the loop is a vector it created itself
        FloatVector posInf = FloatVector.broadcast(S, Float.POSITIVE_INFINITY);
        FloatVector best = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), bestIdx = best;
        for (int base = 0; base < cols; base += 64) {
            long bits = candidates(x, xr, base, Math.min(base + 64, cols), bound, thr);
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
        float[] tv = s.values, ti = s.ranks;
        best.intoArray(tv, 0);
        bestIdx.intoArray(ti, 0);
        for (int j = 0; j < k; j++) {
            val[vr + j] = tv[j];
            idx[ir + j] = (int) ti[j];
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
