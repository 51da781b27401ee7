package moelab.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * SGEMM with the Vector API, built like the fast BLAS libraries (GotoBLAS / BLIS):
 * C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C.
 *
 * <pre>
 * for jc in 0..n step NC            B block  KC x NC  packed once, lives in L3
 *   for pc in 0..k step KC
 *     pack op(B)[pc:+kc, jc:+nc] into NR-column panels
 *     for ic in 0..m step MC        A block  MC x KC  packed once, lives in L2
 *       pack op(A)[ic:+mc, pc:+kc] into MR-row panels
 *       for jr in 0..nc step NR     B micro-panel KC x NR stays in L1 across the ir loop
 *         for ir in 0..mc step MR   A micro-panel MR x KC streams from L2
 *           micro-kernel: MR x NR tile of C += A micro-panel * B micro-panel
 * </pre>
 *
 * Blocking for Zen 3 (32 KiB L1D and 512 KiB L2 per core, 32 MiB shared L3), AVX2 (16 ymm):
 * <ul>
 *   <li>MR x NR = 6 x 16: 12 accumulators (6 rows x 2 vectors of 8) + 2 B vectors + 1 broadcast
 *       = 15 of the 16 ymm registers. 12 independent FMA chains cover the FMA latency (4 cycles)
 *       x throughput (2 per cycle) = 8 chains Zen 3 needs in flight; each k step does 12 FMAs
 *       for 2 vector loads + 6 broadcasts, well inside the load ports' budget.</li>
 *   <li>KC = 256: the B micro-panel (256 x 16 floats = 16 KiB) takes half of L1D, the A
 *       micro-panel (256 x 6 = 6 KiB) and the C tile fit beside it.</li>
 *   <li>MC = 144 (24 A micro-panels): the packed A block is 144 x 256 floats = 144 KiB, a bit
 *       over a quarter of L2, so it stays there while B micro-panels pass through.</li>
 *   <li>NC = 4096: the packed B block is 256 x 4096 floats = 4 MiB per thread, within the
 *       shared L3 for both threads; the MoE shapes (n <= 1024) never split n.</li>
 * </ul>
 *
 * Threads: C is cut into a fixed grid of rectangles aligned to whole MR x NR tiles; each task
 * runs the whole loop nest above on its rectangle with its own packing buffers. Every C element
 * is therefore computed by exactly one thread, over the same KC blocks in the same k order, by the
 * same micro-kernel arithmetic: results are bit-identical for any thread count.
 * Packing buffers are kept per task and reused, so steady-state calls do not allocate them.
 */
