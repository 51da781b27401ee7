package moelab.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import moelab.kernels.Parallel;

/**
 * SGEMM with the Vector API, built like the fast BLAS libraries (GotoBLAS / BLIS):
 * C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C.
 *
 * <pre>
 * for pc in 0..k step KC
 *   for ic in 0..m step MC            A block MC x KC: packed once per k block, streamed from L3/memory
 *     pack op(A)[ic:+mc, pc:+kc] into MR-row micro-panels
 *     for jc in 0..n step NC          B block KC x NC: packed, stays in L2 for the whole ir loop
 *       pack op(B)[pc:+kc, jc:+nc] into NR-column micro-panels
 *       for ir in 0..mc step MR       A micro-panel MR x KC reread from L1/L2 across the jr loop
 *         for jr in 0..nc step NR     B micro-panels stream from L2, sequentially
 *           micro-kernel: C tile [MR,NR] = alpha * (A micro-panel * B micro-panel) + beta * C tile
 * </pre>
 *
 * Two widths, chosen once per JVM by {@link VectorWidth}: at 512 bits (AVX-512, 32 zmm) an
 * 8 x 32 micro-tile, KC = 256, NC = 128; at 256 bits (AVX2, 16 ymm) a 4 x 16 tile, KC = 512,
 * NC = 64. On Zen 5 (48 KiB L1D, 1 MiB L2) the 512-bit blocking was measured flat: KC 256..512 x
 * NC 64..256 all within 84-88% of the same-run FMA peak on square-1024 (except the smallest NC
 * with the longest KC); KC = 256 keeps the B micro-panel (256 x 32 floats = 32 KiB) in L1 beside
 * the 8 KiB A micro-panel. The 256-bit blocking below was chosen on Zen 3 (32 KiB L1D, 512 KiB
 * L2 per core, 32 MiB shared L3); the reasons:
 * <ul>
 *   <li>MR x NR = 4 x 16: 8 accumulators (4 rows x 2 vectors of 8) + 2 B vectors + 4 broadcast
 *       A values = 14 ymm registers. 8 independent FMA chains = FMA latency (4 cycles) x
 *       throughput (2 per cycle). A 6 x 16 tile (12 accumulators, fewer loads per FMA) is the
 *       textbook choice; it measured no faster than 4 x 16 in any formulation tried (nor did
 *       3 x 24 or 5 x 16), and in one C2 spilled an accumulator inside the loop (half speed).</li>
 *   <li>The inner loop runs over jr, not ir: consecutive micro-kernel calls then walk along
 *       the same MR rows of C, which the hardware prefetchers follow. With ir innermost the C
 *       tiles are visited down a column (a stride of ldc per row) and Java has no prefetch
 *       instruction to hide those misses: that order (the BLIS one, with the A block in L2 and
 *       a large B block in L3) measured 20 to 30% slower.</li>
 *   <li>KC = 512: the A micro-panel (512 x 4 floats = 8 KiB) is reread by the NC / NR calls of
 *       the jr loop from L1D or L2; the B micro-panels (512 x 16 floats = 32 KiB each) stream
 *       from L2, which the hardware prefetchers keep up with (64 bytes per 4-cycle k step). A long k block halves the passes
 *       over C against KC = 256 (4 short row streams per tile, which Java cannot prefetch) and
 *       the per-call overhead (zeroing, the C update, the loop-exit mispredict). At NC = 64 it
 *       measured 3 to 8 points of peak above KC = 256 in one run.</li>
 *   <li>NC = 64: the packed B block is 512 x 64 floats = 128 KiB, a quarter of the 512 KiB L2,
 *       and each A micro-panel serves 4 micro-kernel calls. On this shared VM a larger B block
 *       (NC = 96..160: 192..320 KiB) measured up to 11 points of peak slower on most shapes:
 *       whatever else runs on the host evicts part of a big L2-resident block. Small NC costs little: the A block is
 *       re-read once per NC columns, but sequentially (1 byte per cycle from L3 or memory).</li>
 *   <li>MC = 1024: the A block (2 MiB) is only streamed, once per B block, so it may be large;
 *       a large MC means B is packed once for m <= 1024 and rarely re-packed beyond.</li>
 * </ul>
 * Against the previous blocking (KC = 256, NC = 256) in the same interleaved rounds the gain is
 * small: 0 to 3 points of peak at the median (docs/vector-api-notes.md). What moves this kernel
 * most on a shared host is not cache misses but another tenant on the same physical core, which
 * slows even the L1-resident micro-kernel by 20-30 points (docs/vector-api-notes.md, core contention).
 * Packing absorbs the transposes and leading dimensions (see {@link GemmPacking}) and pads the
 * edges with zeros; edge tiles run the same micro-kernel into a scratch tile and copy the valid
 * part, with the same rounding as full tiles.
 *
 * <p>Threads: C is cut into a fixed grid of rectangles aligned to whole MR x NR tiles; each task
 * runs the whole loop nest above on its rectangle with its own packing buffers. Every C element
 * is therefore computed by exactly one thread, over the same KC blocks in the same k order, by the
 * same micro-kernel arithmetic: results are bit-identical for any thread count.
 * Packing buffers are kept per task and reused, so steady-state calls do not allocate them.
 */
