package moelab.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packing of GEMM operands into the panel layouts the micro-kernel reads (see {@link SimdGemm}).
 * Packing absorbs the transpose variants and the leading dimensions: after it, one micro-kernel
 * serves all four combinations. Panels past the matrix edge are padded with zeros, so the
 * micro-kernel always computes full MR x NR tiles; the padded lanes are simply not stored.
 */
final class GemmPacking {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;

    private GemmPacking() {}

    /**
     * Packs the block op(A)[i0 : i0+mc, p0 : p0+kc] into ceil(mc/MR) row panels.
     * Panel q starts at dst[q*kc*MR]; inside it element (row r, step p) is at p*MR + r, so the
     * micro-kernel reads the MR values of one k step contiguously. Rows past mc are zero.
     * A is stored [m,k] (lda) or, when transA, [k,m] (lda).
     */
    static void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst) {
        final int MR = SimdGemm.MR;
        for (int q = 0, ir = 0; ir < mc; q++, ir += MR) {
            int rows = Math.min(MR, mc - ir);
            int d = q * kc * MR;
            int i = i0 + ir;
            if (!transA) {
                if (rows == MR) {
                    // six row streams read in step; one contiguous write of 6 per k step
                    int r0 = aOff + i * lda + p0, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda;
                    for (int p = 0; p < kc; p++, d += MR) {
                        dst[d] = a[r0 + p];
                        dst[d + 1] = a[r1 + p];
                        dst[d + 2] = a[r2 + p];
                        dst[d + 3] = a[r3 + p];
                        dst[d + 4] = a[r4 + p];
                        dst[d + 5] = a[r5 + p];
                    }
                } else {
                    for (int p = 0; p < kc; p++, d += MR) {
                        for (int r = 0; r < rows; r++) dst[d + r] = a[aOff + (i + r) * lda + p0 + p];
                        for (int r = rows; r < MR; r++) dst[d + r] = 0f;
                    }
                }
            } else {
                // op(A)(i, p) = a[(p0+p)*lda + i]: the MR values of one k step are contiguous
                int src = aOff + p0 * lda + i;
                for (int p = 0; p < kc; p++, d += MR, src += lda) {
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
        final int NR = SimdGemm.NR;
        final int V = S.length();
        for (int q = 0, jr = 0; jr < nc; q++, jr += NR) {
            int cols = Math.min(NR, nc - jr);
            int d = q * kc * NR;
            int j = j0 + jr;
            if (!transB) {
                int src = bOff + p0 * ldb + j;
                if (cols == NR) {
                    for (int p = 0; p < kc; p++, d += NR, src += ldb) {
                        FloatVector.fromArray(S, b, src).intoArray(dst, d);
                        FloatVector.fromArray(S, b, src + V).intoArray(dst, d + V);
                    }
                } else {
                    for (int p = 0; p < kc; p++, d += NR, src += ldb) {
                        for (int c = 0; c < cols; c++) dst[d + c] = b[src + c];
                        for (int c = cols; c < NR; c++) dst[d + c] = 0f;
                    }
                }
            } else {
                // op(B)(p, j) = b[j*ldb + p0 + p]: read each column of op(B) sequentially,
                // scatter it with stride NR into the panel (the panel stays in L1)
                for (int c = 0; c < cols; c++) {
                    int src = bOff + (j + c) * ldb + p0;
                    for (int p = 0, dd = d + c; p < kc; p++, dd += NR) dst[dd] = b[src + p];
                }
                for (int c = cols; c < NR; c++) {
                    for (int p = 0, dd = d + c; p < kc; p++, dd += NR) dst[dd] = 0f;
                }
            }
        }
    }
}
