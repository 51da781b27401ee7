package moelab.nativ;

import java.lang.foreign.MemorySegment;
import moelab.kernels.Parallel;

import static moelab.nativ.moelab_kernels_h.*;

/**
 * The native C back end ("native"): SGEMM, softmax (+ backward), top-k, fused SwiGLU (+ backward)
 * and the memory similarity (+ backward) run in libmoelab.so (native/src/main/c); the other kernels
 * (logSoftmax, RMSNorm, elementwise, sum/dot) are delegated to the SIMD back end.
 *
 * <p>The library holds an AVX2 and an AVX-512 copy of every kernel; each instance binds one
 * ({@link NativeIsa}): the widest this CPU runs, or the width forced by -Dmoelab.vectorBits /
 * MOELAB_VECTOR_BITS. {@link #isa()} says which and why.
 *
 * <p>Heap float[] go to C without copies: MemorySegment.ofArray, downcalls linked critical with
 * heap access. Every C function is single-threaded; with more threads the Java side splits the
 * work into a fixed partition (rows of C or of the row ops, blocks of 8 elements), and each output
 * is computed the same way whatever the partition, so results do not depend on the thread count.
 * The slices are bounds-checked by {@link MemorySegment#asSlice}, so a wrong offset or size throws
 * instead of writing outside the array.
 */
public final class NativeKernels extends SimdBackedKernels {
    /** Below this much work (flops or elements) a call stays on one thread. */
    private static final long PARALLEL_MIN_WORK = 1 << 16;

    private final Parallel parallel;
    private final NativeIsa isa;
    private final String isaDescription;

    /**
     * The kernels at the width moelab.vectorBits / MOELAB_VECTOR_BITS asks for (default: the widest
     * this CPU has).
     *
     * @throws IllegalStateException when libmoelab.so cannot be used here
     * @throws IllegalArgumentException when the requested width is not 256/512/auto or this CPU cannot run it
     */
    public NativeKernels(int threads) {
        this(threads, choose(NativeIsa.Request.fromEnvironment()));
    }

    /** With the copy already chosen (tests run both widths in one JVM). */
    NativeKernels(int threads, NativeIsa.Choice choice) {
        super(threads);
        this.isa = choice.isa();
        this.isaDescription = choice.description();
        this.parallel = new Parallel(threads);
    }

    /** The library's answer for a request; checks the library first. */
    static NativeIsa.Choice choose(NativeIsa.Request request) {
        String reason = NativeLibrary.moelab().unavailableReason();
        if (reason != null) throw new IllegalStateException("native kernels unavailable: " + reason);
        int version = moelab_version();
        if (version != NativeLibrary.VERSION)
            throw new IllegalStateException("libmoelab.so has interface version " + version + ", the bindings expect " + NativeLibrary.VERSION);
        return NativeIsa.choose(request, moelab_cpu_features(), hasCopy(NativeIsa.AVX512));
    }

    @Override public String name() { return "native"; }
    @Override public int threads() { return parallel.threads(); }
    // the kernels forwarded to the simd back end run inline inside a task, like the native ones
    @Override public void forEachTask(int tasks, java.util.function.IntConsumer task) { parallel.run(tasks, task); }

    /**
     * Which copy of the C kernels this instance calls and why, e.g.
     * "avx512 (cpuid: avx512f avx512bw avx512dq avx512vl; moelab.vectorBits=auto)" or
     * "avx2 (forced by moelab.vectorBits=256)".
     */
    public String isa() { return isaDescription; }

    /** 256 or 512, as reported by the compiled code this instance calls (not by the choice). */
    public int vectorBits() { return moelab_vector_bits(isa); }

    /** [off, off + len) of a float[] as a segment; throws naming the op when it does not fit. */
    static MemorySegment seg(String op, String name, float[] a, int off, long len) {
        if (a == null) throw new IllegalArgumentException(op + ": " + name + " is null");
        if (off < 0 || len < 0 || off + len > a.length)
            throw new IllegalArgumentException(op + ": " + name + " region [" + off + ", " + (off + len) + ") outside its array of length " + a.length);
        return MemorySegment.ofArray(a).asSlice(4L * off, 4L * len);
    }