final class SimdGemm {
    /** 512-bit kernels (AVX-512) or 256-bit ones (AVX2), fixed for the JVM: see {@link VectorWidth}. */
    static final boolean WIDE = VectorWidth.BITS == 512;
    private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;

    /** Micro-tile rows (broadcast A values per k step): 4 at 256 bits, 8 at 512. */
    static final int MR = WIDE ? 8 : 4;
    /** Micro-tile columns: two vectors (2 x 8 floats at 256 bits, 2 x 16 at 512). */
    static final int NR = WIDE ? 32 : 16;
    /** k block: A micro-panel MR x KC = 8 KiB at both widths, in L1 beside the B micro-panel being read. */
    static final int KC = WIDE ? 256 : 512;
    /** m block (multiple of MR): the packed A block MC x KC, streamed from L3 or memory. */
    static final int MC = 1024;
    /** n block (multiple of NR): packed B block KC x NC = 128 KiB at both widths, in L2. */
    static final int NC = WIDE ? 128 : 64;

    /** Below this many multiply-adds (m*n*k) the call runs on one thread: handing work to the pool costs more. */
    static final long PARALLEL_MIN_FMAS = 1L << 20;

    /** Per-task packing buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        float[] a = new float[0];
        float[] b = new float[0];
        float[] b2 = new float[0];
        final float[] tile = new float[MR * NR];
    }

    /**
     * Work on finished C tiles of {@link #sgemmPair}, called after their last k block from the
     * thread that computed them, once per row panel of a packed B block: C rows [i0, i0+rows)
     * (at most MR) x columns [j0, j0+cols) (at most NC).
     */
    interface TileEpilogue { void apply(int i0, int rows, int j0, int cols); }

