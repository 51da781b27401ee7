// Standalone test and benchmark of the moelab CUDA kernels: no JVM needed.
//   kernels-cuda/src/main/cuda/build.sh selftest OUT && OUT/cuda_selftest [--bench-only|--test-only]
// Checks every kernel against a CPU reference (double accumulation) on awkward shapes (sizes 1,
// primes, experts with 0 and 1 rows, ties in top-k), then times the grouped expert GEMMs against
// cuBLAS (an SGEMM per expert, fp32, default math mode: no TF32) and prints TFLOP/s and % of cuBLAS.
// cuBLAS is loaded at run time with dlopen (CUBLAS_LIB, else libcublas.so.13 / .12 / .so on the
// loader path), so the program builds with nvcc alone; without cuBLAS the comparison is skipped.
// Exits 1 when any check fails.
#include "../moelab_kernels.cu"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using std::vector;

#define CK(call)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            fprintf(stderr, "%s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #call, cudaGetErrorName(e_), \
                    cudaGetErrorString(e_));                                                       \
            exit(2);                                                                               \
        }                                                                                          \
    } while (0)

static int failures = 0;
static const double U = 1.0 / (1 << 24); // float32 unit roundoff

static vector<float> randn(size_t n, std::mt19937& g, float sd = 1.f) {
    std::normal_distribution<float> d(0.f, sd);
    vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

// ---------------------------------------------------------------- device buffers
template <typename T>
struct Dev {
    T* p = nullptr;
    size_t n = 0;
    Dev() {}
    explicit Dev(size_t n_) : n(n_) { CK(cudaMalloc(&p, std::max<size_t>(1, n) * sizeof(T))); CK(cudaMemset(p, 0, std::max<size_t>(1, n) * sizeof(T))); }
    explicit Dev(const vector<T>& h) : Dev(h.size()) { if (n) CK(cudaMemcpy(p, h.data(), n * sizeof(T), cudaMemcpyHostToDevice)); }
    vector<T> get() const { vector<T> h(n); if (n) CK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost)); return h; }
    ~Dev() { if (p) cudaFree(p); }
    Dev(const Dev&) = delete;
    Dev& operator=(const Dev&) = delete;
};

static void sync(const char* what) {
    cudaError_t e = cudaDeviceSynchronize();
    if (e == cudaSuccess) e = cudaGetLastError();
    if (e != cudaSuccess) { fprintf(stderr, "%s: %s (%s)\n", what, cudaGetErrorName(e), cudaGetErrorString(e)); exit(2); }
}

// |got - exp| <= tol[i] (scale: per element or one value)
static void check(const std::string& what, const vector<float>& exp, const vector<float>& got, const vector<double>& tol) {
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < exp.size(); i++) {
        double d = std::fabs((double)got[i] - exp[i]);
        bool nanMismatch = std::isnan(exp[i]) != std::isnan(got[i]);
        if (nanMismatch || (!(d <= tol[i]) && exp[i] != got[i])) { if (!bad) first = i; bad++; }
    }
    if (bad) {
        failures++;
        printf("FAIL %s: %zu of %zu elements off, first [%zu] expected %.9g got %.9g (tol %.3g)\n", what.c_str(), bad,
               exp.size(), first, exp[first], got[first], tol[first]);
    } else {
        printf("ok   %s\n", what.c_str());
    }
}
static void check(const std::string& what, const vector<float>& exp, const vector<float>& got, double relTerms) {
    double scale = 1e-30;
    for (float v : exp) scale = std::max(scale, (double)std::fabs(v));
    check(what, exp, got, vector<double>(exp.size(), relTerms * U * scale));
}

// ---------------------------------------------------------------- references (double accumulation)
static float opA(const vector<float>& a, bool t, int lda, int i, int p) { return t ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]; }

