package moelab.simd;

import moelab.kernels.Kernels;
import moelab.kernels.ScalarKernels;

/**
 * The Java Vector API back end. Each kernel family lives in its own class; this class only
 * routes the interface to them. PLACEHOLDER routing: kernels not yet vectorized go to the scalar reference.
 */
public final class SimdKernels implements Kernels {
    private final Parallel parallel;
    private final SimdGemm gemm;
    private final ScalarKernels scalar = new ScalarKernels();

    public SimdKernels(int threads) {
        this.parallel = new Parallel(threads);
        this.gemm = new SimdGemm(parallel);
    }

    @Override public String name() { return "simd"; }
    @Override public int threads() { return parallel.threads(); }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        gemm.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override public void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) { scalar.softmaxRows(x, xOff, y, yOff, rows, cols); }
    @Override public void softmaxBackwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows, int cols) { scalar.softmaxBackwardRows(y, yOff, dy, dyOff, dx, dxOff, rows, cols); }
    @Override public void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) { scalar.logSoftmaxRows(x, xOff, y, yOff, rows, cols); }
    @Override public void rmsnormForward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] invRms, int invOff, int rows, int cols, float eps) { scalar.rmsnormForward(x, xOff, w, wOff, y, yOff, invRms, invOff, rows, cols, eps); }
    @Override public void rmsnormBackward(float[] x, int xOff, float[] w, int wOff, float[] invRms, int invOff, float[] dy, int dyOff, float[] dx, int dxOff, float[] dw, int dwOff, int rows, int cols) { scalar.rmsnormBackward(x, xOff, w, wOff, invRms, invOff, dy, dyOff, dx, dxOff, dw, dwOff, rows, cols); }
    @Override public void topkRows(float[] x, int xOff, int rows, int cols, int k, int[] idx, int idxOff, float[] val, int valOff) { scalar.topkRows(x, xOff, rows, cols, k, idx, idxOff, val, valOff); }
    @Override public void swigluForward(float[] a, int aOff, float[] b, int bOff, float[] h, int hOff, int n) { scalar.swigluForward(a, aOff, b, bOff, h, hOff, n); }
    @Override public void swigluBackward(float[] a, int aOff, float[] b, int bOff, float[] dh, int dhOff, float[] da, int daOff, float[] db, int dbOff, int n) { scalar.swigluBackward(a, aOff, b, bOff, dh, dhOff, da, daOff, db, dbOff, n); }
    @Override public void add(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) { scalar.add(a, aOff, b, bOff, out, outOff, n); }
    @Override public void mul(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) { scalar.mul(a, aOff, b, bOff, out, outOff, n); }
    @Override public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) { scalar.axpy(alpha, x, xOff, y, yOff, n); }
    @Override public void scale(float alpha, float[] x, int xOff, int n) { scalar.scale(alpha, x, xOff, n); }
    @Override public float sum(float[] x, int xOff, int n) { return scalar.sum(x, xOff, n); }
    @Override public float dot(float[] a, int aOff, float[] b, int bOff, int n) { return scalar.dot(a, aOff, b, bOff, n); }
}
