package moelab.kernels;

/**
 * The numeric kernels the engine needs, on float[] arrays with explicit offsets and shapes.
 * All matrices are row-major. {@link ScalarKernels} is the plain reference every back end is
 * tested against; back ends plug in through {@link KernelsProvider} and {@link Backends}.
 *
 * <p>Contract for every implementation:
 * <ul>
 *   <li>Results are deterministic for a given back end and thread count (no racing reductions).</li>
 *   <li>Methods named {@code ...Backward} ACCUMULATE (+=) into their gradient outputs.</li>
 *   <li>Zero-sized dimensions are legal and do nothing (beyond what beta scaling implies).</li>
 *   <li>Implementations may be called from one thread at a time; they may use threads inside.
 *   The exception: the tasks of {@link #forEachTask} may call the kernels from several threads at once
 *   (all but the grouped expert kernels, which keep scratch per instance).</li>
 * </ul>
 */
public interface Kernels {

    /** Back-end name: "scalar", "simd", "native", "cuda". */
    String name();

    /** Threads this instance uses inside one call. */
    int threads();

    /**
     * Runs task(0) .. task(tasks-1) over this back end's threads; returns when all are done. For
     * work made of many kernel calls too small to split (e.g. one attention head per task): the
     * kernels a task calls run whole on that task's thread. Tasks must write disjoint outputs and
     * compute the same result whichever thread runs them, so results do not depend on the thread
     * count. The default runs them in order on the caller (back ends whose kernels are not safe
     * to call from several threads keep it).
     */
    default void forEachTask(int tasks, java.util.function.IntConsumer task) {
        for (int t = 0; t < tasks; t++) task.accept(t);
    }

    // ---------------------------------------------------------------- GEMM

