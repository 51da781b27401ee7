package moelab.nativ;

import java.lang.foreign.MemorySegment;
import moelab.kernels.Kernels;
import moelab.simd.SimdKernels;

import static moelab.nativ.cblas_h.*;

/**
 * The "openblas" back end: SGEMM through the system OpenBLAS (cblas_sgemm), everything else
 * delegated to the SIMD back end. Meant as the reference peer in benchmarks. OpenBLAS's thread
 * count is process-wide: each call sets it to this instance's count when it differs from the last
 * one set, so a 1-thread comparison really runs OpenBLAS on one thread.
 */
public final class OpenBlasKernels implements Kernels {
    private static int openBlasThreads = -1; // last value given to openblas_set_num_threads

    private final int threads;
    private final SimdKernels simd;

    public OpenBlasKernels(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        String reason = NativeLibrary.openBlas().unavailableReason();
        if (reason != null) throw new IllegalStateException("OpenBLAS unavailable: " + reason);
        this.threads = threads;
        this.simd = new SimdKernels(threads);
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

    // x, y [rows, cols]
    @Override public void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) { simd.softmaxRows(x, xOff, y, yOff, rows, cols); }
    // y, dy, dx [rows, cols]
    @Override public void softmaxBackwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows, int cols) { simd.softmaxBackwardRows(y, yOff, dy, dyOff, dx, dxOff, rows, cols); }
    // x, y [rows, cols]
    @Override public void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) { simd.logSoftmaxRows(x, xOff, y, yOff, rows, cols); }
    // x, y [rows, cols], w [cols], invRms [rows]
    @Override public void rmsnormForward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] invRms, int invOff, int rows, int cols, float eps) { simd.rmsnormForward(x, xOff, w, wOff, y, yOff, invRms, invOff, rows, cols, eps); }
    // x, dy, dx [rows, cols], w, dw [cols], invRms [rows]
    @Override public void rmsnormBackward(float[] x, int xOff, float[] w, int wOff, float[] invRms, int invOff, float[] dy, int dyOff, float[] dx, int dxOff, float[] dw, int dwOff, int rows, int cols) { simd.rmsnormBackward(x, xOff, w, wOff, invRms, invOff, dy, dyOff, dx, dxOff, dw, dwOff, rows, cols); }
    // x [rows, cols] -> idx, val [rows, k]
    @Override public void topkRows(float[] x, int xOff, int rows, int cols, int k, int[] idx, int idxOff, float[] val, int valOff) { simd.topkRows(x, xOff, rows, cols, k, idx, idxOff, val, valOff); }
    // a, b, h [n]
    @Override public void swigluForward(float[] a, int aOff, float[] b, int bOff, float[] h, int hOff, int n) { simd.swigluForward(a, aOff, b, bOff, h, hOff, n); }
    // a, b, dh, da, db [n]
    @Override public void swigluBackward(float[] a, int aOff, float[] b, int bOff, float[] dh, int dhOff, float[] da, int daOff, float[] db, int dbOff, int n) { simd.swigluBackward(a, aOff, b, bOff, dh, dhOff, da, daOff, db, dbOff, n); }
    @Override public void add(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) { simd.add(a, aOff, b, bOff, out, outOff, n); }
    @Override public void mul(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) { simd.mul(a, aOff, b, bOff, out, outOff, n); }
    @Override public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) { simd.axpy(alpha, x, xOff, y, yOff, n); }
    @Override public void scale(float alpha, float[] x, int xOff, int n) { simd.scale(alpha, x, xOff, n); }
    @Override public float sum(float[] x, int xOff, int n) { return simd.sum(x, xOff, n); }
    @Override public float dot(float[] a, int aOff, float[] b, int bOff, int n) { return simd.dot(a, aOff, b, bOff, n); }
    // x [T, d], p [E, d], active [E] -> m [T, E]
    @Override public void memorySimilarity(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff, int tokens, int experts, int d) { simd.memorySimilarity(x, xOff, p, active, m, mOff, tokens, experts, d); }
    // x [T, d], p [E, d], active [E], m, dm [T, E] -> dx [T, d] (accumulated)
    @Override public void memorySimilarityBackward(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff, float[] dm, int dmOff, float[] dx, int dxOff, int tokens, int experts, int d) { simd.memorySimilarityBackward(x, xOff, p, active, m, mOff, dm, dmOff, dx, dxOff, tokens, experts, d); }
}
