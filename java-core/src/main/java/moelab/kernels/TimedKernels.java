package moelab.kernels;

/**
 * A decorator that times any back end for {@link Profile}: each sgemm call is a {@link Profile#GEMM}
 * region (time, call count and 2*m*n*k flops), every other kernel call adds to the profile's
 * inclusive non-GEMM kernel time. Results are the inner back end's, unchanged. While the profile
 * is off it only forwards (one check per call). The kernels called by the tasks of
 * {@link #forEachTask} are not timed one by one (they overlap on several threads): the whole
 * section goes to the region around it.
 *
 * <p>Install with {@code Backends.use(new TimedKernels(Backends.get()))}. Ops capture the kernels
 * when they run, so install it before the forward pass whose backward should be timed too.
 */
public final class TimedKernels extends ForwardingKernels {
    public TimedKernels(Kernels inner) { super(inner); }

    // C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C
    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        if (!Profile.isOn()) {
            super.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        Profile.begin(Profile.GEMM);
        try {
            super.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } finally {
            Profile.end(Profile.GEMM);
        }
        Profile.addGemmFlops(2L * m * n * k);
    }

    /** The inner back end's tasks, with the profile suspended: the section is charged to the region around it. */
    @Override
    public void forEachTask(int tasks, java.util.function.IntConsumer task) {
        Profile.suspend();
        try {
            inner().forEachTask(tasks, task);
        } finally {
            Profile.resume();
        }
    }

    // ---------------------------------------------------------------- the rest: inclusive kernel time

    private static long start() { return Profile.isOn() ? System.nanoTime() : 0L; }

    private static void stop(long t0) { if (t0 != 0L) Profile.addKernel(System.nanoTime() - t0); }

