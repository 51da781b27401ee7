package moelab.nativ;

import static moelab.nativ.cblas_h.*;

/**
 * The "openblas" back end: SGEMM through the system OpenBLAS (cblas_sgemm), everything else
 * delegated to the SIMD back end. Meant as the reference peer in benchmarks. OpenBLAS's thread
 * count is process-wide: each call sets it to this instance's count when it differs from the last
 * one set, so a 1-thread comparison really runs OpenBLAS on one thread.
 */
public final class OpenBlasKernels extends SimdBackedKernels {
    private static int openBlasThreads = -1; // last value given to openblas_set_num_threads

    private final int threads;

    public OpenBlasKernels(int threads) {
        super(threads);   // rejects threads < 1 before anything else
        String reason = NativeLibrary.openBlas().unavailableReason();
        if (reason != null) throw new IllegalStateException("OpenBLAS unavailable: " + reason);
        this.threads = threads;
    }

    /** The OpenBLAS file in use. */
    public static String libraryPath() { return String.valueOf(NativeLibrary.openBlas().path()); }

    @Override public String name() { return "openblas"; }
    @Override public int threads() { return threads; }

    private static synchronized void useThreads(int threads) {
        if (openBlasThreads != threads) {
            openblas_set_num_threads(threads);
            openBlasThreads = threads;
        }
    }

    // C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C
    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        useThreads(threads);
        cblas_h.sgemm(cblas_h.cblas_sgemm$handle(), transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }
}