static void test_sgemm() {
    std::mt19937 g(1);
    int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {64, 64, 64}, {130, 67, 129}, {1, 200, 3}, {257, 1, 100}};
    const char* names[] = {"nn", "nt", "tn", "tt"};
    for (auto& s : shapes)
        for (int v = 0; v < 4; v++) {
            int m = s[0], n = s[1], k = s[2];
            bool ta = v & 2, tb = v & 1;
            int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 3;
            vector<float> a = randn((size_t)(ta ? k : m) * lda, g), b = randn((size_t)(tb ? n : k) * ldb, g), c = randn((size_t)m * ldc, g);
            float alpha = 1.25f, beta = v % 2 ? 0.5f : 0.f;
            vector<float> exp = c;
            vector<double> tol(c.size(), 0.0);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double acc = 0, mag = 0;
                    for (int p = 0; p < k; p++) {
                        double t = (double)opA(a, ta, lda, i, p) * (tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j]);
                        acc += t;
                        mag += std::fabs(t);
                    }
                    size_t o = (size_t)i * ldc + j;
                    exp[o] = (float)(alpha * acc + beta * c[o]);
                    tol[o] = 2 * (k + 2) * U * (std::fabs(alpha) * mag + std::fabs(beta * c[o]));
                }
            if (beta == 0.f) for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = NAN; // ignored
            Dev<float> da(a), db(b), dc(c);
            dim3 grid(moe_ceil_div(n, MOE_BN), moe_ceil_div(m, MOE_BM));
            if (v == 0) moe_sgemm_nn<<<grid, MOE_GEMM_THREADS>>>(m, n, k, alpha, da.p, lda, db.p, ldb, beta, dc.p, ldc);
            if (v == 1) moe_sgemm_nt<<<grid, MOE_GEMM_THREADS>>>(m, n, k, alpha, da.p, lda, db.p, ldb, beta, dc.p, ldc);
            if (v == 2) moe_sgemm_tn<<<grid, MOE_GEMM_THREADS>>>(m, n, k, alpha, da.p, lda, db.p, ldb, beta, dc.p, ldc);
            if (v == 3) moe_sgemm_tt<<<grid, MOE_GEMM_THREADS>>>(m, n, k, alpha, da.p, lda, db.p, ldb, beta, dc.p, ldc);
            sync("sgemm");
            vector<float> got = dc.get();
            // padding columns must come back untouched
            for (int i = 0; i < m; i++) for (int j = n; j < ldc && (size_t)i * ldc + j < c.size(); j++) exp[(size_t)i * ldc + j] = c[(size_t)i * ldc + j];
            char what[96];
            snprintf(what, sizeof what, "sgemm_%s m=%d n=%d k=%d", names[v], m, n, k);
            check(what, exp, got, tol);
        }
}

static float sigm(double a) { return (float)(1.0 / (1.0 + std::exp(-a))); }

// The expert layer on the CPU: packed rows already in expert order (offsets off[E+1]).
struct ExpertRef {
    int E, d, f;
    vector<int> off;
    vector<float> x, w1, w3, w2, a, b, h, y, dy, dA, dB, dw1, dw3, dw2, dx;
    void forward() {
        int S = off[E];
        a.assign((size_t)S * f, 0); b = a; h = a; y.assign((size_t)S * d, 0);
        for (int e = 0; e < E; e++)
            for (int r = off[e]; r < off[e + 1]; r++) {
                for (int j = 0; j < f; j++) {
                    double s1 = 0, s3 = 0;
                    for (int p = 0; p < d; p++) {
                        s1 += (double)x[(size_t)r * d + p] * w1[((size_t)e * d + p) * f + j];
                        s3 += (double)x[(size_t)r * d + p] * w3[((size_t)e * d + p) * f + j];
                    }
                    a[(size_t)r * f + j] = (float)s1; b[(size_t)r * f + j] = (float)s3;
                    h[(size_t)r * f + j] = (float)(s1 * sigm(s1) * s3);
                }
                for (int j = 0; j < d; j++) {
                    double s = 0;
                    for (int p = 0; p < f; p++) s += (double)h[(size_t)r * f + p] * w2[((size_t)e * f + p) * d + j];
                    y[(size_t)r * d + j] = (float)s;
                }
            }
    }
    void backward() { // from dy; dw* accumulate onto their current values
        int S = off[E];
        dA.assign((size_t)S * f, 0); dB = dA; dx.assign((size_t)S * d, 0);
        for (int e = 0; e < E; e++) {
            for (int p = 0; p < f; p++)
                for (int j = 0; j < d; j++) {
                    double s = 0;
                    for (int r = off[e]; r < off[e + 1]; r++) s += (double)h[(size_t)r * f + p] * dy[(size_t)r * d + j];
                    dw2[((size_t)e * f + p) * d + j] += (float)s;
                }
            for (int r = off[e]; r < off[e + 1]; r++)
                for (int j = 0; j < f; j++) {
                    double dh = 0;
                    for (int p = 0; p < d; p++) dh += (double)dy[(size_t)r * d + p] * w2[((size_t)e * f + j) * d + p];
                    double av = a[(size_t)r * f + j], bv = b[(size_t)r * f + j], s = sigm(av);
                    dA[(size_t)r * f + j] = (float)(dh * bv * s * (1 + av * (1 - s)));
                    dB[(size_t)r * f + j] = (float)(dh * av * s);
                }
            for (int p = 0; p < d; p++)
                for (int j = 0; j < f; j++) {
                    double s1 = 0, s3 = 0;
                    for (int r = off[e]; r < off[e + 1]; r++) {
                        s1 += (double)x[(size_t)r * d + p] * dA[(size_t)r * f + j];
                        s3 += (double)x[(size_t)r * d + p] * dB[(size_t)r * f + j];
                    }
                    dw1[((size_t)e * d + p) * f + j] += (float)s1;
                    dw3[((size_t)e * d + p) * f + j] += (float)s3;
                }
            for (int r = off[e]; r < off[e + 1]; r++)
                for (int j = 0; j < d; j++) {
                    double s = 0;
                    for (int p = 0; p < f; p++)
                        s += (double)dA[(size_t)r * f + p] * w1[((size_t)e * d + j) * f + p] +
                             (double)dB[(size_t)r * f + p] * w3[((size_t)e * d + j) * f + p];
                    dx[(size_t)r * d + j] = (float)s;
                }
        }
    }
};

