package moelab.kernels;

/**
 * The plain reference: one loop nest per kernel, written to be obviously right, not fast.
 * Every other back end is tested against it. Single-threaded.
 */
public final class ScalarKernels implements Kernels {

    @Override public String name() { return "scalar"; }
    @Override public int threads() { return 1; }

    // C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C
    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float acc = 0f;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    acc += av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0f ? alpha * acc : alpha * acc + beta * c[ci];
            }
        }
    }

    // x, y [rows, cols]
    @Override
    public void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int xr = xOff + r * cols, yr = yOff + r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, x[xr + c]);
            float sum = 0f;
            for (int c = 0; c < cols; c++) { float e = (float) Math.exp(x[xr + c] - max); y[yr + c] = e; sum += e; }
            float inv = 1f / sum;
            for (int c = 0; c < cols; c++) y[yr + c] *= inv;
        }
    }

    // y, dy, dx [rows, cols]
    @Override
    public void softmaxBackwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            float dot = 0f;
            for (int c = 0; c < cols; c++) dot += dy[dyOff + r * cols + c] * y[yOff + r * cols + c];
            for (int c = 0; c < cols; c++)
                dx[dxOff + r * cols + c] += y[yOff + r * cols + c] * (dy[dyOff + r * cols + c] - dot);
        }
    }

    // x, y [rows, cols]
    @Override
    public void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int xr = xOff + r * cols, yr = yOff + r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, x[xr + c]);
            float sum = 0f;
            for (int c = 0; c < cols; c++) sum += (float) Math.exp(x[xr + c] - max);
            float logSum = (float) Math.log(sum);
            // (x - max) - log(sum), not x - (max + log(sum)): exact for large logits
            for (int c = 0; c < cols; c++) y[yr + c] = (x[xr + c] - max) - logSum;
        }
    }

    // x, y [rows, cols], w [cols], invRms [rows]
    @Override
    public void rmsnormForward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] invRms, int invOff,
                               int rows, int cols, float eps) {
        for (int r = 0; r < rows; r++) {
            float ss = 0f;
            for (int c = 0; c < cols; c++) { float v = x[xOff + r * cols + c]; ss += v * v; }
            float inv = (float) (1.0 / Math.sqrt(ss / cols + eps));
            invRms[invOff + r] = inv;
            for (int c = 0; c < cols; c++) y[yOff + r * cols + c] = x[xOff + r * cols + c] * inv * w[wOff + c];
        }
    }

    // x, dy, dx [rows, cols], w, dw [cols], invRms [rows]
    @Override
    public void rmsnormBackward(float[] x, int xOff, float[] w, int wOff, float[] invRms, int invOff, float[] dy, int dyOff,
                                float[] dx, int dxOff, float[] dw, int dwOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            float inv = invRms[invOff + r];
            float meanTerm = 0f; // mean over c of (w*dy) * xh
            for (int c = 0; c < cols; c++) {
                float xh = x[xOff + r * cols + c] * inv;
                meanTerm += w[wOff + c] * dy[dyOff + r * cols + c] * xh;
            }
            meanTerm /= cols;
            for (int c = 0; c < cols; c++) {
                float xh = x[xOff + r * cols + c] * inv;
                float g = dy[dyOff + r * cols + c];
                if (dx != null) dx[dxOff + r * cols + c] += inv * (w[wOff + c] * g - xh * meanTerm);
                if (dw != null) dw[dwOff + c] += g * xh;
            }
        }
    }

    // x [rows, cols] -> idx, val [rows, k]
    @Override
    public void topkRows(float[] x, int xOff, int rows, int cols, int k, int[] idx, int idxOff, float[] val, int valOff) {
        if (k < 0 || k > cols) throw new IllegalArgumentException("topk: k=" + k + " must be in [0, " + cols + "]");
        for (int r = 0; r < rows; r++) {
            boolean[] taken = new boolean[cols];
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int c = 0; c < cols; c++) {
                    if (taken[c]) continue;
                    if (best < 0 || x[xOff + r * cols + c] > x[xOff + r * cols + best]) best = c;
                }
                taken[best] = true;
                idx[idxOff + r * k + j] = best;
                val[valOff + r * k + j] = x[xOff + r * cols + best];
            }
        }
    }

    static float sigmoid(float v) { return (float) (1.0 / (1.0 + Math.exp(-v))); }

    // a, b, h [n]
    @Override
    public void swigluForward(float[] a, int aOff, float[] b, int bOff, float[] h, int hOff, int n) {
        for (int i = 0; i < n; i++) {
            float av = a[aOff + i];
            h[hOff + i] = av * sigmoid(av) * b[bOff + i];
        }
    }

    // a, b, dh, da, db [n]
    @Override
    public void swigluBackward(float[] a, int aOff, float[] b, int bOff, float[] dh, int dhOff,
                               float[] da, int daOff, float[] db, int dbOff, int n) {
        for (int i = 0; i < n; i++) {
            float av = a[aOff + i], s = sigmoid(av), g = dh[dhOff + i];
            if (da != null) da[daOff + i] += g * b[bOff + i] * s * (1f + av * (1f - s));
            if (db != null) db[dbOff + i] += g * av * s;
        }
    }

    @Override
    public void add(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = a[aOff + i] + b[bOff + i];
    }

    @Override
    public void mul(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = a[aOff + i] * b[bOff + i];
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    @Override
    public void scale(float alpha, float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) x[xOff + i] *= alpha;
    }

    @Override
    public float sum(float[] x, int xOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += x[xOff + i];
        return s;
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    // w, g, m, v [n]
    @Override
    public void adamwUpdate(float[] w, int wOff, float[] g, float[] m, float[] v, int n,
                            float beta1, float beta2, float eps, float stepSize, float invSqrtBc2, float decay) {
        for (int j = 0; j < n; j++) {
            float gj = g[j];
            m[j] = beta1 * m[j] + (1 - beta1) * gj;
            v[j] = beta2 * v[j] + (1 - beta2) * gj * gj;
            float denom = (float) Math.sqrt(v[j]) * invSqrtBc2 + eps;
            w[wOff + j] -= stepSize * m[j] / denom + decay * w[wOff + j];
        }
    }

    // x [S,d], w1, w3 [E,d,f], w2 [E,f,d] -> a, b, h [S,f], y [S,d]
    @Override
    public void expertsForward(int experts, int d, int f, int[] offsets, float[] x,
                               float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                               float[] a, float[] b, float[] h, float[] y) {
        ExpertLoop.forward(this, experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, y);
    }
    // dy [S,d] -> dx [S,d] (written), dw1, dw3 [E,d,f], dw2 [E,f,d] (accumulated)
    @Override
    public void expertsBackward(int experts, int d, int f, int[] offsets, float[] x,
                                float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                                float[] a, float[] b, float[] h, float[] dy,
                                float[] dx, float[] dw1, float[] dw3, float[] dw2) {
        ExpertLoop.backward(this, experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, dy, dx, dw1, dw3, dw2);
    }

    // x [T, d], p [E, d], active [E] -> m [T, E]
    @Override
    public void memorySimilarity(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                 int tokens, int experts, int d) {
        float[] pNorm = rowNorms(p, 0, experts, d);
        for (int t = 0; t < tokens; t++) {
            float xNorm = norm(x, xOff + t * d, d);
            for (int i = 0; i < experts; i++) {
                if (!active[i]) { m[mOff + t * experts + i] = 0f; continue; }
                float dot = dot(x, xOff + t * d, p, i * d, d);
                m[mOff + t * experts + i] = dot / Math.max(xNorm * pNorm[i], COSINE_EPS);
            }
        }
    }

    // x [T, d], p [E, d], active [E], m, dm [T, E] -> dx [T, d] (accumulated)
    @Override
    public void memorySimilarityBackward(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                         float[] dm, int dmOff, float[] dx, int dxOff, int tokens, int experts, int d) {
        float[] pNorm = rowNorms(p, 0, experts, d);
        for (int t = 0; t < tokens; t++) {
            float xNorm = norm(x, xOff + t * d, d);
            float xCoef = 0f;                                  // coefficient of x_t
            for (int i = 0; i < experts; i++) {
                float g = dm[dmOff + t * experts + i];
                if (!active[i] || g == 0f) continue;
                float prod = xNorm * pNorm[i];
                float pCoef;
                if (prod < COSINE_EPS) {
                    pCoef = g / COSINE_EPS;                    // m = x·p / eps: linear in x
                } else {
                    pCoef = g / prod;
                    xCoef -= g * m[mOff + t * experts + i] / (xNorm * xNorm);
                }
                axpy(pCoef, p, i * d, dx, dxOff + t * d, d);
            }
            if (xCoef != 0f) axpy(xCoef, x, xOff + t * d, dx, dxOff + t * d, d);
        }
    }

    private float norm(float[] v, int off, int d) { return (float) Math.sqrt(dot(v, off, v, off, d)); }

    private float[] rowNorms(float[] v, int off, int rows, int d) {
        float[] n = new float[rows];
        for (int r = 0; r < rows; r++) n[r] = norm(v, off + r * d, d);
        return n;
    }
}
