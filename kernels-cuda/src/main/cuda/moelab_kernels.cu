// moelab CUDA kernels. Shapes and launch grids: moelab_cuda.h. Built by nvcc into one fatbin
// (sm_80, sm_90, compute_90 PTX) that kernels-cuda loads through the driver API.
#include "moelab_cuda.h"
#include <cfloat>

#define COSINE_EPS 1e-8f
#define TM 4 // outputs per thread, rows
#define TN 4 // outputs per thread, columns
#define PAD 4 // keeps rows of the shared tiles 16-byte aligned and staggers banks

// ============================================================================ GEMM core
// Shared tiles hold op(A) as As[k][row] and op(B) as Bs[k][col], so the inner loop reads both
// with float4 (4 rows of A, 4 columns of B per thread: 16 FMAs per 2 vector loads).
struct Tiles {
    float a[MOE_BK][MOE_BM + PAD];
    float b[MOE_BK][MOE_BN + PAD];
};

// acc[i][j] += sum_k op(A)[r0 + ty*4 + i, k] * op(B)[k, c0 + tx*4 + j] for k in [0, K).
// op(A) [M,K]: A stored [M,K] (lda) or, when TA, [K,M]. op(B) [K,N]: B stored [K,N] (ldb) or, when
// TB, [N,K]. Out-of-range elements load as 0, so edge tiles need no special path. All 256 threads
// of the block must call it (it synchronizes).
template <bool TA, bool TB>
__device__ __forceinline__ void gemm_acc(const float* __restrict__ A, int lda, const float* __restrict__ B, int ldb,
                                         int M, int N, int K, int r0, int c0, float acc[TM][TN], Tiles& s) {
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    for (int k0 = 0; k0 < K; k0 += MOE_BK) {
#pragma unroll
        for (int l = 0; l < (MOE_BM * MOE_BK) / MOE_GEMM_THREADS; l++) {
            int i = tid + l * MOE_GEMM_THREADS, r, kk;
            // consecutive threads walk the stored matrix's contiguous dimension (coalesced)
            if (TA) { r = i & (MOE_BM - 1); kk = i / MOE_BM; } else { kk = i & (MOE_BK - 1); r = i / MOE_BK; }
            int gr = r0 + r, gk = k0 + kk;
            float v = 0.f;
            if (gr < M && gk < K) v = TA ? A[(size_t)gk * lda + gr] : A[(size_t)gr * lda + gk];
            s.a[kk][r] = v;
        }
#pragma unroll
        for (int l = 0; l < (MOE_BN * MOE_BK) / MOE_GEMM_THREADS; l++) {
            int i = tid + l * MOE_GEMM_THREADS, c, kk;
            if (TB) { kk = i & (MOE_BK - 1); c = i / MOE_BK; } else { c = i & (MOE_BN - 1); kk = i / MOE_BN; }
            int gc = c0 + c, gk = k0 + kk;
            float v = 0.f;
            if (gc < N && gk < K) v = TB ? B[(size_t)gc * ldb + gk] : B[(size_t)gk * ldb + gc];
            s.b[kk][c] = v;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < MOE_BK; kk++) {
            float4 a4 = *reinterpret_cast<const float4*>(&s.a[kk][ty * TM]);
            float4 b4 = *reinterpret_cast<const float4*>(&s.b[kk][tx * TN]);
            float a[TM] = {a4.x, a4.y, a4.z, a4.w}, b[TN] = {b4.x, b4.y, b4.z, b4.w};
#pragma unroll
            for (int i = 0; i < TM; i++)
#pragma unroll
                for (int j = 0; j < TN; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
}

__device__ __forceinline__ void zero(float acc[TM][TN]) {
#pragma unroll
    for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < TN; j++) acc[i][j] = 0.f;
}

// The output coordinates of acc[i][j] in this block: row r0 + ty*4 + i, column c0 + tx*4 + j.
#define FOR_EACH_OUTPUT(M, N, r0, c0, ...)                                    \
    {                                                                         \
        const int tx_ = threadIdx.x & 15, ty_ = threadIdx.x >> 4;             \
        _Pragma("unroll") for (int i = 0; i < TM; i++) {                      \
            int row = (r0) + ty_ * TM + i;                                    \
            if (row >= (M)) break;                                            \
            _Pragma("unroll") for (int j = 0; j < TN; j++) {                  \
                int col = (c0) + tx_ * TN + j;                                \
                if (col < (N)) { __VA_ARGS__; }                                  \
            }                                                                 \
        }                                                                     \
    }

// ============================================================================ plain GEMM
template <bool TA, bool TB>
__device__ void sgemm_body(int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
                           float beta, float* C, int ldc) {
    __shared__ __align__(16) Tiles s;
    const int r0 = blockIdx.y * MOE_BM, c0 = blockIdx.x * MOE_BN;
    float acc[TM][TN];
    zero(acc);
    gemm_acc<TA, TB>(A, lda, B, ldb, m, n, k, r0, c0, acc, s);
    FOR_EACH_OUTPUT(m, n, r0, c0, {
        float* c = &C[(size_t)row * ldc + col];
        *c = beta == 0.f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *c; // beta 0: old C (NaN) ignored
    })
}

#define SGEMM_KERNEL(name, TA, TB)                                                                     \
    extern "C" __global__ void __launch_bounds__(MOE_GEMM_THREADS) name(                              \
        int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb, float beta, \
        float* C, int ldc) {                                                                           \
        sgemm_body<TA, TB>(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);                              \
    }
SGEMM_KERNEL(moe_sgemm_nn, false, false)
SGEMM_KERNEL(moe_sgemm_nt, false, true)
SGEMM_KERNEL(moe_sgemm_tn, true, false)
SGEMM_KERNEL(moe_sgemm_tt, true, true)

// ============================================================================ grouped expert GEMMs
__device__ __forceinline__ float sigmoidf_(float a) { return 1.f / (1.f + expf(-a)); }

// X [S,d], W1, W3 [E,d,f] -> A, B, H [S,f]
extern "C" __global__ void __launch_bounds__(MOE_GEMM_THREADS)
moe_expert_up_swiglu(const int* off, int E, int d, int f, const float* X, const float* W1, const float* W3,
                     float* A, float* B, float* H) {
    __shared__ __align__(16) Tiles s;
    const int e = blockIdx.z, base = off[e], n = off[e + 1] - base;
    const int r0 = blockIdx.y * MOE_BM, c0 = blockIdx.x * MOE_BN;
    if (r0 >= n) return; // whole block: this expert has fewer rows
    const float* x = X + (size_t)base * d;
    float a[TM][TN], b[TM][TN];
    zero(a);
    zero(b);
    gemm_acc<false, false>(x, d, W1 + (size_t)e * d * f, f, n, f, d, r0, c0, a, s);
    gemm_acc<false, false>(x, d, W3 + (size_t)e * d * f, f, n, f, d, r0, c0, b, s);
    FOR_EACH_OUTPUT(n, f, r0, c0, {
        size_t o = (size_t)(base + row) * f + col;
        float av = a[i][j], bv = b[i][j];
        A[o] = av;
        B[o] = bv;
        H[o] = av * sigmoidf_(av) * bv; // fused SwiGLU epilogue
    })
}

// H [S,f], W2 [E,f,d] -> Y [S,d]
extern "C" __global__ void __launch_bounds__(MOE_GEMM_THREADS)
moe_expert_down(const int* off, int E, int d, int f, const float* H, const float* W2, float* Y) {
    __shared__ __align__(16) Tiles s;
    const int e = blockIdx.z, base = off[e], n = off[e + 1] - base;
    const int r0 = blockIdx.y * MOE_BM, c0 = blockIdx.x * MOE_BN;
    if (r0 >= n) return;
    float acc[TM][TN];
    zero(acc);
    gemm_acc<false, false>(H + (size_t)base * f, f, W2 + (size_t)e * f * d, d, n, d, f, r0, c0, acc, s);
    FOR_EACH_OUTPUT(n, d, r0, c0, { Y[(size_t)(base + row) * d + col] = acc[i][j]; })
}

// dY [S,d], W2 [E,f,d], A, B [S,f] -> dA, dB [S,f] (written)
extern "C" __global__ void __launch_bounds__(MOE_GEMM_THREADS)
moe_expert_dh_swiglu_bwd(const int* off, int E, int d, int f, const float* dY, const float* W2,
                         const float* A, const float* B, float* dA, float* dB) {
    __shared__ __align__(16) Tiles s;
    const int e = blockIdx.z, base = off[e], n = off[e + 1] - base;
    const int r0 = blockIdx.y * MOE_BM, c0 = blockIdx.x * MOE_BN;
    if (r0 >= n) return;
    float acc[TM][TN];
    zero(acc);
    // dH_e [n,f] = dY_e [n,d] · W2_eᵀ: W2_e stored [f,d] is op(B) transposed
    gemm_acc<false, true>(dY + (size_t)base * d, d, W2 + (size_t)e * f * d, d, n, f, d, r0, c0, acc, s);
    FOR_EACH_OUTPUT(n, f, r0, c0, {
        size_t o = (size_t)(base + row) * f + col;
        float av = A[o], bv = B[o], g = acc[i][j], sg = sigmoidf_(av);
        dA[o] = g * bv * sg * (1.f + av * (1.f - sg));
        dB[o] = g * av * sg;
    })
}

// H [S,f], dY [S,d] -> dW2 [E,f,d] (accumulated)
extern "C" __global__ void __launch_bounds__(MOE_GEMM_THREADS)
moe_expert_dw2(const int* off, int E, int d, int f, const float* H, const float* dY, float* dW2) {
    __shared__ __align__(16) Tiles s;
    const int e = blockIdx.z, base = off[e], n = off[e + 1] - base;
    const int r0 = blockIdx.y * MOE_BM, c0 = blockIdx.x * MOE_BN;
    if (n == 0) return; // nothing to add
    float acc[TM][TN];
    zero(acc);
    // H_eᵀ [f,n]: H_e stored [n,f] is op(A) transposed; K = n, the expert's rows
    gemm_acc<true, false>(H + (size_t)base * f, f, dY + (size_t)base * d, d, f, d, n, r0, c0, acc, s);
    float* w = dW2 + (size_t)e * f * d;
    FOR_EACH_OUTPUT(f, d, r0, c0, { w[(size_t)row * d + col] += acc[i][j]; })
}

// X [S,d], dA, dB [S,f] -> dW1, dW3 [E,d,f] (accumulated)
extern "C" __global__ void __launch_bounds__(MOE_GEMM_THREADS)
moe_expert_dw13(const int* off, int E, int d, int f, const float* X, const float* dA, const float* dB,
                float* dW1, float* dW3) {
    __shared__ __align__(16) Tiles s;
    const int e = blockIdx.z, base = off[e], n = off[e + 1] - base;
    const int r0 = blockIdx.y * MOE_BM, c0 = blockIdx.x * MOE_BN;
    if (n == 0) return;
    const float* x = X + (size_t)base * d;
    float a[TM][TN], b[TM][TN];
    zero(a);
    zero(b);
    gemm_acc<true, false>(x, d, dA + (size_t)base * f, f, d, f, n, r0, c0, a, s);
    gemm_acc<true, false>(x, d, dB + (size_t)base * f, f, d, f, n, r0, c0, b, s);
    float* w1 = dW1 + (size_t)e * d * f;
    float* w3 = dW3 + (size_t)e * d * f;
    FOR_EACH_OUTPUT(d, f, r0, c0, {
        size_t o = (size_t)row * f + col;
        w1[o] += a[i][j];
        w3[o] += b[i][j];
    })
}

// dA, dB [S,f], W1, W3 [E,d,f] -> dX [S,d] (written)
extern "C" __global__ void __launch_bounds__(MOE_GEMM_THREADS)
moe_expert_dx(const int* off, int E, int d, int f, const float* dA, const float* dB, const float* W1,
              const float* W3, float* dX) {
    __shared__ __align__(16) Tiles s;
    const int e = blockIdx.z, base = off[e], n = off[e + 1] - base;
    const int r0 = blockIdx.y * MOE_BM, c0 = blockIdx.x * MOE_BN;
    if (r0 >= n) return;
    float acc[TM][TN];
    zero(acc);
    // W1_e stored [d,f] is op(B) = W1_eᵀ [f,d] transposed; both products sum into one accumulator
    gemm_acc<false, true>(dA + (size_t)base * f, f, W1 + (size_t)e * d * f, f, n, d, f, r0, c0, acc, s);
    gemm_acc<false, true>(dB + (size_t)base * f, f, W3 + (size_t)e * d * f, f, n, d, f, r0, c0, acc, s);
    FOR_EACH_OUTPUT(n, d, r0, c0, { dX[(size_t)(base + row) * d + col] = acc[i][j]; })
}

// ============================================================================ warp helpers
// xor butterflies: every lane ends with the same bits (each step adds the same two values)
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
// (v, i) ranks above (w, j): larger value, or equal value and lower index; i < 0 means "none"
__device__ __forceinline__ bool ranks_above(float v, int i, float w, int j) {
    return i >= 0 && (j < 0 || v > w || (v == w && i < j));
}

// ============================================================================ softmax + top-k
// x [rows, cols] -> probs [rows, cols] (optional), idx, val [rows, k]
extern "C" __global__ void moe_softmax_topk(const float* x, int rows, int cols, int k, float* probs, int* idx,
                                            float* val, int do_softmax, int renorm) {
    const int lane = threadIdx.x & 31, r = blockIdx.x * MOE_ROW_WARPS + (threadIdx.x >> 5);
    if (r >= rows) return; // whole warp
    const float* xr = x + (size_t)r * cols;
    float max = -INFINITY, inv = 1.f;
    if (do_softmax) {
        for (int c = lane; c < cols; c += 32) max = fmaxf(max, xr[c]);
        max = warp_max(max);
        float sum = 0.f;
        for (int c = lane; c < cols; c += 32) sum += expf(xr[c] - max);
        inv = 1.f / warp_sum(sum);
        if (probs)
            for (int c = lane; c < cols; c += 32) probs[(size_t)r * cols + c] = expf(xr[c] - max) * inv;
    }
    // k rounds; round j picks the best element ranked below round j-1's pick (no per-row storage)
    float pv = INFINITY, gsum = 0.f;
    int pi = -1;
    for (int j = 0; j < k; j++) {
        float bv = 0.f;
        int bi = -1;
        for (int c = lane; c < cols; c += 32) {
            float v = do_softmax ? expf(xr[c] - max) * inv : xr[c];
            bool below = pi < 0 ? true : (v < pv || (v == pv && c > pi));
            if (j == 0) below = true;
            if (below && ranks_above(v, c, bv, bi)) { bv = v; bi = c; }
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            if (ranks_above(ov, oi, bv, bi)) { bv = ov; bi = oi; }
        }
        if (lane == 0) {
            idx[(size_t)r * k + j] = bi;
            val[(size_t)r * k + j] = bv;
        }
        gsum += bv;
        pv = bv;
        pi = bi;
    }
    if (renorm && lane == 0 && k > 0) {
        float g = 1.f / gsum;
        for (int j = 0; j < k; j++) val[(size_t)r * k + j] *= g;
    }
}

// ============================================================================ memory similarity
// x [rows, d] -> norms [rows]
extern "C" __global__ void moe_row_norms(const float* x, int rows, int d, float* norms) {
    const int lane = threadIdx.x & 31, r = blockIdx.x * MOE_ROW_WARPS + (threadIdx.x >> 5);
    if (r >= rows) return;
    float ss = 0.f;
    for (int c = lane; c < d; c += 32) { float v = x[(size_t)r * d + c]; ss = fmaf(v, v, ss); }
    ss = warp_sum(ss);
    if (lane == 0) norms[r] = sqrtf(ss);
}

// x [T,d], p [E,d], xnorm [T], pnorm [E], active [E] -> m [T,E]
extern "C" __global__ void __launch_bounds__(MOE_GEMM_THREADS)
moe_memory_similarity(const float* x, const float* p, const float* xnorm, const float* pnorm, const int* active,
                      float* m, int T, int E, int d) {
    __shared__ __align__(16) Tiles s;
    const int r0 = blockIdx.y * MOE_BM, c0 = blockIdx.x * MOE_BN;
    float acc[TM][TN];
    zero(acc);
    gemm_acc<false, true>(x, d, p, d, T, E, d, r0, c0, acc, s); // x·pᵀ, p stored [E,d]
    FOR_EACH_OUTPUT(T, E, r0, c0, {
        m[(size_t)row * E + col] = active[col] ? acc[i][j] / fmaxf(xnorm[row] * pnorm[col], COSINE_EPS) : 0.f;
    })
}

// xnorm [T], pnorm [E], active [E], m, dm [T,E] -> coef [T,E], xcoef [T]
extern "C" __global__ void moe_memory_sim_coef(const float* xnorm, const float* pnorm, const int* active,
                                               const float* m, const float* dm, float* coef, float* xcoef,
                                               int T, int E) {
    const int lane = threadIdx.x & 31, t = blockIdx.x * MOE_ROW_WARPS + (threadIdx.x >> 5);
    if (t >= T) return;
    const float xn = xnorm[t];
    float xc = 0.f;
    for (int i = lane; i < E; i += 32) {
        size_t o = (size_t)t * E + i;
        float g = dm[o], c = 0.f;
        if (active[i] && g != 0.f) {
            float prod = xn * pnorm[i];
            if (prod < COSINE_EPS) {
                c = g / COSINE_EPS; // floored: m = x·p / eps is linear in x
            } else {
                c = g / prod;
                xc -= g * m[o] / (xn * xn);
            }
        }
        coef[o] = c;
    }
    xc = warp_sum(xc);
    if (lane == 0) xcoef[t] = xc;
}

// coef [T,E], p [E,d], x [T,d], xcoef [T] -> dx [T,d] (accumulated)
extern "C" __global__ void __launch_bounds__(MOE_GEMM_THREADS)
moe_memory_sim_bwd(const float* coef, const float* p, const float* x, const float* xcoef, float* dx, int T, int E,
                   int d) {
    __shared__ __align__(16) Tiles s;
    const int r0 = blockIdx.y * MOE_BM, c0 = blockIdx.x * MOE_BN;
    float acc[TM][TN];
    zero(acc);
    gemm_acc<false, false>(coef, E, p, d, T, d, E, r0, c0, acc, s);
    FOR_EACH_OUTPUT(T, d, r0, c0, {
        size_t o = (size_t)row * d + col;
        dx[o] += acc[i][j] + xcoef[row] * x[o];
    })
}

// buf [E,cap,d], head, count [E], sum [E,d] (double), x [T,d], experts, kept [T*k] -> pref [E,d]
extern "C" __global__ void moe_buffer_push(float* buf, int* head, int* count, double* sum, float* pref,
                                           const float* x, const int* experts, const int* kept, int T, int k,
                                           int E, int cap, int d) {
    const int e = blockIdx.x;
    if (e >= E) return;
    // every thread follows the same ring state for its own columns: no synchronisation needed
    int h = head[e], cnt = count[e];
    float* b = buf + (size_t)e * cap * d;
    double* sm = sum + (size_t)e * d;
    for (int slot = 0; slot < T * k; slot++) { // token order, then slot order: FIFO is deterministic
        if (!kept[slot] || experts[slot] != e) continue;
        const float* xt = x + (size_t)(slot / k) * d;
        for (int c = threadIdx.x; c < d; c += blockDim.x) {
            if (cnt == cap) sm[c] -= (double)b[(size_t)h * d + c]; // evict the oldest
            b[(size_t)h * d + c] = xt[c];
            sm[c] += (double)xt[c];
        }
        h = (h + 1) % cap;
        cnt = min(cnt + 1, cap);
    }
    for (int c = threadIdx.x; c < d; c += blockDim.x) pref[(size_t)e * d + c] = cnt > 0 ? (float)(sm[c] / cnt) : 0.f;
    if (threadIdx.x == 0) {
        head[e] = h;
        count[e] = cnt;
    }
}

// ============================================================================ dispatch / combine
// x [T,d], token_of [S] -> xp [S,d]
extern "C" __global__ void moe_gather_rows(const float* x, const int* token_of, int S, int d, float* xp) {
    const int p = blockIdx.x;
    if (p >= S) return;
    const float* src = x + (size_t)token_of[p] * d;
    for (int c = threadIdx.x; c < d; c += blockDim.x) xp[(size_t)p * d + c] = src[c];
}

// y [S,d], gates [T,k], row_of [T*k] -> out [T,d]
extern "C" __global__ void moe_combine(const float* y, const float* gates, const int* row_of, int T, int k, int d,
                                       float* out) {
    const int t = blockIdx.x;
    if (t >= T) return;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        float acc = 0.f;
        for (int j = 0; j < k; j++) {
            int p = row_of[t * k + j];
            if (p >= 0) acc = fmaf(gates[t * k + j], y[(size_t)p * d + c], acc);
        }
        out[(size_t)t * d + c] = acc;
    }
}

// dout [T,d], gates [T*k], y [S,d] -> dy [S,d] (written), dgates [T*k] (accumulated)
extern "C" __global__ void moe_combine_bwd(const float* dout, const float* gates, const float* y, const int* token_of,
                                           const int* slot_of, int S, int d, float* dy, float* dgates) {
    __shared__ float part[128];
    const int p = blockIdx.x;
    if (p >= S) return;
    const int t = token_of[p], slot = slot_of[p];
    const float g = gates[slot];
    float dot = 0.f;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        float go = dout[(size_t)t * d + c];
        dy[(size_t)p * d + c] = g * go;
        dot = fmaf(go, y[(size_t)p * d + c], dot);
    }
    part[threadIdx.x] = dot;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) { // fixed tree: deterministic
        if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0 && dgates) dgates[slot] += part[0];
}

// dxp [S,d], row_of [T*k] -> dx [T,d] (accumulated)
extern "C" __global__ void moe_scatter_add_rows(const float* dxp, const int* row_of, int T, int k, int d, float* dx) {
    const int t = blockIdx.x;
    if (t >= T) return;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        float acc = dx[(size_t)t * d + c];
        for (int j = 0; j < k; j++) {
            int p = row_of[t * k + j];
            if (p >= 0) acc += dxp[(size_t)p * d + c];
        }
        dx[(size_t)t * d + c] = acc;
    }
}