static void test_experts(vector<int> counts, int d, int f, unsigned seed) {
    std::mt19937 g(seed);
    ExpertRef R;
    R.E = (int)counts.size(); R.d = d; R.f = f;
    R.off.assign(R.E + 1, 0);
    int maxN = 0;
    for (int e = 0; e < R.E; e++) { R.off[e + 1] = R.off[e] + counts[e]; maxN = std::max(maxN, counts[e]); }
    int S = R.off[R.E], E = R.E;
    R.x = randn((size_t)S * d, g);
    R.w1 = randn((size_t)E * d * f, g, 1.f / std::sqrt((float)d));
    R.w3 = randn((size_t)E * d * f, g, 1.f / std::sqrt((float)d));
    R.w2 = randn((size_t)E * f * d, g, 1.f / std::sqrt((float)f));
    R.dy = randn((size_t)S * d, g);
    R.dw1 = randn((size_t)E * d * f, g, 0.1f); R.dw3 = randn((size_t)E * d * f, g, 0.1f); R.dw2 = randn((size_t)E * f * d, g, 0.1f);
    Dev<int> off(R.off);
    Dev<float> x(R.x), w1(R.w1), w3(R.w3), w2(R.w2), a((size_t)S * f), b((size_t)S * f), h((size_t)S * f), y((size_t)S * d);
    Dev<float> dy(R.dy), dA((size_t)S * f), dB((size_t)S * f), dx((size_t)S * d), dw1(R.dw1), dw3(R.dw3), dw2(R.dw2);
    R.forward();
    R.backward();
    unsigned rt = moe_ceil_div(std::max(maxN, 1), MOE_BM);
    moe_expert_up_swiglu<<<dim3(moe_ceil_div(f, MOE_BN), rt, E), MOE_GEMM_THREADS>>>(off.p, E, d, f, x.p, w1.p, w3.p, a.p, b.p, h.p);
    moe_expert_down<<<dim3(moe_ceil_div(d, MOE_BN), rt, E), MOE_GEMM_THREADS>>>(off.p, E, d, f, h.p, w2.p, y.p);
    moe_expert_dw2<<<dim3(moe_ceil_div(d, MOE_BN), moe_ceil_div(f, MOE_BM), E), MOE_GEMM_THREADS>>>(off.p, E, d, f, h.p, dy.p, dw2.p);
    moe_expert_dh_swiglu_bwd<<<dim3(moe_ceil_div(f, MOE_BN), rt, E), MOE_GEMM_THREADS>>>(off.p, E, d, f, dy.p, w2.p, a.p, b.p, dA.p, dB.p);
    moe_expert_dw13<<<dim3(moe_ceil_div(f, MOE_BN), moe_ceil_div(d, MOE_BM), E), MOE_GEMM_THREADS>>>(off.p, E, d, f, x.p, dA.p, dB.p, dw1.p, dw3.p);
    moe_expert_dx<<<dim3(moe_ceil_div(d, MOE_BN), rt, E), MOE_GEMM_THREADS>>>(off.p, E, d, f, dA.p, dB.p, w1.p, w3.p, dx.p);
    sync("expert kernels");
    std::string tag = "experts counts=[";
    for (int e = 0; e < E; e++) tag += std::to_string(counts[e]) + (e + 1 < E ? "," : "");
    tag += "] d=" + std::to_string(d) + " f=" + std::to_string(f) + " ";
    int terms = d + f + maxN + 8;
    check(tag + "A", R.a, a.get(), 8.0 * terms);
    check(tag + "H (fused swiglu)", R.h, h.get(), 8.0 * terms);
    check(tag + "Y", R.y, y.get(), 8.0 * terms);
    check(tag + "dW2", R.dw2, dw2.get(), 8.0 * terms);
    check(tag + "dA (fused swiglu bwd)", R.dA, dA.get(), 16.0 * terms);
    check(tag + "dB", R.dB, dB.get(), 16.0 * terms);
    check(tag + "dW1", R.dw1, dw1.get(), 16.0 * terms);
    check(tag + "dW3", R.dw3, dw3.get(), 16.0 * terms);
    check(tag + "dX", R.dx, dx.get(), 16.0 * terms);
}

