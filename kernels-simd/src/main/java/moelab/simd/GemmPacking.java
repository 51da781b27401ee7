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
        // op(B)(p, j) = b[j*ldb + p0 + p]: read the NR stored rows (columns of op(B)) of a
        // panel in chunks of P_CHUNK steps and scatter them with stride NR. The chunk keeps
        // the written part of the panel (P_CHUNK x NR floats: 4 KiB at 256 bits, 8 at 512) in L1:
        // scattering one whole column at a time walks all kc lines of the panel NR times.
        for (int q = 0, jr = 0; jr < nc; q++, jr += NR) {
            int cols = Math.min(NR, nc - jr);
            int d = q * kc * NR;
            for (int p1 = 0; p1 < kc; p1 += P_CHUNK) {
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
}