    private final Parallel parallel;
    private final Workspace[] workspaces;
    /** The workspace of a call that runs on one thread: per thread, as tasks of forEachTask call sgemm at once. */
    private static final ThreadLocal<Workspace> SERIAL = ThreadLocal.withInitial(Workspace::new);

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
        run(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, null, 0, ldb, beta, c, cOff, null, 0, ldc, null);
    }

    /**
     * Two products that share op(A), for the grouped experts: C1 [m,n] = op(A)·op(B1) + beta*C1
     * and, when b2 != null, C2 [m,n] = op(A)·op(B2) + beta*C2 with the same strides. Each A block
     * is packed once for both, and each pair of C tiles is computed from the same A micro-panel
     * while it is in L1; then {@code epilogue} (may be null) runs on the finished tiles. Every C1
     * (C2) element has the bits {@link #sgemm} would give it. k >= 1.
     */
    void sgemmPair(boolean transA, boolean transB, int m, int n, int k,
                   float[] a, int aOff, int lda, float[] b1, int b1Off, float[] b2, int b2Off, int ldb,
                   float beta, float[] c1, int c1Off, float[] c2, int c2Off, int ldc, TileEpilogue epilogue) {
        validate(transA, transB, m, n, k, a, aOff, lda, b1, b1Off, ldb, c1, c1Off, ldc);
        if (b2 != null) validate(transA, transB, m, n, k, a, aOff, lda, b2, b2Off, ldb, c2, c2Off, ldc);
        if (k < 1) throw new IllegalArgumentException("sgemmPair: k=" + k + ", needs k >= 1");
        if (m == 0 || n == 0) return;
        run(transA, transB, m, n, k, 1f, a, aOff, lda, b1, b1Off, b2, b2Off, ldb, beta, c1, c1Off, c2, c2Off, ldc, epilogue);
    }

    /** Splits C over the threads (see the class comment) and runs the loop nest on each part; k >= 1. */
    private void run(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, float[] b2, int b2Off, int ldb,
                     float beta, float[] c, int cOff, float[] c2, int c2Off, int ldc, TileEpilogue epilogue) {
        int mTiles = ceilDiv(m, MR), nTiles = ceilDiv(n, NR);
        long fmas = (long) m * n * k * (b2 == null ? 1 : 2);
        int tasks = fmas < PARALLEL_MIN_FMAS || Parallel.insideTask() ? 1 : parallel.threads();
        int gridM = 1, gridN = 1;
        if (tasks > 1) {
            int[] grid = chooseGrid(tasks, mTiles, nTiles);
            gridM = grid[0];
            gridN = grid[1];
            tasks = gridM * gridN;
        }
        if (tasks == 1) {
            block(SERIAL.get(), transA, transB, 0, m, 0, n, k, alpha, a, aOff, lda, b, bOff, b2, b2Off, ldb,
                    beta, c, cOff, c2, c2Off, ldc, epilogue);
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
            block(workspaces[t], transA, transB, i0, i1, j0, j1, k, alpha, a, aOff, lda, b, bOff, b2, b2Off, ldb,
                    beta, c, cOff, c2, c2Off, ldc, epilogue);
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

    /**
     * The blocked loop nest on C rows [i0,i1) x columns [j0,j1), all of k; with b2 the second
     * product too (same A panels), and the epilogue on each tile after the last k block.
     */
    private static void block(Workspace ws, boolean transA, boolean transB, int i0, int i1, int j0, int j1, int k,
                              float alpha, float[] a, int aOff, int lda, float[] b, int bOff, float[] b2, int b2Off, int ldb,
                              float beta, float[] c, int cOff, float[] c2, int c2Off, int ldc, TileEpilogue epilogue) {
        if (i0 >= i1 || j0 >= j1) return;
        int kcMax = Math.min(KC, k);
        int aNeed = Math.min(MC, ceilDiv(i1 - i0, MR) * MR) * kcMax;
        int bNeed = Math.min(NC, ceilDiv(j1 - j0, NR) * NR) * kcMax;
        if (ws.a.length < aNeed) ws.a = new float[aNeed];
        if (ws.b.length < bNeed) ws.b = new float[bNeed];
        if (b2 != null && ws.b2.length < bNeed) ws.b2 = new float[bNeed];
        float[] ap = ws.a, bp = ws.b, bp2 = ws.b2, tile = ws.tile;
        int products = b2 == null ? 1 : 2;

        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            // the first k block applies the caller's beta; later blocks add onto it
            float betaBlock = pc == 0 ? beta : 1f;
            // passed to the micro-kernel as int bits, see kernel()
            int alphaBits = Float.floatToRawIntBits(alpha), betaBits = Float.floatToRawIntBits(betaBlock);
            for (int ic = i0; ic < i1; ic += MC) {
                int mc = Math.min(MC, i1 - ic);
                GemmPacking.packA(transA, a, aOff, lda, ic, mc, pc, kc, ap);
                for (int jc = j0; jc < j1; jc += NC) {
                    int nc = Math.min(NC, j1 - jc);
                    GemmPacking.packB(transB, b, bOff, ldb, pc, kc, jc, nc, bp);
                    if (b2 != null) GemmPacking.packB(transB, b2, b2Off, ldb, pc, kc, jc, nc, bp2);
                    boolean lastK = pc + kc == k;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int rows = Math.min(MR, mc - ir);
                        int aIdx = (ir / MR) * kc * MR;
                        for (int jr = 0; jr < nc; jr += NR) {
                            int cols = Math.min(NR, nc - jr);
                            int bIdx = (jr / NR) * kc * NR;
                            int tileOff = (ic + ir) * ldc + jc + jr;
                            // one call site per micro-kernel: with a second copy written out here the
                            // packing boxed its vectors in the training step (JFR; docs/vector-api-notes.md)
                            for (int product = 0; product < products; product++) {
                                float[] bq = product == 0 ? bp : bp2, cq = product == 0 ? c : c2;
                                int cIdx = (product == 0 ? cOff : c2Off) + tileOff;
                                if (rows == MR && cols == NR)
                                    kernel(kc, ap, aIdx, bq, bIdx, alphaBits, betaBits, cq, cIdx, ldc);
                                else
                                    kernelEdge(kc, ap, aIdx, bq, bIdx, alpha, betaBlock, cq, cIdx, ldc, rows, cols, tile);
                            }
                        }
                        // once per row panel of the block (MR rows x nc columns), not per tile:
                        // longer rows for the epilogue's vector loops, still in L1
                        if (lastK && epilogue != null) epilogue.apply(ic + ir, rows, jc, nc);
                    }
                }
            }
        }
    }

    /** The micro-kernel of the width in force; see {@link #kernel4x16} and {@link #kernel8x32}. */
    static void kernel(int kc, float[] ap, int aIdx, float[] bp, int bIdx,
                       int alphaBits, int betaBits, float[] c, int cIdx, int ldc) {
        if (WIDE) kernel8x32(kc, ap, aIdx, bp, bIdx, alphaBits, betaBits, c, cIdx, ldc);
        else kernel4x16(kc, ap, aIdx, bp, bIdx, alphaBits, betaBits, c, cIdx, ldc);
    }

    /**
     * The 4 x 16 micro-kernel (256 bits): acc [4,16] = A micro-panel [4,kc] * B micro-panel [kc,16] in 8
     * registers, summed in k order; then C tile [4,16] (row stride ldc) = alpha * acc + beta * C
     * (beta == 0: C's old values are not read). alpha * acc and beta * c are rounded separately
     * and then added (no FMA), exactly like the scalar edge path in {@link #updateEdge}.
     * <p>Everything stays inside this one method on purpose: a FloatVector passed to or returned
     * from a call that C2 does not inline loses its exact class and falls back to the (very slow)
     * Java implementation of the Vector API. alpha and beta arrive as int bits because float
     * arguments live in xmm registers, which are the ymm registers: two of them held across the
     * k loop made C2 spill an accumulator; int bits wait in general-purpose registers instead.
     */
    static void kernel4x16(int kc, float[] ap, int aIdx, float[] bp, int bIdx,
                           int alphaBits, int betaBits, float[] c, int cIdx, int ldc) {
        final VectorSpecies<Float> S = S256;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        // A single induction variable (the A index) with the B index derived from it costs 3
        // integer ops per k step instead of 7; this loop is front-end bound, so that counts.
        int bBase = bIdx - (NR / MR) * aIdx, aEnd = aIdx + kc * MR;
        for (int ai = aIdx; ai < aEnd; ai += MR) {
            int bi = bBase + (NR / MR) * ai;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + 8);
            FloatVector av;
            av = FloatVector.broadcast(S, ap[ai]);     c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[ai + 1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[ai + 2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[ai + 3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
        }
        float alpha = Float.intBitsToFloat(alphaBits), beta = Float.intBitsToFloat(betaBits);
        int r0 = cIdx, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        if (beta == 0f) {
            c00.mul(alpha).intoArray(c, r0); c01.mul(alpha).intoArray(c, r0 + 8);
            c10.mul(alpha).intoArray(c, r1); c11.mul(alpha).intoArray(c, r1 + 8);
            c20.mul(alpha).intoArray(c, r2); c21.mul(alpha).intoArray(c, r2 + 8);
            c30.mul(alpha).intoArray(c, r3); c31.mul(alpha).intoArray(c, r3 + 8);
        } else {
            c00.mul(alpha).add(FloatVector.fromArray(S, c, r0).mul(beta)).intoArray(c, r0);
            c01.mul(alpha).add(FloatVector.fromArray(S, c, r0 + 8).mul(beta)).intoArray(c, r0 + 8);
            c10.mul(alpha).add(FloatVector.fromArray(S, c, r1).mul(beta)).intoArray(c, r1);
            c11.mul(alpha).add(FloatVector.fromArray(S, c, r1 + 8).mul(beta)).intoArray(c, r1 + 8);
            c20.mul(alpha).add(FloatVector.fromArray(S, c, r2).mul(beta)).intoArray(c, r2);
            c21.mul(alpha).add(FloatVector.fromArray(S, c, r2 + 8).mul(beta)).intoArray(c, r2 + 8);
            c30.mul(alpha).add(FloatVector.fromArray(S, c, r3).mul(beta)).intoArray(c, r3);
            c31.mul(alpha).add(FloatVector.fromArray(S, c, r3 + 8).mul(beta)).intoArray(c, r3 + 8);
        }
    }

    /**
     * The 8 x 32 micro-kernel (512 bits): acc [8,32] = A micro-panel [8,kc] * B micro-panel
     * [kc,32] in 16 zmm accumulators, then C tile [8,32] = alpha * acc + beta * C as in
     * {@link #kernel4x16}. 16 accumulators + 2 B vectors + 1 broadcast = 19 of the 32 zmm
     * registers: C2 keeps them all in registers (it spills once ~32 values are live, so no k
     * unrolling). 16 independent FMA chains cover the FMA latency times the two 512-bit pipes;
     * per k step 2 vector loads and 8 broadcasts feed 16 FMAs.
     */
    static void kernel8x32(int kc, float[] ap, int aIdx, float[] bp, int bIdx,
                           int alphaBits, int betaBits, float[] c, int cIdx, int ldc) {
        final VectorSpecies<Float> S = S512;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        // one induction variable, B index derived from it (NR / MR = 4), as in kernel4x16
        int bBase = bIdx - 4 * aIdx, aEnd = aIdx + kc * 8;
        for (int ai = aIdx; ai < aEnd; ai += 8) {
            int bi = bBase + 4 * ai;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + 16);
            FloatVector av;
            av = FloatVector.broadcast(S, ap[ai]);     c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[ai + 1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[ai + 2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[ai + 3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, ap[ai + 4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, ap[ai + 5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(S, ap[ai + 6]); c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
            av = FloatVector.broadcast(S, ap[ai + 7]); c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
        }
        float alpha = Float.intBitsToFloat(alphaBits), beta = Float.intBitsToFloat(betaBits);
        int r0 = cIdx, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc, r6 = r5 + ldc, r7 = r6 + ldc;
        if (beta == 0f) {
            c00.mul(alpha).intoArray(c, r0); c01.mul(alpha).intoArray(c, r0 + 16);
            c10.mul(alpha).intoArray(c, r1); c11.mul(alpha).intoArray(c, r1 + 16);
            c20.mul(alpha).intoArray(c, r2); c21.mul(alpha).intoArray(c, r2 + 16);
            c30.mul(alpha).intoArray(c, r3); c31.mul(alpha).intoArray(c, r3 + 16);
            c40.mul(alpha).intoArray(c, r4); c41.mul(alpha).intoArray(c, r4 + 16);
            c50.mul(alpha).intoArray(c, r5); c51.mul(alpha).intoArray(c, r5 + 16);
            c60.mul(alpha).intoArray(c, r6); c61.mul(alpha).intoArray(c, r6 + 16);
            c70.mul(alpha).intoArray(c, r7); c71.mul(alpha).intoArray(c, r7 + 16);
        } else {
            c00.mul(alpha).add(FloatVector.fromArray(S, c, r0).mul(beta)).intoArray(c, r0);
            c01.mul(alpha).add(FloatVector.fromArray(S, c, r0 + 16).mul(beta)).intoArray(c, r0 + 16);
            c10.mul(alpha).add(FloatVector.fromArray(S, c, r1).mul(beta)).intoArray(c, r1);
            c11.mul(alpha).add(FloatVector.fromArray(S, c, r1 + 16).mul(beta)).intoArray(c, r1 + 16);
            c20.mul(alpha).add(FloatVector.fromArray(S, c, r2).mul(beta)).intoArray(c, r2);
            c21.mul(alpha).add(FloatVector.fromArray(S, c, r2 + 16).mul(beta)).intoArray(c, r2 + 16);
            c30.mul(alpha).add(FloatVector.fromArray(S, c, r3).mul(beta)).intoArray(c, r3);
            c31.mul(alpha).add(FloatVector.fromArray(S, c, r3 + 16).mul(beta)).intoArray(c, r3 + 16);
            c40.mul(alpha).add(FloatVector.fromArray(S, c, r4).mul(beta)).intoArray(c, r4);
            c41.mul(alpha).add(FloatVector.fromArray(S, c, r4 + 16).mul(beta)).intoArray(c, r4 + 16);
            c50.mul(alpha).add(FloatVector.fromArray(S, c, r5).mul(beta)).intoArray(c, r5);
            c51.mul(alpha).add(FloatVector.fromArray(S, c, r5 + 16).mul(beta)).intoArray(c, r5 + 16);
            c60.mul(alpha).add(FloatVector.fromArray(S, c, r6).mul(beta)).intoArray(c, r6);
            c61.mul(alpha).add(FloatVector.fromArray(S, c, r6 + 16).mul(beta)).intoArray(c, r6 + 16);
            c70.mul(alpha).add(FloatVector.fromArray(S, c, r7).mul(beta)).intoArray(c, r7);
            c71.mul(alpha).add(FloatVector.fromArray(S, c, r7 + 16).mul(beta)).intoArray(c, r7 + 16);
        }
    }

    /**
     * Edge tile (rows < MR or cols < NR): the same micro-kernel on the zero-padded panels writes
     * the raw sums to {@code tile} (alpha 1, beta 0: exact), then only the valid rows x cols go
     * to C with the same (alpha * acc + beta * c) rounding as the full-tile path.
     */
    private static void kernelEdge(int kc, float[] ap, int aIdx, float[] bp, int bIdx, float alpha, float beta,
                                   float[] c, int cIdx, int ldc, int rows, int cols, float[] tile) {
        kernel(kc, ap, aIdx, bp, bIdx, Float.floatToRawIntBits(1f), Float.floatToRawIntBits(0f), tile, 0, NR);
        updateEdge(tile, alpha, beta, c, cIdx, ldc, rows, cols);
    }

    private static void updateEdge(float[] tile, float alpha, float beta, float[] c, int cIdx, int ldc, int rows, int cols) {
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