static void test_softmax_topk() {
    std::mt19937 g(7);
    int colsList[] = {1, 7, 32, 64, 257, 1000};
    for (int cols : colsList)
        for (int k : {1, 2, 8, cols}) {
            if (k > cols) continue;
            for (int soft = 0; soft < 2; soft++) {
                int rows = 37;
                vector<float> x = randn((size_t)rows * cols, g, 2.f);
                for (int r = 0; r < rows; r += 3)
                    for (int c = 0; c < cols; c++) x[(size_t)r * cols + c] = (float)((c * 7) % 4); // ties
                if (rows > 1) for (int c = 0; c < cols; c++) x[(size_t)cols + c] = c % 2 ? -INFINITY : 80.f + c % 3;
                vector<float> probs((size_t)rows * cols), val((size_t)rows * k);
                vector<int> idx((size_t)rows * k);
                for (int r = 0; r < rows; r++) {
                    const float* xr = &x[(size_t)r * cols];
                    vector<float> p(xr, xr + cols);
                    if (soft) { // same float operations as the kernel: expf, sum, multiply by the inverse
                        float mx = -INFINITY;
                        for (float v : p) mx = std::max(mx, v);
                        double s = 0;
                        for (float v : p) s += std::exp((double)v - mx);
                        for (int c = 0; c < cols; c++) p[c] = (float)(std::exp((double)xr[c] - mx) / s);
                    }
                    std::copy(p.begin(), p.end(), probs.begin() + (size_t)r * cols);
                    vector<int> order(cols);
                    for (int c = 0; c < cols; c++) order[c] = c;
                    std::stable_sort(order.begin(), order.end(), [&](int i, int j) { return p[i] > p[j]; }); // ties: lower index
                    for (int j = 0; j < k; j++) { idx[(size_t)r * k + j] = order[j]; val[(size_t)r * k + j] = p[order[j]]; }
                }
                Dev<float> dxv(x), dp((size_t)rows * cols), dv((size_t)rows * k);
                Dev<int> di((size_t)rows * k);
                moe_softmax_topk<<<moe_ceil_div(rows, MOE_ROW_WARPS), 32 * MOE_ROW_WARPS>>>(dxv.p, rows, cols, k, soft ? dp.p : nullptr, di.p, dv.p, soft, 0);
                sync("softmax_topk");
                char what[96];
                snprintf(what, sizeof what, "%s rows=%d cols=%d k=%d", soft ? "softmax+topk" : "topk", rows, cols, k);
                vector<int> gi = di.get();
                vector<float> gv = dv.get();
                if (soft) {
                    check(std::string(what) + " probs", probs, dp.get(), vector<double>(probs.size(), (cols + 8) * 4 * U));
                    // probabilities may differ by an ulp from the reference's, which can reorder near-ties:
                    // check the picked values instead of exact indices
                    check(std::string(what) + " values", val, gv, vector<double>(val.size(), (cols + 8) * 4 * U));
                } else {
                    bool same = gi == idx;
                    for (size_t i = 0; same && i < gv.size(); i++) same = gv[i] == val[i] || (std::isinf(gv[i]) && gv[i] == val[i]);
                    if (!same) { failures++; printf("FAIL %s: indices/values differ from the reference (ties go to the lower index)\n", what); }
                    else printf("ok   %s\n", what);
                }
            }
        }
    // renormalised gates sum to 1
    int rows = 5, cols = 64, k = 4;
    vector<float> x = randn((size_t)rows * cols, g);
    Dev<float> dxv(x), dv((size_t)rows * k);
    Dev<int> di((size_t)rows * k);
    moe_softmax_topk<<<1, 32 * MOE_ROW_WARPS>>>(dxv.p, rows, cols, k, nullptr, di.p, dv.p, 1, 1);
    sync("softmax_topk renorm");
    vector<float> gv = dv.get();
    bool ok = true;
    for (int r = 0; r < rows; r++) { double s = 0; for (int j = 0; j < k; j++) s += gv[r * k + j]; ok &= std::fabs(s - 1) < 1e-6; }
    if (!ok) { failures++; printf("FAIL renormalised gates do not sum to 1\n"); } else printf("ok   renormalised top-%d gates sum to 1\n", k);
}

