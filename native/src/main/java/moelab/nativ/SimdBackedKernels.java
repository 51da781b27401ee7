package moelab.nativ;

import moelab.kernels.ExpertLoop;
import moelab.kernels.Kernels;
import moelab.simd.SimdKernels;

/**
 * What the native back ends share: every kernel goes to the SIMD back end unless the subclass
 * implements it natively (it overrides the method). SGEMM has no default: each back end brings
 * its own.
 */
abstract class SimdBackedKernels implements Kernels {
    /** Runs whatever the subclass does not implement, on the same thread count. */
    final SimdKernels simd;

    SimdBackedKernels(int threads) {
        this.simd = new SimdKernels(threads);
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
    @Override public void adamwUpdate(float[] w, int wOff, float[] g, float[] m, float[] v, int n, float beta1, float beta2, float eps, float stepSize, float invSqrtBc2, float decay) { simd.adamwUpdate(w, wOff, g, m, v, n, beta1, beta2, eps, stepSize, invSqrtBc2, decay); }
    // x [S,d], w1, w3 [E,d,f], w2 [E,f,d] -> a, b, h [S,f], y [S,d]: the per-expert loop on this back end's sgemm
    @Override public void expertsForward(int experts, int d, int f, int[] offsets, float[] x, float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off, float[] a, float[] b, float[] h, float[] y) { ExpertLoop.forward(this, experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, y); }
    // dy [S,d] -> dx [S,d] (written), dw1, dw3 [E,d,f], dw2 [E,f,d] (accumulated)
    @Override public void expertsBackward(int experts, int d, int f, int[] offsets, float[] x, float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off, float[] a, float[] b, float[] h, float[] dy, float[] dx, float[] dw1, float[] dw3, float[] dw2) { ExpertLoop.backward(this, experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, dy, dx, dw1, dw3, dw2); }
    @Override public void memorySimilarity(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff, int tokens, int experts, int d) { simd.memorySimilarity(x, xOff, p, active, m, mOff, tokens, experts, d); }
    // x [T, d], p [E, d], active [E], m, dm [T, E] -> dx [T, d] (accumulated)
    @Override public void memorySimilarityBackward(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff, float[] dm, int dmOff, float[] dx, int dxOff, int tokens, int experts, int d) { simd.memorySimilarityBackward(x, xOff, p, active, m, mOff, dm, dmOff, dx, dxOff, tokens, experts, d); }
}