    // x, y [rows, cols]
    @Override public void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        long t = start(); super.softmaxRows(x, xOff, y, yOff, rows, cols); stop(t);
    }
    // y, dy, dx [rows, cols]
    @Override public void softmaxBackwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows, int cols) {
        long t = start(); super.softmaxBackwardRows(y, yOff, dy, dyOff, dx, dxOff, rows, cols); stop(t);
    }
    // x, y [rows, cols]
    @Override public void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        long t = start(); super.logSoftmaxRows(x, xOff, y, yOff, rows, cols); stop(t);
    }
    // x, y [rows, cols], w [cols], invRms [rows]
    @Override public void rmsnormForward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] invRms, int invOff,
                                         int rows, int cols, float eps) {
        long t = start(); super.rmsnormForward(x, xOff, w, wOff, y, yOff, invRms, invOff, rows, cols, eps); stop(t);
    }
    // x, dy, dx [rows, cols], w, dw [cols], invRms [rows]
    @Override public void rmsnormBackward(float[] x, int xOff, float[] w, int wOff, float[] invRms, int invOff, float[] dy, int dyOff,
                                          float[] dx, int dxOff, float[] dw, int dwOff, int rows, int cols) {
        long t = start(); super.rmsnormBackward(x, xOff, w, wOff, invRms, invOff, dy, dyOff, dx, dxOff, dw, dwOff, rows, cols); stop(t);
    }
    // x [rows, cols] -> idx, val [rows, k]
    @Override public void topkRows(float[] x, int xOff, int rows, int cols, int k, int[] idx, int idxOff, float[] val, int valOff) {
        long t = start(); super.topkRows(x, xOff, rows, cols, k, idx, idxOff, val, valOff); stop(t);
    }
    // a, b, h [n]
    @Override public void swigluForward(float[] a, int aOff, float[] b, int bOff, float[] h, int hOff, int n) {
        long t = start(); super.swigluForward(a, aOff, b, bOff, h, hOff, n); stop(t);
    }
    // a, b, dh, da, db [n]
    @Override public void swigluBackward(float[] a, int aOff, float[] b, int bOff, float[] dh, int dhOff,
                                         float[] da, int daOff, float[] db, int dbOff, int n) {
        long t = start(); super.swigluBackward(a, aOff, b, bOff, dh, dhOff, da, daOff, db, dbOff, n); stop(t);
    }
    // a, b, out [n]
    @Override public void add(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        long t = start(); super.add(a, aOff, b, bOff, out, outOff, n); stop(t);
    }
    // a, b, out [n]
    @Override public void mul(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        long t = start(); super.mul(a, aOff, b, bOff, out, outOff, n); stop(t);
    }
    // x, y [n]
    @Override public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        long t = start(); super.axpy(alpha, x, xOff, y, yOff, n); stop(t);
    }
    // x [n]
    @Override public void scale(float alpha, float[] x, int xOff, int n) {
        long t = start(); super.scale(alpha, x, xOff, n); stop(t);
    }
    // x [n] -> scalar
    @Override public float sum(float[] x, int xOff, int n) {
        long t = start(); float s = super.sum(x, xOff, n); stop(t); return s;
    }
    // a, b [n] -> scalar
    @Override public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        long t = start(); float s = super.dot(a, aOff, b, bOff, n); stop(t); return s;
    }
    // x [S,d], w1, w3 [E,d,f], w2 [E,f,d] -> a, b, h [S,f], y [S,d]
    @Override
    public void expertsForward(int experts, int d, int f, int[] offsets, float[] x,
                               float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                               float[] a, float[] b, float[] h, float[] y) {
        if (!Profile.isOn()) { super.expertsForward(experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, y); return; }
        Profile.begin(Profile.GEMM);
        try { super.expertsForward(experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, y); } finally { Profile.end(Profile.GEMM); }
        Profile.addGemmFlops(3L * 2 * offsets[experts] * d * f); // A, B and Y
    }
    // dy [S,d] -> dx [S,d] (written), dw1, dw3 [E,d,f], dw2 [E,f,d] (accumulated)
    @Override
    public void expertsBackward(int experts, int d, int f, int[] offsets, float[] x,
                                float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                                float[] a, float[] b, float[] h, float[] dy,
                                float[] dx, float[] dw1, float[] dw3, float[] dw2) {
        if (!Profile.isOn()) { super.expertsBackward(experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, dy, dx, dw1, dw3, dw2); return; }
        Profile.begin(Profile.GEMM);
        try { super.expertsBackward(experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, dy, dx, dw1, dw3, dw2); } finally { Profile.end(Profile.GEMM); }
        boolean ab = dx != null || dw1 != null || dw3 != null;
        int products = (dw2 != null ? 1 : 0) + (ab ? 1 : 0) + (dw1 != null ? 1 : 0) + (dw3 != null ? 1 : 0) + (dx != null ? 2 : 0);
        Profile.addGemmFlops((long) products * 2 * offsets[experts] * d * f);
    }

    // w, g, m, v [n]
    @Override public void adamwUpdate(float[] w, int wOff, float[] g, float[] m, float[] v, int n,
                                      float beta1, float beta2, float eps, float stepSize, float invSqrtBc2, float decay) {
        long t = start(); super.adamwUpdate(w, wOff, g, m, v, n, beta1, beta2, eps, stepSize, invSqrtBc2, decay); stop(t);
    }
    // x [T, d], p [E, d], active [E] -> m [T, E]
    @Override public void memorySimilarity(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                           int tokens, int experts, int d) {
        long t = start(); super.memorySimilarity(x, xOff, p, active, m, mOff, tokens, experts, d); stop(t);
    }
    // dm [T, E] -> dx [T, d]
    @Override public void memorySimilarityBackward(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                                   float[] dm, int dmOff, float[] dx, int dxOff, int tokens, int experts, int d) {
        long t = start(); super.memorySimilarityBackward(x, xOff, p, active, m, mOff, dm, dmOff, dx, dxOff, tokens, experts, d); stop(t);
    }
}