static void test_memory() {
    std::mt19937 g(11);
    int shapes[][3] = {{1, 1, 1}, {17, 7, 31}, {67, 13, 65}, {130, 64, 100}};
    for (auto& s : shapes) {
        int T = s[0], E = s[1], d = s[2];
        vector<float> x = randn((size_t)T * d, g), p = randn((size_t)E * d, g), dm = randn((size_t)T * E, g), dx0 = randn((size_t)T * d, g);
        for (int c = 0; c < d; c++) x[c] = 0.f; // token 0 is zero: the 1e-8 floor
        vector<int> active(E);
        for (int i = 0; i < E; i++) active[i] = i % 3 != 1;
        vector<float> m((size_t)T * E), dx = dx0, xn(T), pn(E);
        for (int t = 0; t < T; t++) { double ss = 0; for (int c = 0; c < d; c++) ss += (double)x[(size_t)t * d + c] * x[(size_t)t * d + c]; xn[t] = (float)std::sqrt(ss); }
        for (int i = 0; i < E; i++) { double ss = 0; for (int c = 0; c < d; c++) ss += (double)p[(size_t)i * d + c] * p[(size_t)i * d + c]; pn[i] = (float)std::sqrt(ss); }
        for (int t = 0; t < T; t++)
            for (int i = 0; i < E; i++) {
                double dot = 0;
                for (int c = 0; c < d; c++) dot += (double)x[(size_t)t * d + c] * p[(size_t)i * d + c];
                m[(size_t)t * E + i] = active[i] ? (float)(dot / std::max(xn[t] * pn[i], 1e-8f)) : 0.f;
            }
        for (int t = 0; t < T; t++) {
            double xc = 0;
            vector<double> acc(d, 0.0);
            for (int i = 0; i < E; i++) {
                double gm = dm[(size_t)t * E + i];
                if (!active[i] || gm == 0) continue;
                float prod = xn[t] * pn[i];
                double pc = prod < 1e-8f ? gm / 1e-8 : gm / prod;
                if (!(prod < 1e-8f)) xc -= gm * m[(size_t)t * E + i] / ((double)xn[t] * xn[t]);
                for (int c = 0; c < d; c++) acc[c] += pc * p[(size_t)i * d + c];
            }
            for (int c = 0; c < d; c++) dx[(size_t)t * d + c] += (float)(acc[c] + xc * x[(size_t)t * d + c]);
        }
        Dev<float> dX(x), dP(p), dXn(T), dPn(E), dM((size_t)T * E), dDm(dm), coef((size_t)T * E), xcoef(T), dDx(dx0);
        Dev<int> dAct(active);
        moe_row_norms<<<moe_ceil_div(T, MOE_ROW_WARPS), 32 * MOE_ROW_WARPS>>>(dX.p, T, d, dXn.p);
        moe_row_norms<<<moe_ceil_div(E, MOE_ROW_WARPS), 32 * MOE_ROW_WARPS>>>(dP.p, E, d, dPn.p);
        moe_memory_similarity<<<dim3(moe_ceil_div(E, MOE_BN), moe_ceil_div(T, MOE_BM)), MOE_GEMM_THREADS>>>(dX.p, dP.p, dXn.p, dPn.p, dAct.p, dM.p, T, E, d);
        moe_memory_sim_coef<<<moe_ceil_div(T, MOE_ROW_WARPS), 32 * MOE_ROW_WARPS>>>(dXn.p, dPn.p, dAct.p, dM.p, dDm.p, coef.p, xcoef.p, T, E);
        moe_memory_sim_bwd<<<dim3(moe_ceil_div(d, MOE_BN), moe_ceil_div(T, MOE_BM)), MOE_GEMM_THREADS>>>(coef.p, dP.p, dX.p, xcoef.p, dDx.p, T, E, d);
        sync("memory similarity");
        char what[96];
        snprintf(what, sizeof what, "memory similarity T=%d E=%d d=%d", T, E, d);
        check(std::string(what) + " m", m, dM.get(), vector<double>(m.size(), (d + 8) * 8 * U));
        check(std::string(what) + " dx", dx, dDx.get(), 16.0 * (d + E + 8));
    }
    // buffer push: capacity 5, 23 tokens x 2 slots over 4 experts: rings wrap several times
    int T = 23, k = 2, E = 4, cap = 5, d = 9;
    vector<float> x = randn((size_t)T * d, g);
    vector<int> ex((size_t)T * k), kept((size_t)T * k);
    for (int s = 0; s < T * k; s++) { ex[s] = (s * 7 + s / 3) % E; kept[s] = s % 5 != 4; }
    vector<float> buf((size_t)E * cap * d, 0.f), pref((size_t)E * d, 0.f);
    vector<int> head(E, 0), count(E, 0);
    for (int s = 0; s < T * k; s++) {
        if (!kept[s]) continue;
        int e = ex[s];
        std::copy(&x[(size_t)(s / k) * d], &x[(size_t)(s / k) * d] + d, &buf[((size_t)e * cap + head[e]) * d]);
        head[e] = (head[e] + 1) % cap;
        count[e] = std::min(count[e] + 1, cap);
    }
    for (int e = 0; e < E; e++)
        for (int c = 0; c < d; c++) {
            double s = 0;
            for (int q = 0; q < count[e]; q++) s += buf[((size_t)e * cap + q) * d + c];
            pref[(size_t)e * d + c] = count[e] ? (float)(s / count[e]) : 0.f;
        }
    Dev<float> dbuf((size_t)E * cap * d), dpref((size_t)E * d), dx(x);
    Dev<double> dsum((size_t)E * d);
    Dev<int> dhead(E), dcount(E), dex(ex), dkept(kept);
    moe_buffer_push<<<E, 128>>>(dbuf.p, dhead.p, dcount.p, dsum.p, dpref.p, dx.p, dex.p, dkept.p, T, k, E, cap, d);
    sync("buffer push");
    bool ok = dbuf.get() == buf && dhead.get() == head && dcount.get() == count;
    if (!ok) { failures++; printf("FAIL buffer push: ring contents, head or count differ\n"); } else printf("ok   buffer push ring (FIFO, token order)\n");
    check("buffer push preference means", pref, dpref.get(), vector<double>(pref.size(), 1e-5));
}

