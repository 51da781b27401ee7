package moelab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * The kernel contract, checked for every non-GEMM kernel of {@link #candidate()} against the
 * {@link ScalarKernels} reference on awkward shapes: rows 0, 1, 3, 17; lengths around vector
 * widths (1..17, 31, 64, 100, 1000); nonzero offsets with guard cells around every output; extreme
 * logits; gradients pre-filled (backward kernels accumulate); null gradient outputs; a few
 * shapes large enough for the back end to use its threads.
 *
 * <p>Tolerances. Back ends may reorder sums (vector lanes, blocks), use fused multiply-add and
 * their own exp (about 1 ulp). So results are compared element by element against
 * {@code tol = (terms + c) * U * scale}, where U = 2^-24 is float32's unit roundoff, {@code terms}
 * the length of the longest sum that feeds the element (a sum of m floats in any order is within
 * (m-1) * U * sum|terms| of the exact one, for the reference and the candidate alike), c a few
 * ulps for exp/log/divide and the ops around them, and {@code scale} the sum of the absolute
 * values of everything that went into the element. Values below float's smallest normal number
 * (1.2e-38) carry no precision, so a difference under {@link #TINY} is always accepted. Ops that are
 * one IEEE operation per element (add, mul, scale) must match exactly, and top-k (no arithmetic)
 * must give the same indices and the same value bits.
 */
public abstract class KernelContractTest {

    /** The kernels under test. */
    protected abstract Kernels candidate();

    protected static final ScalarKernels REF = new ScalarKernels();
    /** float32 unit roundoff. */
    protected static final double U = 0x1p-24;
    /** Below float's smallest normal: differences this small are noise. */
    protected static final double TINY = 1e-37;
    protected static final int[] ROWS = {0, 1, 3, 17};
    protected static final int[] COLS = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100, 1000};
    /** Lengths for the elementwise kernels: the awkward ones plus two large enough for threads. */
    protected static final int[] LENGTHS = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100, 1000, 100_003, 300_001};
    private static final float GUARD = -12345.5f;

    // ------------------------------------------------------------------ buffers with guards

    /** A region [off, off + n) of a float[] with guard cells on both sides, to catch stray writes. */
    protected static final class Buf {
        final float[] a;
        final int off, n;

        Buf(int off, int n) {
            this.off = off;
            this.n = n;
            this.a = new float[off + n + 7];
            Arrays.fill(a, GUARD);
        }

        static Buf of(int off, int n, IntFunction<Float> gen) {
            Buf b = new Buf(off, n);
            for (int i = 0; i < n; i++) b.a[off + i] = gen.apply(i);
            return b;
        }

        float get(int i) { return a[off + i]; }

        Buf copy() {
            Buf b = new Buf(off, n);
            System.arraycopy(a, 0, b.a, 0, a.length);
            return b;
        }

        void checkGuards(String what) {
            for (int i = 0; i < a.length; i++)
                if ((i < off || i >= off + n) && Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(GUARD))
                    fail(what + ": wrote outside its region at array index " + i + " (region [" + off + ", " + (off + n) + "))");
        }
    }

    /** Deterministic data per test and shape. */
    protected static Random rnd(int... shape) { return new Random(31L * Arrays.hashCode(shape) + 7); }

    protected static float normal(Random r, double sd) { return (float) (r.nextGaussian() * sd); }

    /** Checks |act - exp| <= tol[i] (or <= TINY) for every element. */
    protected static void assertClose(String what, Buf exp, Buf act, double[] tol) {
        act.checkGuards(what);
        for (int i = 0; i < exp.n; i++) {
            double e = exp.get(i), a = act.get(i), d = Math.abs(a - e);
            if (Double.isNaN(e) != Double.isNaN(a) || (!Double.isNaN(e) && !(d <= tol[i]) && !(d <= TINY) && e != a))
                fail(what + ": element " + i + " expected " + e + " but was " + a + " (|diff| " + d + " > tol " + tol[i] + ")");
        }
    }

    protected static void assertBitsEqual(String what, Buf exp, Buf act) {
        act.checkGuards(what);
        for (int i = 0; i < exp.n; i++)
            if (Float.floatToRawIntBits(exp.get(i)) != Float.floatToRawIntBits(act.get(i)))
                fail(what + ": element " + i + " expected " + exp.get(i) + " but was " + act.get(i) + " (must be exact)");
    }

    private static String shape(String op, int rows, int cols) { return op + " [rows=" + rows + ", cols=" + cols + "]"; }

    // ------------------------------------------------------------------ data

    /**
     * Logits: row kinds cycle through plain normal, extreme (±80, where exp overflows without the
     * max subtraction), constant (uniform softmax) with a -inf (a masked logit), and large spread.
     */
    protected static Buf logits(int rows, int cols, int off) {
        Random r = rnd(rows, cols, off);
        return Buf.of(off, rows * cols, i -> {
            int row = i / cols, c = i % cols;
            return switch (row % 4) {
                case 0 -> normal(r, 2);
                case 1 -> r.nextBoolean() ? 80f + normal(r, 1) : -80f + normal(r, 1);
                case 2 -> c == cols / 2 && cols > 1 ? Float.NEGATIVE_INFINITY : 3.25f;
                default -> normal(r, 30);
            };
        });
    }

    // ------------------------------------------------------------------ softmax family

    @Test
    void softmaxRowsMatchesReference() {
        Kernels k = candidate();
        for (int rows : ROWS)
            for (int cols : COLS) softmaxCase(k, rows, cols);
        softmaxCase(k, 300, 515); // large enough to be split over threads
    }

    private void softmaxCase(Kernels k, int rows, int cols) {
        String what = shape("softmaxRows", rows, cols);
        Buf x = logits(rows, cols, 3), exp = new Buf(5, rows * cols), act = new Buf(5, rows * cols);
        REF.softmaxRows(x.a, x.off, exp.a, exp.off, rows, cols);
        k.softmaxRows(x.a, x.off, act.a, act.off, rows, cols);
        // each y = exp(..) / sum of cols terms: (cols - 1) U from the sum, a few ulps for exp and divide
        double[] tol = new double[rows * cols];
        for (int i = 0; i < tol.length; i++) tol[i] = (cols + 8) * U * Math.abs(exp.get(i));
        assertClose(what, exp, act, tol);
        x.checkGuards(what + " input");
        // in place (y = x) gives the same bits as out of place
        Buf inPlace = x.copy();
        k.softmaxRows(inPlace.a, inPlace.off, inPlace.a, inPlace.off, rows, cols);
        assertBitsEqual(what + " in place", act, inPlace);
    }

    @Test
    void logSoftmaxRowsMatchesReference() {
        Kernels k = candidate();
        for (int rows : ROWS)
            for (int cols : COLS) logSoftmaxCase(k, rows, cols);
        logSoftmaxCase(k, 300, 515);
    }

    private void logSoftmaxCase(Kernels k, int rows, int cols) {
        String what = shape("logSoftmaxRows", rows, cols);
        Buf x = logits(rows, cols, 1), exp = new Buf(6, rows * cols), act = new Buf(6, rows * cols);
        REF.logSoftmaxRows(x.a, x.off, exp.a, exp.off, rows, cols);
        k.logSoftmaxRows(x.a, x.off, act.a, act.off, rows, cols);
        // y = x - (max + log(sum)): the sum's relative error (cols U) becomes an absolute error of
        // log(sum); the subtractions round at the scale of |y|, |max| and log(cols)
        double[] tol = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, x.get(r * cols + c));
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                tol[i] = U * ((cols + 8) + 4 * (Math.abs(exp.get(i)) + Math.abs(max) + Math.log(cols) + 1));
            }
        }
        assertClose(what, exp, act, tol);
        Buf inPlace = x.copy();
        k.logSoftmaxRows(inPlace.a, inPlace.off, inPlace.a, inPlace.off, rows, cols);
        assertBitsEqual(what + " in place", act, inPlace);
    }

    @Test
    void softmaxBackwardAccumulatesLikeReference() {
        Kernels k = candidate();
        for (int rows : ROWS)
            for (int cols : COLS) softmaxBackwardCase(k, rows, cols);
        softmaxBackwardCase(k, 300, 515);
    }

    private void softmaxBackwardCase(Kernels k, int rows, int cols) {
        String what = shape("softmaxBackwardRows", rows, cols);
        Random r = rnd(rows, cols, 11);
        Buf x = logits(rows, cols, 2), y = new Buf(4, rows * cols);
        REF.softmaxRows(x.a, x.off, y.a, y.off, rows, cols);
        Buf dy = Buf.of(1, rows * cols, i -> normal(r, 1));
        Buf dx0 = Buf.of(9, rows * cols, i -> normal(r, 0.5)); // pre-filled: the kernel must add to it
        Buf exp = dx0.copy(), act = dx0.copy();
        REF.softmaxBackwardRows(y.a, y.off, dy.a, dy.off, exp.a, exp.off, rows, cols);
        k.softmaxBackwardRows(y.a, y.off, dy.a, dy.off, act.a, act.off, rows, cols);
        // dot(dy, y) is a sum of cols terms; the update adds three roundings
        double[] tol = new double[rows * cols];
        for (int rr = 0; rr < rows; rr++) {
            double dotAbs = 0;
            for (int c = 0; c < cols; c++) dotAbs += Math.abs(dy.get(rr * cols + c) * y.get(rr * cols + c));
            for (int c = 0; c < cols; c++) {
                int i = rr * cols + c;
                tol[i] = (cols + 8) * U * (Math.abs(dx0.get(i)) + Math.abs(y.get(i)) * (Math.abs(dy.get(i)) + dotAbs));
            }
        }
        assertClose(what, exp, act, tol);
    }

    // ------------------------------------------------------------------ RMSNorm

    /** Activations: normal rows, a scaled-up row and an all-zero row (invRms = 1/sqrt(eps)). */
    private static Buf activations(int rows, int cols, int off, long salt) {
        Random r = rnd(rows, cols, off, (int) salt);
        return Buf.of(off, rows * cols, i -> switch ((i / cols) % 3) {
            case 0 -> normal(r, 1);
            case 1 -> normal(r, 40);
            default -> 0f;
        });
    }

    @Test
    void rmsnormForwardMatchesReference() {
        Kernels k = candidate();
        for (int rows : ROWS)
            for (int cols : COLS) rmsnormForwardCase(k, rows, cols);
        rmsnormForwardCase(k, 300, 515);
    }

    private void rmsnormForwardCase(Kernels k, int rows, int cols) {
        String what = shape("rmsnormForward", rows, cols);
        Random r = rnd(rows, cols, 5);
        Buf x = activations(rows, cols, 2, 1), w = Buf.of(3, cols, i -> 1f + normal(r, 0.3));
        Buf expY = new Buf(1, rows * cols), actY = new Buf(1, rows * cols);
        Buf expInv = new Buf(4, rows), actInv = new Buf(4, rows);
        REF.rmsnormForward(x.a, x.off, w.a, w.off, expY.a, expY.off, expInv.a, expInv.off, rows, cols, 1e-5f);
        k.rmsnormForward(x.a, x.off, w.a, w.off, actY.a, actY.off, actInv.a, actInv.off, rows, cols, 1e-5f);
        // invRms comes from a sum of cols squares; y = x * invRms * w adds two roundings
        double[] tolInv = new double[rows], tolY = new double[rows * cols];
        for (int i = 0; i < rows; i++) tolInv[i] = (cols + 8) * U * Math.abs(expInv.get(i));
        for (int i = 0; i < rows * cols; i++) tolY[i] = (cols + 12) * U * Math.abs(expY.get(i));
        assertClose(what + " invRms", expInv, actInv, tolInv);
        assertClose(what + " y", expY, actY, tolY);
    }

    @Test
    void rmsnormBackwardAccumulatesLikeReference() {
        Kernels k = candidate();
        for (int rows : ROWS)
            for (int cols : COLS)
                for (int nulls = 0; nulls < 4; nulls++) rmsnormBackwardCase(k, rows, cols, nulls);
        for (int nulls = 0; nulls < 4; nulls++) rmsnormBackwardCase(k, 300, 515, nulls);
    }

    /** nulls: 0 both outputs, 1 dx null, 2 dw null, 3 both null (nothing to do). */
    private void rmsnormBackwardCase(Kernels k, int rows, int cols, int nulls) {
        String what = shape("rmsnormBackward", rows, cols) + (nulls == 1 ? " dx=null" : nulls == 2 ? " dw=null" : nulls == 3 ? " dx=dw=null" : "");
        Random r = rnd(rows, cols, 9);
        Buf x = activations(rows, cols, 3, 2), w = Buf.of(2, cols, i -> 1f + normal(r, 0.3));
        Buf y = new Buf(0, rows * cols), inv = new Buf(5, rows);
        REF.rmsnormForward(x.a, x.off, w.a, w.off, y.a, y.off, inv.a, inv.off, rows, cols, 1e-5f);
        Buf dy = Buf.of(1, rows * cols, i -> normal(r, 1));
        Buf dx0 = Buf.of(6, rows * cols, i -> normal(r, 0.5)), dw0 = Buf.of(2, cols, i -> normal(r, 0.5));
        Buf expDx = dx0.copy(), actDx = dx0.copy(), expDw = dw0.copy(), actDw = dw0.copy();
        boolean withDx = nulls == 0 || nulls == 2, withDw = nulls == 0 || nulls == 1;
        REF.rmsnormBackward(x.a, x.off, w.a, w.off, inv.a, inv.off, dy.a, dy.off,
                withDx ? expDx.a : null, expDx.off, withDw ? expDw.a : null, expDw.off, rows, cols);
        k.rmsnormBackward(x.a, x.off, w.a, w.off, inv.a, inv.off, dy.a, dy.off,
                withDx ? actDx.a : null, actDx.off, withDw ? actDw.a : null, actDw.off, rows, cols);
        double[] tolDx = new double[rows * cols], tolDw = new double[cols];
        for (int rr = 0; rr < rows; rr++) {
            double iv = inv.get(rr), meanAbs = 0;
            for (int c = 0; c < cols; c++)
                meanAbs += Math.abs(w.get(c) * dy.get(rr * cols + c) * x.get(rr * cols + c) * iv) / cols;
            for (int c = 0; c < cols; c++) {
                int i = rr * cols + c;
                double xh = Math.abs(x.get(i) * iv);
                tolDx[i] = (cols + 8) * U * (Math.abs(dx0.get(i)) + iv * (Math.abs(w.get(c) * dy.get(i)) + xh * meanAbs));
                tolDw[c] += Math.abs(dy.get(i)) * xh;
            }
        }
        for (int c = 0; c < cols; c++) tolDw[c] = (rows + 8) * U * (Math.abs(dw0.get(c)) + tolDw[c]);
        assertClose(what + " dx", expDx, actDx, tolDx);
        assertClose(what + " dw", expDw, actDw, tolDw);
        if (!withDx) assertBitsEqual(what + " untouched dx", dx0, actDx);
        if (!withDw) assertBitsEqual(what + " untouched dw", dw0, actDw);
    }

    // ------------------------------------------------------------------ SwiGLU

    /** Gate pre-activations: normal, plus the extremes where exp overflows or the sigmoid saturates. */
    private static Buf gates(int n, int off) {
        Random r = rnd(n, off, 17);
        float[] special = {0f, -0f, 100f, -100f, 20f, -20f, 88.5f, -88.5f, 17f, -17f, 1e-30f};
        return Buf.of(off, n, i -> i % 13 < special.length && i % 3 == 0 ? special[i % 13] : normal(r, 4));
    }

    @Test
    void swigluForwardMatchesReference() {
        Kernels k = candidate();
        for (int n : LENGTHS) {
            String what = "swigluForward [n=" + n + "]";
            Random r = rnd(n, 3);
            Buf a = gates(n, 3), b = Buf.of(5, n, i -> normal(r, 2));
            Buf exp = new Buf(2, n), act = new Buf(2, n);
            REF.swigluForward(a.a, a.off, b.a, b.off, exp.a, exp.off, n);
            k.swigluForward(a.a, a.off, b.a, b.off, act.a, act.off, n);
            // h = a * s * b: exp, add, divide for s, two multiplies: a few ulps
            double[] tol = new double[n];
            for (int i = 0; i < n; i++) tol[i] = 16 * U * Math.abs(exp.get(i));
            assertClose(what, exp, act, tol);
            // h may alias a or b
            Buf ha = a.copy(), hb = b.copy();
            k.swigluForward(ha.a, ha.off, b.a, b.off, ha.a, ha.off, n);
            k.swigluForward(a.a, a.off, hb.a, hb.off, hb.a, hb.off, n);
            assertBitsEqual(what + " h=a", act, ha);
            assertBitsEqual(what + " h=b", act, hb);
        }
    }

    @Test
    void swigluBackwardAccumulatesLikeReference() {
        Kernels k = candidate();
        for (int n : LENGTHS)
            for (int nulls = 0; nulls < 4; nulls++) {
                boolean withDa = nulls == 0 || nulls == 2, withDb = nulls == 0 || nulls == 1;
                String what = "swigluBackward [n=" + n + "]" + (withDa ? "" : " da=null") + (withDb ? "" : " db=null");
                Random r = rnd(n, nulls, 4);
                Buf a = gates(n, 1), b = Buf.of(4, n, i -> normal(r, 2)), dh = Buf.of(2, n, i -> normal(r, 1));
                Buf da0 = Buf.of(3, n, i -> normal(r, 0.5)), db0 = Buf.of(6, n, i -> normal(r, 0.5));
                Buf expDa = da0.copy(), actDa = da0.copy(), expDb = db0.copy(), actDb = db0.copy();
                REF.swigluBackward(a.a, a.off, b.a, b.off, dh.a, dh.off, withDa ? expDa.a : null, expDa.off, withDb ? expDb.a : null, expDb.off, n);
                k.swigluBackward(a.a, a.off, b.a, b.off, dh.a, dh.off, withDa ? actDa.a : null, actDa.off, withDb ? actDb.a : null, actDb.off, n);
                // silu'(a) = s (1 + a (1 - s)): 1 - s carries s's absolute error (~U) times |a|
                double[] tolDa = new double[n], tolDb = new double[n];
                for (int i = 0; i < n; i++) {
                    double av = a.get(i), s = 1 / (1 + Math.exp(-av)), g = dh.get(i);
                    tolDa[i] = 16 * U * (Math.abs(da0.get(i)) + Math.abs(g * b.get(i)) * (1 + Math.abs(av)));
                    tolDb[i] = 16 * U * (Math.abs(db0.get(i)) + Math.abs(g * av * s));
                }
                assertClose(what + " da", expDa, actDa, tolDa);
                assertClose(what + " db", expDb, actDb, tolDb);
                if (!withDa) assertBitsEqual(what + " untouched da", da0, actDa);
                if (!withDb) assertBitsEqual(what + " untouched db", db0, actDb);
            }
    }

    // ------------------------------------------------------------------ top-k

    /**
     * Row kinds: normal; small integers (many ties); all equal; infinities and signed zeros;
     * sorted ascending (every new element enters the top-k).
     */
    protected static Buf scores(int rows, int cols, int off) {
        Random r = rnd(rows, cols, off, 23);
        float[] special = {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, 0f, -0f, 1f, -1f};
        return Buf.of(off, rows * cols, i -> {
            int c = i % cols;
            return switch ((i / cols) % 5) {
                case 0 -> normal(r, 1);
                case 1 -> (float) r.nextInt(4);
                case 2 -> -2.5f;
                case 3 -> special[r.nextInt(special.length)];
                default -> c * 0.5f;
            };
        });
    }

    private static int[] topks(int cols) {
        return Arrays.stream(new int[]{0, 1, 2, 4, 8, 9, 16, 17, cols}).filter(v -> v <= cols).distinct().toArray();
    }

    @Test
    void topkRowsMatchesReferenceExactly() {
        Kernels k = candidate();
        for (int rows : ROWS)
            for (int cols : COLS)
                for (int kk : topks(cols)) topkCase(k, rows, cols, kk);
        topkCase(k, 5000, 64, 8); // large enough to be split over threads
        topkCase(k, 5000, 8, 2);
        topkCase(k, 3000, 32, 4);
    }

    private void topkCase(Kernels k, int rows, int cols, int kk) {
        String what = shape("topkRows", rows, cols) + " k=" + kk;
        Buf x = scores(rows, cols, 4);
        int n = rows * kk, idxOff = 3;
        int[] expIdx = new int[idxOff + n + 5], actIdx = new int[idxOff + n + 5];
        Arrays.fill(actIdx, -7);
        Buf expVal = new Buf(2, n), actVal = new Buf(2, n);
        REF.topkRows(x.a, x.off, rows, cols, kk, expIdx, idxOff, expVal.a, expVal.off);
        k.topkRows(x.a, x.off, rows, cols, kk, actIdx, idxOff, actVal.a, actVal.off);
        assertArrayEquals(Arrays.copyOfRange(expIdx, idxOff, idxOff + n), Arrays.copyOfRange(actIdx, idxOff, idxOff + n), what + " indices");
        for (int i = 0; i < actIdx.length; i++)
            if (i < idxOff || i >= idxOff + n) assertEquals(-7, actIdx[i], what + ": wrote idx outside its region at " + i);
        assertBitsEqual(what + " values", expVal, actVal);
    }

    /**
     * Attention (and RoPE) run their heads as tasks of forEachTask, each calling the kernels from its own
     * thread: outputs and gradients are bit-identical to the same kernels with the tasks run in
     * order on the caller (a wrapper that keeps the default forEachTask).
     */
    @Test
    void attentionHeadsAsTasksGiveTheSameBitsAsInOrder() {
        Kernels k = candidate();
        Kernels inOrder = new ForwardingKernels(k) {};
        int[][] shapes = {{1, 1, 1, 2}, {2, 3, 70, 8}, {2, 4, 131, 32}};
        for (int[] sh : shapes) {
            float[][] want = attention(inOrder, sh), got = attention(k, sh);
            for (int i = 0; i < want.length; i++)
                assertArrayEquals(want[i], got[i], "attention " + Arrays.toString(sh) + " output/dq/dk/dv " + i);
        }
    }

    /** The MoE expert op splits gather, combine and their backward over tasks: the same bits as in order. */
    @Test
    void moeExpertsOpGivesTheSameBitsAsInOrder() {
        Kernels k = candidate();
        Kernels inOrder = new ForwardingKernels(k) {};
        int[][] shapes = {{1, 3, 2, 1, 5}, {131, 8, 4, 2, 12}, {300, 16, 8, 8, 24}}; // T, d, E, k, f (k = E in the last)
        for (int[] sh : shapes) {
            float[][] want = moeExperts(inOrder, sh), got = moeExperts(k, sh);
            for (int i = 0; i < want.length; i++)
                assertArrayEquals(want[i], got[i], "moe experts " + Arrays.toString(sh) + " output/dx/dgates/dw1/dw3/dw2 " + i);
        }
    }

    /** out and the gradients of x, gates, w1, w3, w2 of the MoE expert op on kernels k, seeded routes with some dropped. */
    private static float[][] moeExperts(Kernels k, int[] sh) {
        Kernels previous = Backends.get();
        Backends.use(k);
        try {
            int t = sh[0], d = sh[1], e = sh[2], topk = sh[3], f = sh[4];
            Random r = rnd(sh);
            moelab.tensor.Tensor x = moelab.tensor.Tensor.randn(r, 1f, t, d).requiresGrad(true),
                    gates = moelab.tensor.Tensor.randn(r, 1f, t, topk).requiresGrad(true),
                    w1 = moelab.tensor.Tensor.randn(r, 0.3f, e, d, f).requiresGrad(true),
                    w3 = moelab.tensor.Tensor.randn(r, 0.3f, e, d, f).requiresGrad(true),
                    w2 = moelab.tensor.Tensor.randn(r, 0.3f, e, f, d).requiresGrad(true);
            int[] experts = new int[t * topk];
            boolean[] kept = new boolean[t * topk];
            for (int tok = 0; tok < t; tok++) {
                int first = r.nextInt(e);
                for (int j = 0; j < topk; j++) { // distinct experts per token, in descending order
                    experts[tok * topk + j] = (first + topk - 1 - j) % e;
                    kept[tok * topk + j] = r.nextInt(7) != 0;
                }
            }
            moelab.tensor.Tensor out = moelab.nn.MoeExperts.forward(x, gates, w1, w3, w2, experts, kept).out();
            moelab.ops.Reduce.sumAll(moelab.ops.Elementwise.mul(out, moelab.tensor.Tensor.randn(r, 1f, t, d))).backward();
            return new float[][] {out.toArray(), x.grad().clone(), gates.grad().clone(), w1.grad().clone(), w3.grad().clone(), w2.grad().clone()};
        } finally {
            Backends.use(previous);
        }
    }

    /** out, dq, dk, dv of token-major RoPE + causal attention [B*S, H*Dh] on kernels k, from seeded inputs. */
    private static float[][] attention(Kernels k, int[] sh) {
        Kernels previous = Backends.get();
        Backends.use(k);
        try {
            Random r = rnd(sh[0], sh[1], sh[2], sh[3]);
            int rows = sh[0] * sh[2], cols = sh[1] * sh[3];
            moelab.tensor.Tensor[] qkv = new moelab.tensor.Tensor[3];
            for (int i = 0; i < 3; i++) qkv[i] = moelab.tensor.Tensor.randn(r, 1f, rows, cols).requiresGrad(true);
            moelab.tensor.Tensor q = moelab.ops.Attention.ropeHeads(qkv[0], sh[0], sh[1], 10000), kr = moelab.ops.Attention.ropeHeads(qkv[1], sh[0], sh[1], 10000);
            moelab.tensor.Tensor out = moelab.ops.Attention.causalHeads(q, kr, qkv[2], sh[0], sh[1]);
            moelab.tensor.Tensor w = moelab.tensor.Tensor.randn(r, 1f, rows, cols);
            moelab.ops.Reduce.sumAll(moelab.ops.Elementwise.mul(out, w)).backward();
            return new float[][] {out.toArray(), qkv[0].grad().clone(), qkv[1].grad().clone(), qkv[2].grad().clone()};
        } finally {
            Backends.use(previous);
        }
    }

    @Test
    void topkRejectsBadK() {
        Kernels k = candidate();
        float[] x = {1, 2, 3};
        assertThrows(IllegalArgumentException.class, () -> k.topkRows(x, 0, 1, 3, 4, new int[4], 0, new float[4], 0));
        assertThrows(IllegalArgumentException.class, () -> k.topkRows(x, 0, 1, 3, -1, new int[4], 0, new float[4], 0));
    }

    // ------------------------------------------------------------------ elementwise

    @Test
    void addMulScaleMatchReferenceExactly() {
        Kernels k = candidate();
        for (int n : LENGTHS) {
            Random r = rnd(n, 2);
            Buf a = Buf.of(1, n, i -> normal(r, 3)), b = Buf.of(4, n, i -> normal(r, 3));
            // one IEEE operation per element: every back end must give the same bits
            Buf exp = new Buf(2, n), act = new Buf(2, n);
            REF.add(a.a, a.off, b.a, b.off, exp.a, exp.off, n);
            k.add(a.a, a.off, b.a, b.off, act.a, act.off, n);
            assertBitsEqual("add [n=" + n + "]", exp, act);
            Buf inPlace = a.copy();
            k.add(inPlace.a, inPlace.off, b.a, b.off, inPlace.a, inPlace.off, n);
            assertBitsEqual("add [n=" + n + "] out=a", exp, inPlace);

            REF.mul(a.a, a.off, b.a, b.off, exp.a, exp.off, n);
            k.mul(a.a, a.off, b.a, b.off, act.a, act.off, n);
            assertBitsEqual("mul [n=" + n + "]", exp, act);
            inPlace = b.copy();
            k.mul(a.a, a.off, inPlace.a, inPlace.off, inPlace.a, inPlace.off, n);
            assertBitsEqual("mul [n=" + n + "] out=b", exp, inPlace);

            Buf se = a.copy(), sa = a.copy();
            REF.scale(-0.37f, se.a, se.off, n);
            k.scale(-0.37f, sa.a, sa.off, n);
            assertBitsEqual("scale [n=" + n + "]", se, sa);
        }
    }

    @Test
    void adamwUpdateMatchesReferenceExactly() {
        Kernels k = candidate();
        for (int n : LENGTHS) {
            for (float decay : new float[] {0f, 3e-5f}) {
                Random r = rnd(n, 9);
                // w at an offset with guards; g, m, v from 0; v >= 0 as a second moment is
                Buf w = Buf.of(3, n, i -> normal(r, 1));
                float[] g = new float[n], m = new float[n], v = new float[n];
                for (int i = 0; i < n; i++) {
                    g[i] = normal(r, i % 5 == 0 ? 1e-4 : 1);
                    m[i] = normal(r, 0.1);
                    v[i] = i % 7 == 0 ? 0f : Math.abs(normal(r, 0.01));
                }
                Buf we = w.copy(), wa = w.copy();
                float[] me = m.clone(), ma = m.clone(), ve = v.clone(), va = v.clone();
                // step 3 of lr 1e-3, betas 0.9 / 0.95, eps 1e-8
                float stepSize = (float) (1e-3 / (1 - Math.pow(0.9, 3))), invSqrtBc2 = (float) (1 / Math.sqrt(1 - Math.pow(0.95, 3)));
                REF.adamwUpdate(we.a, we.off, g, me, ve, n, 0.9f, 0.95f, 1e-8f, stepSize, invSqrtBc2, decay);
                k.adamwUpdate(wa.a, wa.off, g, ma, va, n, 0.9f, 0.95f, 1e-8f, stepSize, invSqrtBc2, decay);
                String what = "adamwUpdate [n=" + n + ", decay=" + decay + "]";
                // elementwise, one fixed operation order: every back end gives the same bits
                assertBitsEqual(what + " w", we, wa);
                assertArrayEquals(me, ma, 0f, what + " m");
                assertArrayEquals(ve, va, 0f, what + " v");
            }
        }
    }

    @Test
    void axpyMatchesReference() {
        Kernels k = candidate();
        for (int n : LENGTHS) {
            Random r = rnd(n, 5);
            Buf x = Buf.of(3, n, i -> normal(r, 3)), y0 = Buf.of(1, n, i -> normal(r, 3));
            Buf exp = y0.copy(), act = y0.copy();
            REF.axpy(1.7f, x.a, x.off, exp.a, exp.off, n);
            k.axpy(1.7f, x.a, x.off, act.a, act.off, n);
            // a fused multiply-add rounds once instead of twice
            double[] tol = new double[n];
            for (int i = 0; i < n; i++) tol[i] = 2 * U * (Math.abs(y0.get(i)) + Math.abs(1.7 * x.get(i)));
            assertClose("axpy [n=" + n + "]", exp, act, tol);
        }
    }

    @Test
    void sumAndDotMatchReference() {
        Kernels k = candidate();
        for (int n : LENGTHS) {
            Random r = rnd(n, 6);
            Buf a = Buf.of(2, n, i -> normal(r, 1) + 0.25f), b = Buf.of(5, n, i -> normal(r, 1));
            double absSum = 0, absDot = 0;
            for (int i = 0; i < n; i++) {
                absSum += Math.abs(a.get(i));
                absDot += Math.abs(a.get(i) * b.get(i));
            }
            // both sums are within (n-1) U sum|terms| of the exact one, whatever their order
            assertEquals(REF.sum(a.a, a.off, n), k.sum(a.a, a.off, n), 2 * (n + 1) * U * absSum, "sum [n=" + n + "]");
            assertEquals(REF.dot(a.a, a.off, b.a, b.off, n), k.dot(a.a, a.off, b.a, b.off, n), 2 * (n + 2) * U * absDot, "dot [n=" + n + "]");
        }
    }

    // ------------------------------------------------------------------ determinism

    /**
     * The same call must give the same bits before and after the JIT compiles the kernel (a
     * vector library routine that differs from its interpreted fallback by an ulp breaks this).
     */
    @Test
    void sameBitsBeforeAndAfterJitWarmUp() {
        Kernels k = candidate();
        float[] before = everyKernelOnce(k);
        for (int i = 0; i < 3000; i++) everyKernelOnce(k);
        float[] after = everyKernelOnce(k);
        for (int i = 0; i < before.length; i++)
            if (Float.floatToRawIntBits(before[i]) != Float.floatToRawIntBits(after[i]))
                fail("output " + i + " changed after JIT warm-up: " + before[i] + " then " + after[i]);
    }

    /** Runs each arithmetic kernel on small fixed inputs (vector body and tail) and returns all outputs. */
    private static float[] everyKernelOnce(Kernels k) {
        int rows = 4, cols = 37, n = rows * cols;
        Random r = new Random(99);
        float[] x = new float[n], b = new float[n], g = new float[n], w = new float[cols];
        for (int i = 0; i < n; i++) {
            x[i] = normal(r, 3);
            b[i] = normal(r, 1);
            g[i] = normal(r, 1);
        }
        for (int i = 0; i < cols; i++) w[i] = 1f + normal(r, 0.2);
        float[] out = new float[9 * n + rows + cols + 2];
        int o = 0;
        k.softmaxRows(x, 0, out, o, rows, cols);
        k.softmaxBackwardRows(out, o, g, 0, out, o + n, rows, cols);
        k.logSoftmaxRows(x, 0, out, o += 2 * n, rows, cols);
        k.rmsnormForward(x, 0, w, 0, out, o += n, out, o + n, rows, cols, 1e-5f);
        k.rmsnormBackward(x, 0, w, 0, out, o + n, g, 0, out, o + n + rows, out, o + 2 * n + rows, rows, cols);
        o += 2 * n + rows + cols;
        k.swigluForward(x, 0, b, 0, out, o, n);
        k.swigluBackward(x, 0, b, 0, g, 0, out, o + n, out, o + 2 * n, n);
        k.axpy(0.5f, x, 0, out, o + 2 * n, n);
        out[o + 3 * n] = k.sum(x, 0, n);
        out[o + 3 * n + 1] = k.dot(x, 0, b, 0, n);
        return out;
    }

    @Test
    void repeatedCallsGiveTheSameBits() {
        Kernels k = candidate();
        int rows = 300, cols = 515, n = rows * cols;
        Buf x = logits(rows, cols, 0);
        Buf y1 = new Buf(0, n), y2 = new Buf(0, n);
        k.softmaxRows(x.a, 0, y1.a, 0, rows, cols);
        k.softmaxRows(x.a, 0, y2.a, 0, rows, cols);
        assertBitsEqual("softmaxRows twice", y1, y2);
        Random r = rnd(n, 8);
        Buf a = Buf.of(0, n, i -> normal(r, 1)), b = Buf.of(0, n, i -> normal(r, 1));
        assertEquals(Float.floatToRawIntBits(k.sum(a.a, 0, n)), Float.floatToRawIntBits(k.sum(a.a, 0, n)), "sum twice");
        assertEquals(Float.floatToRawIntBits(k.dot(a.a, 0, b.a, 0, n)), Float.floatToRawIntBits(k.dot(a.a, 0, b.a, 0, n)), "dot twice");
    }

    // ------------------------------------------------------------------ memory similarity (MAR)

    /** Tokens, widths, experts and active patterns for the memory-similarity kernels. */
    private static final int[] SIM_TOKENS = {0, 1, 3, 17, 131};
    private static final int[] SIM_D = {1, 7, 8, 9, 31, 100};
    private static final int[] SIM_E = {1, 3, 8, 13};

    /** Active pattern: 0 all, 1 every other, 2 none. */
    private static boolean[] simActive(int experts, int pattern) {
        boolean[] a = new boolean[experts];
        for (int i = 0; i < experts; i++) a[i] = pattern == 0 || (pattern == 1 && i % 2 == 0);
        return a;
    }

    /** Rows of x: normal, with every 5th row zero and every 7th tiny (its norm product falls under eps). */
    private static Buf simX(int tokens, int d, int off) {
        Random r = rnd(tokens, d, off, 11);
        return Buf.of(off, tokens * d, i -> {
            int t = i / d;
            if (t % 5 == 4) return 0f;
            return t % 7 == 6 ? normal(r, 1e-5) : normal(r, 1.5);
        });
    }

    /** Preference vectors: expert 1 is a zero vector (active or not), expert 2 NaN-free but large. */
    private static float[] simP(int experts, int d) {
        Random r = rnd(experts, d, 12);
        float[] p = new float[experts * d];
        for (int i = 0; i < experts * d; i++) {
            int e = i / d;
            p[i] = e == 1 ? 0f : e == 2 ? normal(r, 40) : normal(r, 0.7);
        }
        return p;
    }

    private static float simNorm(float[] v, int off, int d) {
        double s = 0;
        for (int j = 0; j < d; j++) s += (double) v[off + j] * v[off + j];
        return (float) Math.sqrt(s);
    }

    @Test
    void memorySimilarityMatchesReference() {
        Kernels k = candidate();
        for (int tokens : SIM_TOKENS) for (int d : SIM_D) for (int experts : SIM_E) for (int pattern = 0; pattern < 3; pattern++) {
            String what = "memorySimilarity [T=" + tokens + ", d=" + d + ", E=" + experts + ", active pattern " + pattern + "]";
            boolean[] active = simActive(experts, pattern);
            Buf x = simX(tokens, d, 3);
            float[] p = simP(experts, d);
            Buf exp = new Buf(2, tokens * experts), act = new Buf(2, tokens * experts);
            REF.memorySimilarity(x.a, x.off, p, active, exp.a, exp.off, tokens, experts, d);
            k.memorySimilarity(x.a, x.off, p, active, act.a, act.off, tokens, experts, d);
            double[] tol = new double[tokens * experts];
            for (int t = 0; t < tokens; t++) {
                float xn = simNorm(x.a, x.off + t * d, d);
                for (int i = 0; i < experts; i++) {
                    double abs = 0;
                    for (int j = 0; j < d; j++) abs += Math.abs(x.a[x.off + t * d + j] * p[i * d + j]);
                    double denom = Math.max(xn * simNorm(p, i * d, d), Kernels.COSINE_EPS);
                    // the dot (d terms) and both norms (d terms each) may be summed in any order
                    tol[t * experts + i] = (3.0 * d + 10) * U * (abs / denom + Math.abs(exp.get(t * experts + i)));
                }
            }
            assertClose(what, exp, act, tol);
            for (int t = 0; t < tokens; t++)
                for (int i = 0; i < experts; i++)
                    if (!active[i] && act.get(t * experts + i) != 0f) fail(what + ": inactive expert " + i + " scored " + act.get(t * experts + i));
        }
    }

    @Test
    void memorySimilarityBackwardAccumulatesLikeReference() {
        Kernels k = candidate();
        for (int tokens : SIM_TOKENS) for (int d : SIM_D) for (int experts : SIM_E) for (int pattern = 0; pattern < 3; pattern++) {
            String what = "memorySimilarityBackward [T=" + tokens + ", d=" + d + ", E=" + experts + ", active pattern " + pattern + "]";
            boolean[] active = simActive(experts, pattern);
            Buf x = simX(tokens, d, 1);
            float[] p = simP(experts, d);
            Buf m = new Buf(2, tokens * experts);
            REF.memorySimilarity(x.a, x.off, p, active, m.a, m.off, tokens, experts, d);
            Random r = rnd(tokens, d, experts, pattern, 13);
            Buf dm = Buf.of(5, tokens * experts, i -> normal(r, 1));
            Buf dx0 = Buf.of(4, tokens * d, i -> normal(r, 0.5));
            Buf exp = dx0.copy(), act = dx0.copy();
            REF.memorySimilarityBackward(x.a, x.off, p, active, m.a, m.off, dm.a, dm.off, exp.a, exp.off, tokens, experts, d);
            k.memorySimilarityBackward(x.a, x.off, p, active, m.a, m.off, dm.a, dm.off, act.a, act.off, tokens, experts, d);
            double[] tol = new double[tokens * d];
            for (int t = 0; t < tokens; t++) {
                float xn = simNorm(x.a, x.off + t * d, d);
                double xCoef = 0;
                double[] g = new double[experts];
                for (int i = 0; i < experts; i++) {
                    if (!active[i]) continue;
                    double prod = (double) xn * simNorm(p, i * d, d);
                    g[i] = Math.abs(dm.get(t * experts + i)) / Math.max(prod, Kernels.COSINE_EPS);
                    if (prod >= Kernels.COSINE_EPS) xCoef += Math.abs(dm.get(t * experts + i) * m.get(t * experts + i)) / ((double) xn * xn);
                }
                for (int j = 0; j < d; j++) {
                    double scale = Math.abs(dx0.get(t * d + j)) + xCoef * Math.abs(x.a[x.off + t * d + j]);
                    for (int i = 0; i < experts; i++) scale += g[i] * Math.abs(p[i * d + j]);
                    // E products plus the x term, each carrying norms of d terms
                    tol[t * d + j] = (3.0 * d + experts + 10) * U * scale;
                }
            }
            assertClose(what, exp, act, tol);
        }
    }
}