    static MemorySegment seg(String op, String name, int[] a, int off, long len) {
        if (a == null) throw new IllegalArgumentException(op + ": " + name + " is null");
        if (off < 0 || len < 0 || off + len > a.length)
            throw new IllegalArgumentException(op + ": " + name + " region [" + off + ", " + (off + len) + ") outside its array of length " + a.length);
        return MemorySegment.ofArray(a).asSlice(4L * off, 4L * len);
    }

    /** Floats a [rows, cols] matrix with leading dimension ld spans. */
    static long span(int rows, int cols, int ld) { return rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols; }

    // ---------------------------------------------------------------- GEMM

    // C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C
    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        String shapes = checkGemm(transA, transB, m, n, k, lda, ldb, ldc);
        if (m == 0 || n == 0) return;
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        MemorySegment as = seg(shapes, "A", a, aOff, span(aRows, aCols, lda));
        MemorySegment bs = seg(shapes, "B", b, bOff, span(bRows, bCols, ldb));
        MemorySegment cs = seg(shapes, "C", c, cOff, span(m, n, ldc));
        int ta = transA ? 1 : 0, tb = transB ? 1 : 0;
        int[] grid = gemmGrid(threads(), m, n, k, isa.mr, isa.nr);
        if (grid[0] * grid[1] == 1) {
            moelab_sgemm(isa, ta, tb, m, n, k, alpha, as, lda, bs, ldb, beta, cs, ldc);
            return;
        }
        // a fixed split of C into row blocks (MR multiples) or column blocks (NR multiples);
        // each part is an SGEMM on sub-matrices, found by pointer offsets
        boolean byRows = grid[0] > 1;
        int parts = byRows ? grid[0] : grid[1], unit = byRows ? isa.mr : isa.nr, len = byRows ? m : n;
        int per = ((len + parts - 1) / parts + unit - 1) / unit * unit;
        parallel.run(parts, part -> {
            int lo = Math.min(len, part * per), hi = Math.min(len, lo + per);
            if (lo >= hi) return;
            if (byRows) {
                long aStart = transA ? lo : (long) lo * lda;
                moelab_sgemm(isa, ta, tb, hi - lo, n, k, alpha, as.asSlice(4 * aStart), lda, bs, ldb, beta,
                        cs.asSlice(4L * lo * ldc), ldc);
            } else {
                long bStart = transB ? (long) lo * ldb : lo;
                moelab_sgemm(isa, ta, tb, m, hi - lo, k, alpha, as, lda, bs.asSlice(4 * bStart), ldb, beta,
                        cs.asSlice(4L * lo), ldc);
            }
        });
    }

    /** {@link #gemmGrid(int, int, int, int, int, int)} for the AVX2 tile, 6 x 16. */
    static int[] gemmGrid(int threads, int m, int n, int k) { return gemmGrid(threads, m, n, k, 6, 16); }

    /**
     * {row parts, column parts}: split the longer side of C (in mr x nr tiles of the micro-kernel),
     * at most one part per thread, none for small work.
     */
    static int[] gemmGrid(int threads, int m, int n, int k, int mr, int nr) {
        if (threads == 1 || 2L * m * n * k < 8 * PARALLEL_MIN_WORK) return new int[] {1, 1};
        int rowTiles = (m + mr - 1) / mr, colTiles = (n + nr - 1) / nr;
        if ((long) m * nr >= (long) n * mr) return new int[] {Math.min(threads, rowTiles), 1};
        return new int[] {1, Math.min(threads, colTiles)};
    }

    /** Checks sizes and leading dimensions; returns the shapes string for error messages. */
    static String checkGemm(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc) {
        String shapes = "sgemm(transA=" + transA + ", transB=" + transB + ", m=" + m + ", n=" + n + ", k=" + k
                + ", lda=" + lda + ", ldb=" + ldb + ", ldc=" + ldc + ")";
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException(shapes + ": negative size");
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        if (aRows > 0 && lda < aCols) throw new IllegalArgumentException(shapes + ": lda < " + aCols + " (A stored [" + aRows + "," + aCols + "])");
        if (bRows > 0 && ldb < bCols) throw new IllegalArgumentException(shapes + ": ldb < " + bCols + " (B stored [" + bRows + "," + bCols + "])");
        if (m > 0 && ldc < n) throw new IllegalArgumentException(shapes + ": ldc < " + n + " (C stored [" + m + "," + n + "])");
        return shapes;
    }

    // ---------------------------------------------------------------- row-wise ops

    /** Runs body(rowLo, rowHi) over a fixed split of rows; one part when the work is small. */
    private void rowParts(int rows, long workPerRow, RowRange body) {
        int parts = threads() == 1 || rows * workPerRow < PARALLEL_MIN_WORK ? 1 : Math.min(threads(), rows);
        int per = rows == 0 ? 0 : (rows + parts - 1) / parts;
        parallel.run(parts, part -> {
            int lo = Math.min(rows, part * per), hi = Math.min(rows, lo + per);
            if (lo < hi || parts == 1) body.run(lo, hi);
        });
    }

    private interface RowRange { void run(int lo, int hi); }

    // x, y [rows, cols]
    @Override
    public void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        checkRows("softmaxRows", rows, cols);
        MemorySegment xs = seg("softmaxRows", "x", x, xOff, (long) rows * cols), ys = seg("softmaxRows", "y", y, yOff, (long) rows * cols);
        rowParts(rows, cols, (lo, hi) -> moelab_softmax_rows(isa, xs.asSlice(4L * lo * cols), ys.asSlice(4L * lo * cols), hi - lo, cols));
    }

    // y, dy, dx [rows, cols]
    @Override
    public void softmaxBackwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows, int cols) {
        String op = "softmaxBackwardRows";
        checkRows(op, rows, cols);
        long len = (long) rows * cols;
        MemorySegment ys = seg(op, "y", y, yOff, len), gs = seg(op, "dy", dy, dyOff, len), ds = seg(op, "dx", dx, dxOff, len);
        rowParts(rows, cols, (lo, hi) -> moelab_softmax_backward_rows(isa, ys.asSlice(4L * lo * cols), gs.asSlice(4L * lo * cols),
                ds.asSlice(4L * lo * cols), hi - lo, cols));
    }

    // x [rows, cols] -> idx, val [rows, k]
    @Override
    public void topkRows(float[] x, int xOff, int rows, int cols, int k, int[] idx, int idxOff, float[] val, int valOff) {
        checkRows("topkRows", rows, cols);
        if (k < 0 || k > cols) throw new IllegalArgumentException("topkRows: k=" + k + " must be in [0, " + cols + "] (cols)");
        MemorySegment xs = seg("topkRows", "x", x, xOff, (long) rows * cols);
        MemorySegment is = seg("topkRows", "idx", idx, idxOff, (long) rows * k), vs = seg("topkRows", "val", val, valOff, (long) rows * k);
        rowParts(rows, cols, (lo, hi) -> moelab_topk_rows(isa, xs.asSlice(4L * lo * cols), hi - lo, cols, k,
                is.asSlice(4L * lo * k), vs.asSlice(4L * lo * k)));
    }

    private static void checkRows(String op, int rows, int cols) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException(op + ": negative shape [rows=" + rows + ", cols=" + cols + "]");
    }

    // ---------------------------------------------------------------- SwiGLU

    /** Runs body(lo, hi) over a fixed split of [0, n) into blocks of whole 8-float vectors. */
    private void elementParts(int n, RowRange body) {
        int parts = threads() == 1 || n < PARALLEL_MIN_WORK ? 1 : threads();
        int per = ((n + parts - 1) / parts + 7) / 8 * 8;
        parallel.run(parts, part -> {
            int lo = Math.min(n, part * per), hi = Math.min(n, lo + per);
            if (lo < hi || parts == 1) body.run(lo, hi);
        });
    }

    // a, b, h [n]
    @Override
    public void swigluForward(float[] a, int aOff, float[] b, int bOff, float[] h, int hOff, int n) {
        if (n < 0) throw new IllegalArgumentException("swigluForward: n=" + n + " < 0");
        MemorySegment as = seg("swigluForward", "a", a, aOff, n), bs = seg("swigluForward", "b", b, bOff, n), hs = seg("swigluForward", "h", h, hOff, n);
        elementParts(n, (lo, hi) -> moelab_swiglu_forward(isa, as.asSlice(4L * lo), bs.asSlice(4L * lo), hs.asSlice(4L * lo), hi - lo));
    }

    // a, b, dh, da, db [n]
    @Override
    public void swigluBackward(float[] a, int aOff, float[] b, int bOff, float[] dh, int dhOff,
                               float[] da, int daOff, float[] db, int dbOff, int n) {
        String op = "swigluBackward";
        if (n < 0) throw new IllegalArgumentException(op + ": n=" + n + " < 0");
        if (da == null && db == null) return;
        MemorySegment as = seg(op, "a", a, aOff, n), bs = seg(op, "b", b, bOff, n), gs = seg(op, "dh", dh, dhOff, n);
        MemorySegment das = da == null ? null : seg(op, "da", da, daOff, n), dbs = db == null ? null : seg(op, "db", db, dbOff, n);
        elementParts(n, (lo, hi) -> moelab_swiglu_backward(isa, as.asSlice(4L * lo), bs.asSlice(4L * lo), gs.asSlice(4L * lo),
                das == null ? MemorySegment.NULL : das.asSlice(4L * lo), dbs == null ? MemorySegment.NULL : dbs.asSlice(4L * lo), hi - lo));
    }

    // ---------------------------------------------------------------- memory-aware routing

    private static MemorySegment activeBytes(String op, boolean[] active, int experts) {
        if (active == null || active.length < experts)
            throw new IllegalArgumentException(op + ": active has " + (active == null ? "no" : active.length) + " entries, need " + experts + " (experts)");
        byte[] bytes = new byte[Math.max(experts, 1)]; // C takes unsigned char flags; E is small
        for (int i = 0; i < experts; i++) bytes[i] = (byte) (active[i] ? 1 : 0);
        return MemorySegment.ofArray(bytes);
    }

    private static void checkSimilarity(String op, int tokens, int experts, int d) {
        if (tokens < 0 || experts < 0 || d < 0)
            throw new IllegalArgumentException(op + ": negative shape tokens=" + tokens + " experts=" + experts + " d=" + d);
    }

    // x [T, d], p [E, d], active [E] -> m [T, E]
    @Override
    public void memorySimilarity(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                 int tokens, int experts, int d) {
        String op = "memorySimilarity";
        checkSimilarity(op, tokens, experts, d);
        MemorySegment xs = seg(op, "x", x, xOff, (long) tokens * d), ps = seg(op, "p", p, 0, (long) experts * d);
        MemorySegment ms = seg(op, "m", m, mOff, (long) tokens * experts), act = activeBytes(op, active, experts);
        rowParts(tokens, (long) experts * d, (lo, hi) -> moelab_memory_similarity(isa, xs.asSlice(4L * lo * d), ps, act,
                ms.asSlice(4L * lo * experts), hi - lo, experts, d));
    }

    // x [T, d], p [E, d], active [E], m, dm [T, E] -> dx [T, d] (accumulated)
    @Override
    public void memorySimilarityBackward(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                         float[] dm, int dmOff, float[] dx, int dxOff, int tokens, int experts, int d) {
        String op = "memorySimilarityBackward";
        checkSimilarity(op, tokens, experts, d);
        long td = (long) tokens * d, te = (long) tokens * experts;
        MemorySegment xs = seg(op, "x", x, xOff, td), ps = seg(op, "p", p, 0, (long) experts * d), act = activeBytes(op, active, experts);
        MemorySegment ms = seg(op, "m", m, mOff, te), gs = seg(op, "dm", dm, dmOff, te), dxs = seg(op, "dx", dx, dxOff, td);
        rowParts(tokens, (long) experts * d, (lo, hi) -> moelab_memory_similarity_backward(isa, xs.asSlice(4L * lo * d), ps, act,
                ms.asSlice(4L * lo * experts), gs.asSlice(4L * lo * experts), dxs.asSlice(4L * lo * d), hi - lo, experts, d));
    }
}