static void test_dispatch() {
    std::mt19937 g(5);
    int T = 29, k = 3, d = 37, E = 6;
    vector<int> ex((size_t)T * k), keptv((size_t)T * k);
    for (int s = 0; s < T * k; s++) { ex[s] = (s * 5 + 1) % E; keptv[s] = s % 7 != 3; }
    // the counting sort of java-core's ExpertDispatch
    vector<int> cnt(E, 0), off(E + 1, 0);
    for (int s = 0; s < T * k; s++) if (keptv[s]) cnt[ex[s]]++;
    for (int e = 0; e < E; e++) off[e + 1] = off[e] + cnt[e];
    int S = off[E];
    vector<int> fill(off.begin(), off.end() - 1), tokenOf(S), slotOf(S), rowOf((size_t)T * k, -1);
    for (int s = 0; s < T * k; s++) if (keptv[s]) { int p = fill[ex[s]]++; slotOf[p] = s; tokenOf[p] = s / k; rowOf[s] = p; }
    vector<float> x = randn((size_t)T * d, g), y = randn((size_t)S * d, g), gates = randn((size_t)T * k, g), dout = randn((size_t)T * d, g);
    vector<float> dx0 = randn((size_t)T * d, g), dg0 = randn((size_t)T * k, g), dxp = randn((size_t)S * d, g);
    vector<float> xp((size_t)S * d), out((size_t)T * d, 0.f), dy((size_t)S * d), dg = dg0, dx = dx0;
    for (int p = 0; p < S; p++) for (int c = 0; c < d; c++) xp[(size_t)p * d + c] = x[(size_t)tokenOf[p] * d + c];
    for (int t = 0; t < T; t++)
        for (int j = 0; j < k; j++) { int p = rowOf[t * k + j]; if (p >= 0) for (int c = 0; c < d; c++) out[(size_t)t * d + c] += gates[t * k + j] * y[(size_t)p * d + c]; }
    for (int p = 0; p < S; p++) {
        double dot = 0;
        for (int c = 0; c < d; c++) { dy[(size_t)p * d + c] = gates[slotOf[p]] * dout[(size_t)tokenOf[p] * d + c]; dot += (double)dout[(size_t)tokenOf[p] * d + c] * y[(size_t)p * d + c]; }
        dg[slotOf[p]] += (float)dot;
    }
    for (int t = 0; t < T; t++)
        for (int j = 0; j < k; j++) { int p = rowOf[t * k + j]; if (p >= 0) for (int c = 0; c < d; c++) dx[(size_t)t * d + c] += dxp[(size_t)p * d + c]; }
    Dev<float> dX(x), dY(y), dG(gates), dOut((size_t)T * d), dXp((size_t)S * d), dDout(dout), dDy((size_t)S * d), dDg(dg0), dDxp(dxp), dDx(dx0);
    Dev<int> dTok(tokenOf), dSlot(slotOf), dRow(rowOf);
    moe_gather_rows<<<S, 128>>>(dX.p, dTok.p, S, d, dXp.p);
    moe_combine<<<T, 128>>>(dY.p, dG.p, dRow.p, T, k, d, dOut.p);
    moe_combine_bwd<<<S, 128>>>(dDout.p, dG.p, dY.p, dTok.p, dSlot.p, S, d, dDy.p, dDg.p);
    moe_scatter_add_rows<<<T, 128>>>(dDxp.p, dRow.p, T, k, d, dDx.p);
    sync("dispatch/combine");
    bool exact = dXp.get() == xp;
    if (!exact) { failures++; printf("FAIL gather rows\n"); } else printf("ok   gather rows into expert order (S=%d of T*k=%d)\n", S, T * k);
    check("combine (gated sum)", out, dOut.get(), 8.0 * k);
    check("combine backward dy", dy, dDy.get(), 2.0);
    check("combine backward dgates", dg, dDg.get(), 8.0 * (d + 8));
    check("scatter-add rows", dx, dDx.get(), 8.0 * k);
}

// ---------------------------------------------------------------- benchmark against cuBLAS
typedef int (*cublasCreate_t)(void**);
typedef int (*cublasDestroy_t)(void*);
typedef int (*cublasSgemm_t)(void*, int, int, int, int, int, const float*, const float*, int, const float*, int,
                             const float*, float*, int);