final class SimdGemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;

    /** Micro-tile rows (broadcast A values per k step). */
    static final int MR = 6;
    /** Micro-tile columns: two 256-bit vectors of 8 floats. */
    static final int NR = 16;
    /** k block: B micro-panel KC x NR = 16 KiB in L1D. */
    static final int KC = 256;
    /** m block (multiple of MR): packed A block MC x KC = 144 KiB in L2. */
    static final int MC = 144;
    /** n block (multiple of NR): packed B block KC x NC = 4 MiB in L3. */
    static final int NC = 4096;

    /** Below this many multiply-adds (m*n*k) the call runs on one thread: handing work to the pool costs more. */
    static final long PARALLEL_MIN_FMAS = 1L << 20;

    /** Per-task packing buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        float[] a = new float[0];
        float[] b = new float[0];
        final float[] tile = new float[MR * NR];
    }

    private final Parallel parallel;
    private final Workspace[] workspaces;

    SimdGemm(Parallel parallel) {
        this.parallel = parallel;
        this.workspaces = new Workspace[parallel.threads()];
        for (int t = 0; t < workspaces.length; t++) workspaces[t] = new Workspace();
    }

    // C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
               float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
               float beta, float[] c, int cOff, int ldc) {
        validate(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0) {
            // op(A) op(B) is all zeros; same arithmetic as the reference (alpha * 0 + beta * c)
            for (int i = 0; i < m; i++) {
                for (int j = 0, ci = cOff + i * ldc; j < n; j++, ci++)
                    c[ci] = beta == 0f ? alpha * 0f : alpha * 0f + beta * c[ci];
            }
            return;
        }

        int mTiles = ceilDiv(m, MR), nTiles = ceilDiv(n, NR);
        int tasks = (long) m * n * k < PARALLEL_MIN_FMAS ? 1 : parallel.threads();
        int gridM = 1, gridN = 1;
        if (tasks > 1) {
            int[] grid = chooseGrid(tasks, mTiles, nTiles);
            gridM = grid[0];
            gridN = grid[1];
            tasks = gridM * gridN;
        }
        if (tasks == 1) {
            block(workspaces[0], transA, transB, 0, m, 0, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        final int gm = gridM, gn = gridN;
        parallel.run(tasks, t -> {
            int tm = t / gn, tn = t % gn;
            // task rectangles are whole tiles: tile ranges split as evenly as possible
            int i0 = Math.min(m, (int) ((long) mTiles * tm / gm) * MR);
            int i1 = Math.min(m, (int) ((long) mTiles * (tm + 1) / gm) * MR);
            int j0 = Math.min(n, (int) ((long) nTiles * tn / gn) * NR);
            int j1 = Math.min(n, (int) ((long) nTiles * (tn + 1) / gn) * NR);
            block(workspaces[t], transA, transB, i0, i1, j0, j1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        });
    }

    /**
     * Picks a gridM x gridN split (gridM * gridN <= tasks) of the mTiles x nTiles tile grid:
     * first the fewest tiles for the busiest task, then the least packing per task (each task
     * packs its rows of A and its columns of B).
     */
    static int[] chooseGrid(int tasks, int mTiles, int nTiles) {
        int bestM = 1, bestN = 1;
        long bestTiles = Long.MAX_VALUE, bestPack = Long.MAX_VALUE;
        for (int gm = 1; gm <= tasks; gm++) {
            if (tasks % gm != 0) continue;
            int gn = tasks / gm;
            if (gm > mTiles || gn > nTiles) continue;
            long rowsPer = ceilDiv(mTiles, gm), colsPer = ceilDiv(nTiles, gn);
            long tiles = rowsPer * colsPer;
            long pack = rowsPer * MR + colsPer * NR;
            if (tiles < bestTiles || (tiles == bestTiles && pack < bestPack)) {
                bestTiles = tiles; bestPack = pack; bestM = gm; bestN = gn;
            }
        }
        if (bestTiles == Long.MAX_VALUE) {
            // too few tiles for an exact grid: split the longer tile dimension only
            return mTiles >= nTiles ? new int[] {Math.min(tasks, mTiles), 1} : new int[] {1, Math.min(tasks, nTiles)};
        }
        return new int[] {bestM, bestN};
    }

    /** The blocked loop nest on C rows [i0,i1) x columns [j0,j1), all of k. */
    private static void block(Workspace ws, boolean transA, boolean transB, int i0, int i1, int j0, int j1, int k,
                              float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float beta, float[] c, int cOff, int ldc) {
        if (i0 >= i1 || j0 >= j1) return;
        int kcMax = Math.min(KC, k);
        int aNeed = Math.min(MC, ceilDiv(i1 - i0, MR) * MR) * kcMax;
        int bNeed = Math.min(NC, ceilDiv(j1 - j0, NR) * NR) * kcMax;
        if (ws.a.length < aNeed) ws.a = new float[aNeed];
        if (ws.b.length < bNeed) ws.b = new float[bNeed];
        float[] ap = ws.a, bp = ws.b, tile = ws.tile;

        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                // the first k block applies the caller's beta; later blocks add onto it
                float betaBlock = pc == 0 ? beta : 1f;
                GemmPacking.packB(transB, b, bOff, ldb, pc, kc, jc, nc, bp);
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    GemmPacking.packA(transA, a, aOff, lda, ic, mc, pc, kc, ap);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int cols = Math.min(NR, nc - jr);
                        int bIdx = (jr / NR) * kc * NR;
                        for (int ir = 0; ir < mc; ir += MR) {
                            int rows = Math.min(MR, mc - ir);
                            int aIdx = (ir / MR) * kc * MR;
                            int cIdx = cOff + (ic + ir) * ldc + jc + jr;
                            if (rows == MR && cols == NR)
                                kernel(kc, ap, aIdx, bp, bIdx, alpha, betaBlock, c, cIdx, ldc);
                            else
                                kernelEdge(kc, ap, aIdx, bp, bIdx, alpha, betaBlock, c, cIdx, ldc, rows, cols, tile);
                        }
                    }
                }
            }
        }
    }

    /**
     * The 6 x 16 micro-kernel on a full tile: acc = A panel [6,kc] * B panel [kc,16] in
     * registers, then C tile = alpha * acc + beta * C tile (beta == 0: C's old values ignored).
     */
    private static void kernel(int kc, float[] ap, int aIdx, float[] bp, int bIdx,
                               float alpha, float beta, float[] c, int cIdx, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = aIdx + p * MR, bi = bIdx + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + 8);
            FloatVector av;
            av = FloatVector.broadcast(S, ap[ai]);     c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[ai + 1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[ai + 2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[ai + 3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, ap[ai + 4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, ap[ai + 5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51);
        }
        int ci = cIdx;
        store(c00, c01, alpha, beta, c, ci); ci += ldc;
        store(c10, c11, alpha, beta, c, ci); ci += ldc;
        store(c20, c21, alpha, beta, c, ci); ci += ldc;
        store(c30, c31, alpha, beta, c, ci); ci += ldc;
        store(c40, c41, alpha, beta, c, ci); ci += ldc;
        store(c50, c51, alpha, beta, c, ci);
    }

    /** One C tile row: c[ci : ci+16] = alpha * acc + beta * c (not fused, same rounding as the edge path). */
    private static void store(FloatVector acc0, FloatVector acc1, float alpha, float beta, float[] c, int ci) {
        if (beta == 0f) {
            acc0.mul(alpha).intoArray(c, ci);
            acc1.mul(alpha).intoArray(c, ci + 8);
        } else {
            acc0.mul(alpha).add(FloatVector.fromArray(S, c, ci).mul(beta)).intoArray(c, ci);
            acc1.mul(alpha).add(FloatVector.fromArray(S, c, ci + 8).mul(beta)).intoArray(c, ci + 8);
        }
    }

    /**
     * Edge tile (rows < 6 or cols < 16): the same register computation on the zero-padded
     * panels, spilled to {@code tile}, then only the valid rows x cols are written to C with the
     * same (alpha * acc + beta * c) arithmetic as the full-tile store.
     */
    private static void kernelEdge(int kc, float[] ap, int aIdx, float[] bp, int bIdx, float alpha, float beta,
                                   float[] c, int cIdx, int ldc, int rows, int cols, float[] tile) {
        kernel(kc, ap, aIdx, bp, bIdx, 1f, 0f, tile, 0, NR);
        for (int r = 0; r < rows; r++) {
            for (int j = 0, ci = cIdx + r * ldc; j < cols; j++, ci++) {
                float acc = tile[r * NR + j];
                c[ci] = beta == 0f ? alpha * acc : alpha * acc + beta * c[ci];
            }
        }
    }

    /** Checks sizes, leading dimensions and array bounds, naming the op and shapes on failure. */
    private static void validate(boolean transA, boolean transB, int m, int n, int k,
                                 float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                 float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0)
            throw new IllegalArgumentException("sgemm: negative size m=" + m + " n=" + n + " k=" + k);
        String shapes = "sgemm(transA=" + transA + ", transB=" + transB + ", m=" + m + ", n=" + n + ", k=" + k + ")";
        // A stored [rows, cols] with row stride lda
        checkMatrix(shapes, "A", a, aOff, lda, transA ? k : m, transA ? m : k);
        checkMatrix(shapes, "B", b, bOff, ldb, transB ? n : k, transB ? k : n);
        checkMatrix(shapes, "C", c, cOff, ldc, m, n);
    }

    private static void checkMatrix(String shapes, String name, float[] x, int off, int ld, int rows, int cols) {
        if (rows == 0 || cols == 0) return;
        if (x == null) throw new IllegalArgumentException(shapes + ": " + name + " is null");
        if (ld < cols)
            throw new IllegalArgumentException(shapes + ": ld" + name.toLowerCase() + "=" + ld + " < " + cols
                    + " (" + name + " stored [" + rows + "," + cols + "])");
        long last = (long) off + (long) (rows - 1) * ld + cols - 1;
        if (off < 0 || last >= x.length)
            throw new IllegalArgumentException(shapes + ": " + name + " stored [" + rows + "," + cols + "] with offset "
                    + off + " and ld " + ld + " needs " + (last + 1) + " floats, array has " + x.length);
    }

    private static int ceilDiv(int x, int y) { return (x + y - 1) / y; }
}
