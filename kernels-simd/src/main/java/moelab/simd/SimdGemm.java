package moelab.simd;

import moelab.kernels.ScalarKernels;

/**
 * SGEMM with the Vector API. PLACEHOLDER until the packed, blocked, register-tiled version lands:
 * delegates to the scalar reference.
 */
final class SimdGemm {
    private final Parallel parallel;
    private final ScalarKernels reference = new ScalarKernels();

    SimdGemm(Parallel parallel) { this.parallel = parallel; }

    // C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
               float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
               float beta, float[] c, int cOff, int ldc) {
        reference.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }
}