typedef int (*cublasSetMathMode_t)(void*, int);
struct Cublas {
    void* lib = nullptr;
    void* h = nullptr;
    cublasSgemm_t sgemm = nullptr;
    bool load() {
        const char* env = getenv("CUBLAS_LIB");
        const char* names[] = {env, "libcublas.so.13", "libcublas.so.12", "libcublas.so"};
        for (const char* n : names) if (n && (lib = dlopen(n, RTLD_NOW | RTLD_GLOBAL))) { printf("cuBLAS: %s\n", n); break; }
        if (!lib) return false;
        auto create = (cublasCreate_t)dlsym(lib, "cublasCreate_v2");
        auto mode = (cublasSetMathMode_t)dlsym(lib, "cublasSetMathMode");
        sgemm = (cublasSgemm_t)dlsym(lib, "cublasSgemm_v2");
        if (!create || !sgemm || create(&h) != 0) return false;
        if (mode) mode(h, 0); // CUBLAS_DEFAULT_MATH: fp32 FMA, no TF32
        return true;
    }
    // row-major C [m,n] = op(A) [m,k] · op(B) [k,n] as column-major Cᵀ = op(B)ᵀ · op(A)ᵀ
    void rowMajor(bool ta, bool tb, int m, int n, int k, const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
        const float one = 1.f;
        sgemm(h, tb ? 1 : 0, ta ? 1 : 0, n, m, k, &one, B, ldb, A, lda, &beta, C, ldc);
    }
};

template <typename F>
static float timeMs(F run, int reps) {
    run();
    sync("warm-up");
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a)); CK(cudaEventCreate(&b));
    CK(cudaEventRecord(a));
    for (int i = 0; i < reps; i++) run();
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, a, b));
    sync("timing");
    return ms / reps;
}

static void bench(int E, int S, int d, int f, Cublas* cb) {
    std::mt19937 g(3);
    vector<int> off(E + 1);
    for (int e = 0; e <= E; e++) off[e] = (int)((long)S * e / E); // balanced blocks
    int maxN = 0;
    for (int e = 0; e < E; e++) maxN = std::max(maxN, off[e + 1] - off[e]);
    Dev<int> doff(off);
    Dev<float> x(randn((size_t)S * d, g)), w1(randn((size_t)E * d * f, g)), w3(randn((size_t)E * d * f, g)), w2(randn((size_t)E * f * d, g));
    Dev<float> a((size_t)S * f), b((size_t)S * f), h((size_t)S * f), y((size_t)S * d), dy(randn((size_t)S * d, g));
    Dev<float> dA((size_t)S * f), dB((size_t)S * f), dx((size_t)S * d), dw1((size_t)E * d * f), dw3((size_t)E * d * f), dw2((size_t)E * f * d);
    unsigned rt = moe_ceil_div(maxN, MOE_BM);
    double up = 2.0 * 2 * S * d * f, down = 2.0 * S * f * d; // flops
    struct Row { const char* name; double flops; float ours, ref; };
    vector<Row> rows;
    int reps = 20;
    rows.push_back({"up: X·W1, X·W3 + SwiGLU", up, timeMs([&] {
        moe_expert_up_swiglu<<<dim3(moe_ceil_div(f, MOE_BN), rt, E), MOE_GEMM_THREADS>>>(doff.p, E, d, f, x.p, w1.p, w3.p, a.p, b.p, h.p); }, reps), 0});
    rows.push_back({"down: H·W2", down, timeMs([&] {
        moe_expert_down<<<dim3(moe_ceil_div(d, MOE_BN), rt, E), MOE_GEMM_THREADS>>>(doff.p, E, d, f, h.p, w2.p, y.p); }, reps), 0});
    rows.push_back({"bwd: dY·W2^T + SwiGLU bwd", down, timeMs([&] {
        moe_expert_dh_swiglu_bwd<<<dim3(moe_ceil_div(f, MOE_BN), rt, E), MOE_GEMM_THREADS>>>(doff.p, E, d, f, dy.p, w2.p, a.p, b.p, dA.p, dB.p); }, reps), 0});
    rows.push_back({"bwd: dW2 += H^T·dY", down, timeMs([&] {
        moe_expert_dw2<<<dim3(moe_ceil_div(d, MOE_BN), moe_ceil_div(f, MOE_BM), E), MOE_GEMM_THREADS>>>(doff.p, E, d, f, h.p, dy.p, dw2.p); }, reps), 0});
    rows.push_back({"bwd: dW1, dW3 += X^T·dA, X^T·dB", up, timeMs([&] {
        moe_expert_dw13<<<dim3(moe_ceil_div(f, MOE_BN), moe_ceil_div(d, MOE_BM), E), MOE_GEMM_THREADS>>>(doff.p, E, d, f, x.p, dA.p, dB.p, dw1.p, dw3.p); }, reps), 0});
    rows.push_back({"bwd: dX = dA·W1^T + dB·W3^T", up, timeMs([&] {
        moe_expert_dx<<<dim3(moe_ceil_div(d, MOE_BN), rt, E), MOE_GEMM_THREADS>>>(doff.p, E, d, f, dA.p, dB.p, w1.p, w3.p, dx.p); }, reps), 0});
    if (cb) { // the same products as one cuBLAS SGEMM per expert (no fused elementwise work)
        auto per = [&](auto body) { return timeMs([&] { for (int e = 0; e < E; e++) { int n = off[e + 1] - off[e]; if (n) body(e, off[e], n); } }, reps); };
        size_t wdf = (size_t)d * f;
        rows[0].ref = per([&](int e, int o, int n) {
            cb->rowMajor(false, false, n, f, d, x.p + (size_t)o * d, d, w1.p + e * wdf, f, 0.f, a.p + (size_t)o * f, f);
            cb->rowMajor(false, false, n, f, d, x.p + (size_t)o * d, d, w3.p + e * wdf, f, 0.f, b.p + (size_t)o * f, f); });
        rows[1].ref = per([&](int e, int o, int n) {
            cb->rowMajor(false, false, n, d, f, h.p + (size_t)o * f, f, w2.p + e * wdf, d, 0.f, y.p + (size_t)o * d, d); });
        rows[2].ref = per([&](int e, int o, int n) {
            cb->rowMajor(false, true, n, f, d, dy.p + (size_t)o * d, d, w2.p + e * wdf, d, 0.f, dA.p + (size_t)o * f, f); });
        rows[3].ref = per([&](int e, int o, int n) {
            cb->rowMajor(true, false, f, d, n, h.p + (size_t)o * f, f, dy.p + (size_t)o * d, d, 1.f, dw2.p + e * wdf, d); });
        rows[4].ref = per([&](int e, int o, int n) {
            cb->rowMajor(true, false, d, f, n, x.p + (size_t)o * d, d, dA.p + (size_t)o * f, f, 1.f, dw1.p + e * wdf, f);
            cb->rowMajor(true, false, d, f, n, x.p + (size_t)o * d, d, dB.p + (size_t)o * f, f, 1.f, dw3.p + e * wdf, f); });
        rows[5].ref = per([&](int e, int o, int n) {
            cb->rowMajor(false, true, n, d, f, dA.p + (size_t)o * f, f, w1.p + e * wdf, f, 0.f, dx.p + (size_t)o * d, d);
            cb->rowMajor(false, true, n, d, f, dB.p + (size_t)o * f, f, w3.p + e * wdf, f, 1.f, dx.p + (size_t)o * d, d); });
    }
    printf("\nexpert GEMMs E=%d S=%d (rows, balanced) d=%d f=%d, mean of %d launches after one warm-up\n", E, S, d, f, reps);
    printf("%-34s %10s %10s %12s %10s\n", "kernel", "ms", "TFLOP/s", "cuBLAS TF/s", "% cuBLAS");
    for (auto& r : rows) {
        double tf = r.flops / (r.ours * 1e-3) / 1e12;
        if (r.ref > 0) {
            double rf = r.flops / (r.ref * 1e-3) / 1e12;
            printf("%-34s %10.3f %10.2f %12.2f %9.1f%%\n", r.name, r.ours, tf, rf, 100.0 * tf / rf);
        } else {
            printf("%-34s %10.3f %10.2f %12s %10s\n", r.name, r.ours, tf, "-", "-");
        }
    }
}

