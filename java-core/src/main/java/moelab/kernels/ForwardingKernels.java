package moelab.kernels;

/**
 * Passes every kernel to another kernel set. A back end extends it and overrides only the kernels
 * it implements itself (the rest run on the inner set); a decorator such as {@link TimedKernels}
 * overrides to wrap the call. A kernel added to {@link Kernels} is forwarded here once, and every
 * back end built on this class runs its inner set's version until it brings its own.
 */
public abstract class ForwardingKernels implements Kernels {
    private final Kernels inner;

    protected ForwardingKernels(Kernels inner) {
        if (inner == null) throw new IllegalArgumentException(getClass().getSimpleName() + ": inner kernels must not be null");
        this.inner = inner;
    }

    /** The kernel set that runs what this one does not override. */
    public final Kernels inner() { return inner; }

    @Override public String name() { return inner.name(); }
    @Override public int threads() { return inner.threads(); }
    // forEachTask is not forwarded: the inner set's threads would call this set's kernels (an
    // external BLAS with threads of its own, a GPU context bound to one thread). A back end whose
    // kernels are safe there overrides it; a decorator forwards it itself.

    // C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C
    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        inner.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    // x, y [rows, cols]
    @Override
    public void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        inner.softmaxRows(x, xOff, y, yOff, rows, cols);
    }

    // y, dy, dx [rows, cols]
    @Override
    public void softmaxBackwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows, int cols) {
        inner.softmaxBackwardRows(y, yOff, dy, dyOff, dx, dxOff, rows, cols);
    }

    // x, y [rows, cols]
    @Override
    public void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        inner.logSoftmaxRows(x, xOff, y, yOff, rows, cols);
    }

    // x, y [rows, cols], w [cols], invRms [rows]
    @Override
    public void rmsnormForward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] invRms, int invOff,
                               int rows, int cols, float eps) {
        inner.rmsnormForward(x, xOff, w, wOff, y, yOff, invRms, invOff, rows, cols, eps);
    }

    // x, dy, dx [rows, cols], w, dw [cols], invRms [rows]
    @Override
    public void rmsnormBackward(float[] x, int xOff, float[] w, int wOff, float[] invRms, int invOff, float[] dy, int dyOff,
                                float[] dx, int dxOff, float[] dw, int dwOff, int rows, int cols) {
        inner.rmsnormBackward(x, xOff, w, wOff, invRms, invOff, dy, dyOff, dx, dxOff, dw, dwOff, rows, cols);
    }

    // x [rows, cols] -> idx, val [rows, k]
    @Override
    public void topkRows(float[] x, int xOff, int rows, int cols, int k, int[] idx, int idxOff, float[] val, int valOff) {
        inner.topkRows(x, xOff, rows, cols, k, idx, idxOff, val, valOff);
    }

    // a, b, h [n]
    @Override
    public void swigluForward(float[] a, int aOff, float[] b, int bOff, float[] h, int hOff, int n) {
        inner.swigluForward(a, aOff, b, bOff, h, hOff, n);
    }

    // a, b, dh, da, db [n]
    @Override
    public void swigluBackward(float[] a, int aOff, float[] b, int bOff, float[] dh, int dhOff,
                               float[] da, int daOff, float[] db, int dbOff, int n) {
        inner.swigluBackward(a, aOff, b, bOff, dh, dhOff, da, daOff, db, dbOff, n);
    }

    // a, b, out [n]
    @Override
    public void add(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        inner.add(a, aOff, b, bOff, out, outOff, n);
    }

    // a, b, out [n]
    @Override
    public void mul(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        inner.mul(a, aOff, b, bOff, out, outOff, n);
    }

    // x, y [n]
    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        inner.axpy(alpha, x, xOff, y, yOff, n);
    }

    // x [n]
    @Override
    public void scale(float alpha, float[] x, int xOff, int n) {
        inner.scale(alpha, x, xOff, n);
    }

    // x [n] -> scalar
    @Override
    public float sum(float[] x, int xOff, int n) {
        return inner.sum(x, xOff, n);
    }

    // a, b [n] -> scalar
    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return inner.dot(a, aOff, b, bOff, n);
    }

    // w, g, m, v [n]
    @Override
    public void adamwUpdate(float[] w, int wOff, float[] g, float[] m, float[] v, int n,
                            float beta1, float beta2, float eps, float stepSize, float invSqrtBc2, float decay) {
        inner.adamwUpdate(w, wOff, g, m, v, n, beta1, beta2, eps, stepSize, invSqrtBc2, decay);
    }

    // x [S,d], w1, w3 [E,d,f], w2 [E,f,d] -> a, b, h [S,f], y [S,d]
    @Override
    public void expertsForward(int experts, int d, int f, int[] offsets, float[] x,
                               float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                               float[] a, float[] b, float[] h, float[] y) {
        inner.expertsForward(experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, y);
    }

    // dy [S,d] -> dx [S,d] (written), dw1, dw3 [E,d,f], dw2 [E,f,d] (accumulated)
    @Override
    public void expertsBackward(int experts, int d, int f, int[] offsets, float[] x,
                                float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                                float[] a, float[] b, float[] h, float[] dy,
                                float[] dx, float[] dw1, float[] dw3, float[] dw2) {
        inner.expertsBackward(experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, dy, dx, dw1, dw3, dw2);
    }

    // x [T, d], p [E, d], active [E] -> m [T, E]
    @Override
    public void memorySimilarity(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                 int tokens, int experts, int d) {
        inner.memorySimilarity(x, xOff, p, active, m, mOff, tokens, experts, d);
    }

    // x, dx [T, d], p [E, d], active [E], m, dm [T, E] -> dx (accumulated)
    @Override
    public void memorySimilarityBackward(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                         float[] dm, int dmOff, float[] dx, int dxOff, int tokens, int experts, int d) {
        inner.memorySimilarityBackward(x, xOff, p, active, m, mOff, dm, dmOff, dx, dxOff, tokens, experts, d);
    }
}
