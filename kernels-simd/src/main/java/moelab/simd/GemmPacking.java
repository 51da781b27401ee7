package moelab.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packing of GEMM operands into the panel layouts the micro-kernel reads (see {@link SimdGemm}).
 * Packing absorbs the transpose variants and the leading dimensions: after it, one micro-kernel
 * serves all four combinations. Panels past the matrix edge are padded with zeros, so the
 * micro-kernel always computes full MR x NR tiles; the padded lanes are simply not stored.
 * Every variant reads its source along the stored rows (sequential, prefetcher friendly) and
 * scatters into the panels, which are small enough to stay in cache.
 */
final class GemmPacking {
    /** Half a B micro-panel row (NR / 2 floats): one vector of the width in force. */
    private static final VectorSpecies<Float> S = SimdGemm.WIDE ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    private static final int MR = SimdGemm.MR, NR = SimdGemm.NR;
    /** Stored rows per chunk when packing a transposed A (see {@link #packA}). */
    private static final int A_CHUNK = 16;
    /** k steps per chunk when packing a transposed B (see {@link #packB}). */
    private static final int P_CHUNK = 64;

    private GemmPacking() {}

    /**
     * Packs the block op(A)[i0 : i0+mc, p0 : p0+kc] into ceil(mc/MR) row panels.
     * Panel q starts at dst[q*kc*MR]; inside it element (row r, step p) is at p*MR + r, so the
     * micro-kernel reads the MR values of one k step contiguously. Rows past mc are zero.
     * A is stored [m,k] (lda) or, when transA, [k,m] (lda).
     */
    static void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst) {
        // one method per layout: each is small enough for C2 to compile early and whole
        if (transA) packAColumns(a, aOff, lda, i0, mc, p0, kc, dst);
        else packARows(a, aOff, lda, i0, mc, p0, kc, dst);
    }

    /** packA for A stored [m,k]: MR row streams per panel. */
    private static void packARows(float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst) {
        for (int q = 0, ir = 0; ir < mc; q++, ir += MR) {
            int rows = Math.min(MR, mc - ir);
            int d = q * kc * MR;
            int src = aOff + (i0 + ir) * lda + p0;
            if (rows == MR && MR == 4) {
                // MR row streams read in step; one contiguous write of MR per k step
                int r0 = src, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda;
                for (int p = 0; p < kc; p++, d += MR) {
                    dst[d] = a[r0 + p];
                    dst[d + 1] = a[r1 + p];
                    dst[d + 2] = a[r2 + p];
                    dst[d + 3] = a[r3 + p];
                }
            } else if (rows == MR) {
                // 8 rows: two passes of 4 row streams each (4 streams is what the 256-bit path
                // measured best; 8 at once would exceed the free registers)
                for (int half = 0; half < MR; half += 4) {
                    int r0 = src + half * lda, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda;
                    for (int p = 0, dd = d + half; p < kc; p++, dd += MR) {
                        dst[dd] = a[r0 + p];
                        dst[dd + 1] = a[r1 + p];
                        dst[dd + 2] = a[r2 + p];
                        dst[dd + 3] = a[r3 + p];
                    }
                }
            } else {
                for (int p = 0; p < kc; p++, d += MR) {
                    for (int r = 0; r < rows; r++) dst[d + r] = a[src + r * lda + p];
                    for (int r = rows; r < MR; r++) dst[d + r] = 0f;
                }
            }
        }
    }

    /** packA for A stored [k,m] (transA). */
    private static void packAColumns(float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst) {
        // op(A)(i, p) = a[(p0+p)*lda + i]: MR contiguous values
        // per panel and k step. Consecutive panels are kc * MR floats apart (8 KiB): writing
        // one k step into every panel in turn hits the same L1 set again and again (that
        // order measured a quarter of a training step). So walk A_CHUNK stored rows at a
        // time, panel by panel: each panel receives A_CHUNK * MR contiguous floats, and the
        // A_CHUNK source rows stay in L1 while the panels move along them.
        int fullRows = mc - mc % MR;
        for (int p1 = 0; p1 < kc; p1 += A_CHUNK) {
            int p2 = Math.min(kc, p1 + A_CHUNK);
            int ir = 0;
            for (int q = 0; ir < fullRows; ir += MR, q++) {
                // MR contiguous floats: arraycopy, not a half-width vector: in the training step C2
                // sometimes left that vector's load out of line and boxed it (JFR: 45% of the
                // step's allocation at 512 bits); arraycopy of a constant length has no such path
                for (int p = p1, d = q * kc * MR + p1 * MR; p < p2; p++, d += MR)
                    System.arraycopy(a, aOff + (p0 + p) * lda + i0 + ir, dst, d, MR);
            }
            if (ir < mc) {
                int rows = mc - ir;
                for (int p = p1, d = (ir / MR) * kc * MR + p1 * MR; p < p2; p++, d += MR) {
                    int src = aOff + (p0 + p) * lda + i0 + ir;
                    for (int r = 0; r < rows; r++) dst[d + r] = a[src + r];
                    for (int r = rows; r < MR; r++) dst[d + r] = 0f;
                }
            }
        }
    }

    /**
     * Packs the block op(B)[p0 : p0+kc, j0 : j0+nc] into ceil(nc/NR) column panels.
     * Panel q starts at dst[q*kc*NR]; inside it element (step p, column c) is at p*NR + c, so the
     * micro-kernel loads the NR values of one k step as two contiguous vectors. Columns past nc
     * are zero. B is stored [k,n] (ldb) or, when transB, [n,k] (ldb).
     */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst) {
        if (transB) packBRows(b, bOff, ldb, p0, kc, j0, nc, dst);
        else packBColumns(b, bOff, ldb, p0, kc, j0, nc, dst);
    }

    /** packB for B stored [k,n]: each stored row once, NR values (two vectors) per panel. */
    private static void packBColumns(float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst) {
        final int V = S.length();
        // walk each stored row of B once, NR values (two vectors) per panel
        int fullCols = nc - nc % NR;
        for (int p = 0; p < kc; p++) {
            int src = bOff + (p0 + p) * ldb + j0;
            int jr = 0;
            for (int d = p * NR; jr < fullCols; jr += NR, d += kc * NR) {
                FloatVector.fromArray(S, b, src + jr).intoArray(dst, d);
                FloatVector.fromArray(S, b, src + jr + V).intoArray(dst, d + V);
            }
            if (jr < nc) {
                int d = (jr / NR) * kc * NR + p * NR, cols = nc - jr;
                for (int c = 0; c < cols; c++) dst[d + c] = b[src + jr + c];
                for (int c = cols; c < NR; c++) dst[d + c] = 0f;
            }
        }
    }

    /** packB for B stored [n,k] (transB). */
    private static void packBRows(float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst) {
        int fullCols = nc - nc % NR;
        int pVec = 0;
        if (SimdGemm.WIDE && fullCols > 0) {
            // AVX-512: the full panels' first kc - kc % 8 steps by 8 x 8 register transposes
            pVec = kc - kc % T;
            transposeFullPanels(b, bOff, ldb, p0, pVec, j0, fullCols, kc, dst);
        }
        packBRowsScalar(b, bOff, ldb, p0, kc, j0, 0, fullCols, pVec, dst);  // steps past the transposes
        packBRowsScalar(b, bOff, ldb, p0, kc, j0, fullCols, nc, 0, dst);    // the partial panel
    }

    /**
     * packBRows, scalar, for panel columns [c0, c1) of the block (c0 a multiple of NR) and steps
     * [pFrom, kc). op(B)(p, j) = b[j*ldb + p0 + p]: read the NR stored rows (columns of op(B)) of
     * a panel in chunks of P_CHUNK steps and scatter them with stride NR. The chunk keeps the
     * written part of the panel (P_CHUNK x NR floats: 4 KiB at 256 bits, 8 at 512) in L1:
     * scattering one whole column at a time walks all kc lines of the panel NR times.
     */
    private static void packBRowsScalar(float[] b, int bOff, int ldb, int p0, int kc, int j0, int c0, int c1, int pFrom, float[] dst) {
        if (pFrom >= kc) return;
        for (int q = c0 / NR, jr = c0; jr < c1; q++, jr += NR) {
            int cols = Math.min(NR, c1 - jr);
            int d = q * kc * NR;
            for (int p1 = pFrom; p1 < kc; p1 += P_CHUNK) {
                int p2 = Math.min(kc, p1 + P_CHUNK);
                for (int c = 0; c < cols; c++) {
                    int src = bOff + (j0 + jr + c) * ldb + p0;
                    for (int p = p1, dd = d + p1 * NR + c; p < p2; p++, dd += NR) dst[dd] = b[src + p];
                }
                for (int c = cols; c < NR; c++) {
                    for (int p = p1, dd = d + p1 * NR + c; p < p2; p++, dd += NR) dst[dd] = 0f;
                }
            }
        }
    }

    /** Side of the register transpose: 8 x 8 floats, one 256-bit vector per row. */
    private static final int T = 8;
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    /**
     * Lane sources of the transpose's three stages, for the pair (A, B) of rows d apart
     * (d = 1, 2, 4): lo[n] / hi[n] index the concatenation A:B (B's lanes are 8..15).
     * In groups of 2d lanes, lo takes d lanes of A then d of B from the group's first half,
     * hi the same from its second half. After the stage with d = 4, row i holds column i.
     */
    private static final float[] STAGE_LO = new float[3 * T], STAGE_HI = new float[3 * T];
    static {
        for (int s = 0, d = 1; s < 3; s++, d <<= 1) {
            for (int n = 0; n < T; n++) {
                int group = n / (2 * d) * 2 * d, r = n % (2 * d);
                int lo = r < d ? group + r : T + group + r - d;
                STAGE_LO[s * T + n] = lo;
                STAGE_HI[s * T + n] = lo + d;
            }
        }
    }

    /**
     * The full panels of packBRows, steps [0, pEnd) (pEnd a multiple of 8), as 8 x 8 transposes:
     * 8 stored rows x 8 steps are loaded as 8 vectors, transposed with 24 two-source selects
     * (vpermt2ps under AVX-512VL) and stored as 8 steps x 8 panel columns. The scalar form moves
     * one float per load and store; this one moves 8, with 3 selects per vector.
     */
    private static void transposeFullPanels(float[] b, int bOff, int ldb, int p0, int pEnd, int j0, int fullCols, int kc, float[] dst) {
        // index vectors made here, not static: C2 keeps them in registers only if it creates them
        FloatVector lo0 = FloatVector.fromArray(S8, STAGE_LO, 0), hi0 = FloatVector.fromArray(S8, STAGE_HI, 0);
        FloatVector lo1 = FloatVector.fromArray(S8, STAGE_LO, T), hi1 = FloatVector.fromArray(S8, STAGE_HI, T);
        FloatVector lo2 = FloatVector.fromArray(S8, STAGE_LO, 2 * T), hi2 = FloatVector.fromArray(S8, STAGE_HI, 2 * T);
        for (int jr = 0; jr < fullCols; jr += NR) {
            int d = (jr / NR) * kc * NR;
            for (int cg = 0; cg < NR; cg += T) {
                int src = bOff + (j0 + jr + cg) * ldb + p0;
                for (int p = 0; p < pEnd; p += T) {
                    int s = src + p;
                    FloatVector r0 = FloatVector.fromArray(S8, b, s), r1 = FloatVector.fromArray(S8, b, s + ldb);
                    FloatVector r2 = FloatVector.fromArray(S8, b, s + 2 * ldb), r3 = FloatVector.fromArray(S8, b, s + 3 * ldb);
                    FloatVector r4 = FloatVector.fromArray(S8, b, s + 4 * ldb), r5 = FloatVector.fromArray(S8, b, s + 5 * ldb);
                    FloatVector r6 = FloatVector.fromArray(S8, b, s + 6 * ldb), r7 = FloatVector.fromArray(S8, b, s + 7 * ldb);
                    // stage d = 1: pairs (0,1) (2,3) (4,5) (6,7)
                    FloatVector t0 = lo0.selectFrom(r0, r1), t1 = hi0.selectFrom(r0, r1);
                    FloatVector t2 = lo0.selectFrom(r2, r3), t3 = hi0.selectFrom(r2, r3);
                    FloatVector t4 = lo0.selectFrom(r4, r5), t5 = hi0.selectFrom(r4, r5);
                    FloatVector t6 = lo0.selectFrom(r6, r7), t7 = hi0.selectFrom(r6, r7);
                    // stage d = 2: pairs (0,2) (1,3) (4,6) (5,7)
                    FloatVector u0 = lo1.selectFrom(t0, t2), u2 = hi1.selectFrom(t0, t2);
                    FloatVector u1 = lo1.selectFrom(t1, t3), u3 = hi1.selectFrom(t1, t3);
                    FloatVector u4 = lo1.selectFrom(t4, t6), u6 = hi1.selectFrom(t4, t6);
                    FloatVector u5 = lo1.selectFrom(t5, t7), u7 = hi1.selectFrom(t5, t7);
                    // stage d = 4: pairs (0,4) (1,5) (2,6) (3,7); row i is now step p + i
                    int o = d + p * NR + cg;
                    lo2.selectFrom(u0, u4).intoArray(dst, o);
                    lo2.selectFrom(u1, u5).intoArray(dst, o + NR);
                    lo2.selectFrom(u2, u6).intoArray(dst, o + 2 * NR);
                    lo2.selectFrom(u3, u7).intoArray(dst, o + 3 * NR);
                    hi2.selectFrom(u0, u4).intoArray(dst, o + 4 * NR);
                    hi2.selectFrom(u1, u5).intoArray(dst, o + 5 * NR);
                    hi2.selectFrom(u2, u6).intoArray(dst, o + 6 * NR);
                    hi2.selectFrom(u3, u7).intoArray(dst, o + 7 * NR);
                }
            }
        }
    }
}