int main(int argc, char** argv) {
    bool tests = true, benches = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--test-only")) benches = false;
        else if (!strcmp(argv[i], "--bench-only")) tests = false;
        else { fprintf(stderr, "usage: %s [--test-only|--bench-only]\n", argv[0]); return 2; }
    }
    int dev = 0, drv = 0, rt = 0;
    cudaDeviceProp prop;
    CK(cudaGetDevice(&dev));
    CK(cudaGetDeviceProperties(&prop, dev));
    CK(cudaDriverGetVersion(&drv));
    CK(cudaRuntimeGetVersion(&rt));
    printf("GPU %s (sm_%d%d, %d SMs), driver CUDA %d.%d, runtime %d.%d\n", prop.name, prop.major, prop.minor,
           prop.multiProcessorCount, drv / 1000, (drv % 1000) / 10, rt / 1000, (rt % 1000) / 10);
    if (tests) {
        test_sgemm();
        test_experts({0, 1, 7, 64, 65, 0, 129}, 67, 131, 1); // empty, single-row, prime and tile-edge experts
        test_experts({3}, 1, 1, 2);
        test_experts({1, 0, 2}, 64, 64, 3);
        test_softmax_topk();
        test_memory();
        test_dispatch();
        printf("\n%s: %d check(s) failed\n", failures ? "FAILED" : "PASSED", failures);
    }
    if (benches) {
        Cublas cb;
        bool have = cb.load();
        if (!have) printf("\ncuBLAS not found (set CUBLAS_LIB=/path/to/libcublas.so.13): timing our kernels only\n");
        bench(8, 8192, 512, 1024, have ? &cb : nullptr);
        bench(64, 32768, 512, 256, have ? &cb : nullptr);
        bench(16, 16384, 1024, 2048, have ? &cb : nullptr);
    }
    return failures ? 1 : 0;
}