    /**
     * C = alpha * op(A) * op(B) + beta * C, op(A) [m,k], op(B) [k,n], C [m,n].
     * A is stored [m,k] (lda >= k), or [k,m] (lda >= m) when transA; B is stored [k,n] (ldb >= n),
     * or [n,k] (ldb >= k) when transB; C is [m,n] with ldc >= n. beta == 0 ignores C's old values
     * (NaNs included).
     */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
               float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
               float beta, float[] c, int cOff, int ldc);

    // ---------------------------------------------------------------- row-wise ops (x [rows, cols])

    /** y[r,:] = softmax(x[r,:]). x and y may be the same region. */
    void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols);

    /** dx[r,:] += y[r,:] * (dy[r,:] - dot(dy[r,:], y[r,:])), y the softmax output. */
    void softmaxBackwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows, int cols);

    /** y[r,:] = x[r,:] - logsumexp(x[r,:]). x and y may be the same region. */
    void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols);

    /**
     * RMSNorm: invRms[r] = 1/sqrt(mean(x[r,:]^2) + eps); y[r,c] = x[r,c] * invRms[r] * w[c].
     * w [cols], invRms [rows] (written, kept for backward).
     */
    void rmsnormForward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] invRms, int invOff,
                        int rows, int cols, float eps);

    /**
     * RMSNorm backward from the forward's x, w and invRms: with xh = x*invRms,
     * dx += invRms * (w*dy - xh * mean(w*dy*xh)); dw += sum_r dy*xh. dx or dw may be null (skipped).
     */
    void rmsnormBackward(float[] x, int xOff, float[] w, int wOff, float[] invRms, int invOff, float[] dy, int dyOff,
                         float[] dx, int dxOff, float[] dw, int dwOff, int rows, int cols);

    /**
     * Top-k of each row: idx[r,j], val[r,j] (j < k) the k largest values in descending order; ties
     * go to the lower column index. NaN is not allowed in x. 0 <= k <= cols.
     */
    void topkRows(float[] x, int xOff, int rows, int cols, int k, int[] idx, int idxOff, float[] val, int valOff);

    // ---------------------------------------------------------------- elementwise (n values)

    /** h = silu(a) * b, silu(a) = a * sigmoid(a). h may alias a or b. */
    void swigluForward(float[] a, int aOff, float[] b, int bOff, float[] h, int hOff, int n);

    /** da += dh * b * silu'(a), db += dh * silu(a); silu'(a) = s(a) * (1 + a * (1 - s(a))). da or db may be null. */
    void swigluBackward(float[] a, int aOff, float[] b, int bOff, float[] dh, int dhOff,
                        float[] da, int daOff, float[] db, int dbOff, int n);

    /** out = a + b. out may alias a or b. */
    void add(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n);

    /** out = a * b. out may alias a or b. */
    void mul(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n);

    /** y += alpha * x. */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /** x *= alpha. */
    void scale(float alpha, float[] x, int xOff, int n);

    /** sum of x (accumulated in float in a fixed, back-end specific order). */
    float sum(float[] x, int xOff, int n);

    /** sum of a*b. */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    // ---------------------------------------------------------------- optimizer

    /**
     * One AdamW update of n parameters (decoupled weight decay), in exactly this float arithmetic
     * per element (no FMA, so every back end gives the same bits as the reference):
     * m = beta1*m + (1-beta1)*g; v = beta2*v + ((1-beta2)*g)*g;
     * w -= (stepSize*m) / (sqrt(v)*invSqrtBc2 + eps) + decay*w.
     * stepSize = lr / (1 - beta1^t), invSqrtBc2 = 1/sqrt(1 - beta2^t), decay = lr * weight decay.
     * w [n] at wOff; g, m, v [n] from offset 0.
     */
    void adamwUpdate(float[] w, int wOff, float[] g, float[] m, float[] v, int n,
                     float beta1, float beta2, float eps, float stepSize, float invSqrtBc2, float decay);

    // ---------------------------------------------------------------- grouped experts (MoE)

    /**
     * The routed SwiGLU experts of one MoE layer over a dispatch plan, forward. Expert e owns the
     * packed rows [offsets[e], offsets[e+1]) of x [S, d] (S = offsets[E], blocks may be empty);
     * with X_e those rows and n_e their count:
     * A_e = X_e·W1_e, B_e = X_e·W3_e [n_e, f]; H_e = silu(A_e) * B_e; Y_e = H_e·W2_e [n_e, d].
     * w1, w3 [E, d, f] and w2 [E, f, d] start at their offsets; x, a, b, h [S, f] and y [S, d]
     * start at 0 (a, b, h, y are written, every packed row). {@link ExpertLoop} is the reference.
     */
    void expertsForward(int experts, int d, int f, int[] offsets, float[] x,
                        float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                        float[] a, float[] b, float[] h, float[] y);

    /**
     * Backward of {@link #expertsForward} from dy [S, d] and the forward's x, a, b, h:
     * dW2_e += H_eᵀ·dY_e; dH = dY_e·W2_eᵀ; dA = dH * B * silu'(A), dB = dH * silu(A);
     * dW1_e += X_eᵀ·dA; dW3_e += X_eᵀ·dB; dX_e = dA·W1_eᵀ + dB·W3_eᵀ into dx [S, d] (written,
     * not accumulated). dx may be dy itself (a block's dY is read before its dX is written).
     * dx, dw1, dw3 [E, d, f] and dw2 [E, f, d] (from offset 0) may each be null: skipped.
     */
    void expertsBackward(int experts, int d, int f, int[] offsets, float[] x,
                         float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                         float[] a, float[] b, float[] h, float[] dy,
                         float[] dx, float[] dw1, float[] dw3, float[] dw2);

    // ---------------------------------------------------------------- memory-aware routing

    /** Floor on ||x||·||p|| in the cosine (PyTorch's cosine_similarity convention). */
    float COSINE_EPS = 1e-8f;

    /**
     * Memory-buffer similarity: m[t,i] = x_t·p_i / max(||x_t||·||p_i||, COSINE_EPS) for experts with
     * active[i], 0 for the others (an empty memory). x [T, d], p [E, d] (the experts' preference
     * vectors), active [E], m [T, E] (written).
     */
    void memorySimilarity(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                          int tokens, int experts, int d);

    /**
     * Backward of {@link #memorySimilarity} toward x only (p is a constant):
     * dx[t,:] += sum_i dm[t,i] * (p_i / (||x_t||·||p_i||) - m[t,i] * x_t / ||x_t||^2) over active experts,
     * and dx[t,:] += sum_i dm[t,i] * p_i / COSINE_EPS where the floor was hit (x_t or p_i ~ 0).
     * m is the forward's output. x, dx [T, d], p [E, d], m, dm [T, E].
     */
    void memorySimilarityBackward(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                  float[] dm, int dmOff, float[] dx, int dxOff, int tokens, int experts, int d);
}
