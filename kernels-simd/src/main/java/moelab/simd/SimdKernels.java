package moelab.simd;

import moelab.kernels.Kernels;
import moelab.kernels.Parallel;

/**
 * The Java Vector API back end. Each kernel family lives in its own class; this class only
 * routes the interface to them. All of them share one thread pool.
 */
public final class SimdKernels implements Kernels {
    private final Parallel parallel;
    private final SimdGemm gemm;
    private final SimdSoftmax softmax;
    private final SimdRmsNorm rmsnorm;
    private final SimdSwiGlu swiglu;
    private final SimdTopK topk;
    private final SimdElementwise elementwise;
    private final SimdMemorySimilarity memory;
    private final SimdExperts experts;

    /** Throws IllegalArgumentException when the forced vector width is not allowed here (see {@link VectorWidth}). */
    public SimdKernels(int threads) {
        if (VectorWidth.ERROR != null) throw new IllegalArgumentException(VectorWidth.ERROR);
        this.parallel = new Parallel(threads);
        this.gemm = new SimdGemm(parallel);
        this.softmax = new SimdSoftmax(parallel);
        this.rmsnorm = new SimdRmsNorm(parallel);
        this.swiglu = new SimdSwiGlu(parallel);
        this.topk = new SimdTopK(parallel);
        this.elementwise = new SimdElementwise(parallel);
        this.memory = new SimdMemorySimilarity(parallel);
        this.experts = new SimdExperts(gemm, swiglu);
    }

    @Override public String name() { return "simd"; }
    @Override public int threads() { return parallel.threads(); }
    @Override public void forEachTask(int tasks, java.util.function.IntConsumer task) { parallel.run(tasks, task); }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        gemm.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    // x, y [rows, cols]
    @Override public void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) { softmax.softmaxRows(x, xOff, y, yOff, rows, cols); }
    // y, dy, dx [rows, cols]
    @Override public void softmaxBackwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows, int cols) { softmax.softmaxBackwardRows(y, yOff, dy, dyOff, dx, dxOff, rows, cols); }
    // x, y [rows, cols]
    @Override public void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) { softmax.logSoftmaxRows(x, xOff, y, yOff, rows, cols); }
    // x, y [rows, cols], w [cols], invRms [rows]
    @Override public void rmsnormForward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] invRms, int invOff, int rows, int cols, float eps) { rmsnorm.forward(x, xOff, w, wOff, y, yOff, invRms, invOff, rows, cols, eps); }
    // x, dy, dx [rows, cols], w, dw [cols], invRms [rows]
    @Override public void rmsnormBackward(float[] x, int xOff, float[] w, int wOff, float[] invRms, int invOff, float[] dy, int dyOff, float[] dx, int dxOff, float[] dw, int dwOff, int rows, int cols) { rmsnorm.backward(x, xOff, w, wOff, invRms, invOff, dy, dyOff, dx, dxOff, dw, dwOff, rows, cols); }
    // x [rows, cols] -> idx, val [rows, k]
    @Override public void topkRows(float[] x, int xOff, int rows, int cols, int k, int[] idx, int idxOff, float[] val, int valOff) { topk.topkRows(x, xOff, rows, cols, k, idx, idxOff, val, valOff); }
    // a, b, h [n]
    @Override public void swigluForward(float[] a, int aOff, float[] b, int bOff, float[] h, int hOff, int n) { swiglu.forward(a, aOff, b, bOff, h, hOff, n); }
    // a, b, dh, da, db [n]
    @Override public void swigluBackward(float[] a, int aOff, float[] b, int bOff, float[] dh, int dhOff, float[] da, int daOff, float[] db, int dbOff, int n) { swiglu.backward(a, aOff, b, bOff, dh, dhOff, da, daOff, db, dbOff, n); }
    @Override public void add(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) { elementwise.add(a, aOff, b, bOff, out, outOff, n); }
    @Override public void mul(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) { elementwise.mul(a, aOff, b, bOff, out, outOff, n); }
    @Override public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) { elementwise.axpy(alpha, x, xOff, y, yOff, n); }
    @Override public void scale(float alpha, float[] x, int xOff, int n) { elementwise.scale(alpha, x, xOff, n); }
    @Override public float sum(float[] x, int xOff, int n) { return elementwise.sum(x, xOff, n); }
    @Override public float dot(float[] a, int aOff, float[] b, int bOff, int n) { return elementwise.dot(a, aOff, b, bOff, n); }

    // w, g, m, v [n]
    @Override public void adamwUpdate(float[] w, int wOff, float[] g, float[] m, float[] v, int n,
                                      float beta1, float beta2, float eps, float stepSize, float invSqrtBc2, float decay) {
        elementwise.adamwUpdate(w, wOff, g, m, v, n, beta1, beta2, eps, stepSize, invSqrtBc2, decay);
    }

    // x [S,d], w1, w3 [E,d,f], w2 [E,f,d] -> a, b, h [S,f], y [S,d]
    @Override public void expertsForward(int numExperts, int d, int f, int[] offsets, float[] x,
                                         float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                                         float[] a, float[] b, float[] h, float[] y) {
        experts.forward(this, numExperts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, y);
    }
    // dy [S,d] -> dx [S,d] (written), dw1, dw3 [E,d,f], dw2 [E,f,d] (accumulated)
    @Override public void expertsBackward(int numExperts, int d, int f, int[] offsets, float[] x,
                                          float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                                          float[] a, float[] b, float[] h, float[] dy,
                                          float[] dx, float[] dw1, float[] dw3, float[] dw2) {
        experts.backward(this, numExperts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, dy, dx, dw1, dw3, dw2);
    }

    // x [T, d], p [E, d], active [E] -> m [T, E]
    @Override public void memorySimilarity(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                           int tokens, int experts, int d) {
        memory.forward(x, xOff, p, active, m, mOff, tokens, experts, d);
    }
    // x, dx [T, d], p [E, d], m, dm [T, E]
    @Override public void memorySimilarityBackward(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                                   float[] dm, int dmOff, float[] dx, int dxOff, int tokens, int experts, int d) {
        memory.backward(x, xOff, p, active, m, mOff, dm, dmOff, dx, dxOff, tokens, experts, d);
    }
}
