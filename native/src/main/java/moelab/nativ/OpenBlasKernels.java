package moelab.nativ;

import java.lang.foreign.MemorySegment;

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
        String shapes = NativeKernels.checkGemm(transA, transB, m, n, k, lda, ldb, ldc);
        if (m == 0 || n == 0) return;
        MemorySegment cs = NativeKernels.seg(shapes, "C", c, cOff, NativeKernels.span(m, n, ldc));
        if (k == 0) {
            // CBLAS rejects lda = 0; the product is empty, so C = beta * C (beta == 0 clears NaNs)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    int ci = cOff + i * ldc + j;
                    c[ci] = beta == 0f ? 0f : beta * c[ci];
                }
            return;
        }
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        MemorySegment as = NativeKernels.seg(shapes, "A", a, aOff, NativeKernels.span(aRows, aCols, lda));
        MemorySegment bs = NativeKernels.seg(shapes, "B", b, bOff, NativeKernels.span(bRows, bCols, ldb));
        useThreads(threads);
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k,
                alpha, as, lda, bs, ldb, beta, cs, ldc);
    }
}
