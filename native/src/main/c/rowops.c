/*
 * Row-wise and elementwise kernels with AVX2/FMA: softmax (+ backward), top-k, fused SwiGLU
 * (+ backward), memory-buffer cosine similarity (+ backward). Tails (lengths not a multiple of 8)
 * run the same vector code through masked loads and stores, so a value's bits never depend on
 * where it sits in the array.
 */
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include "isa.h"
#include "moelab_kernels.h"

/* Lane mask with the first `rem` (0..8) lanes set. */
static inline __m256i tail_mask(int rem) {
    static const int bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *) (bits + 8 - rem));
}

/* Sum of the 8 lanes in a fixed order. */
static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

static inline float hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/*
 * exp(x), about 2 ulp (Cephes expf scheme): x = n ln2 + r with |r| <= ln2/2, a degree-7
 * polynomial for exp(r), then 2^n through the exponent bits. Results below 2.7e-38 (x < -86.5)
 * are flushed to 0 (float has no precision there), x > 88.7228 gives +inf, -inf gives 0.
 */
static inline __m256 exp256(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.72283f), lo = _mm256_set1_ps(-86.5f);
    __m256 over = _mm256_cmp_ps(x, hi, _CMP_GT_OQ), under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 fx = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), xc);
    r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    __m256 y = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* 2^n as 2^(n-1) * 2: n reaches 128 at the top of the range, whose exponent field would overflow */
    __m256i n1 = _mm256_sub_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(1));
    __m256 pow2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    y = _mm256_mul_ps(_mm256_mul_ps(y, pow2), _mm256_set1_ps(2.0f));
    y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), over);
    return _mm256_andnot_ps(under, y);
}

/* ------------------------------------------------------------------ softmax */

/* x, y [rows, cols] */
void moelab_softmax_rows(const float *x, float *y, int rows, int cols) {
    int full = cols & ~7, rem = cols - full;
    __m256i mask = tail_mask(rem);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t) r * cols;
        float *yr = y + (size_t) r * cols;
        __m256 vmax = ninf;
        for (int c = 0; c < full; c += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(xr + c));
        if (rem) vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(ninf, _mm256_maskload_ps(xr + full, mask), _mm256_castsi256_ps(mask)));
        __m256 max = _mm256_set1_ps(hmax(vmax));
        __m256 vsum = _mm256_setzero_ps();
        for (int c = 0; c < full; c += 8) {
            __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(xr + c), max));
            _mm256_storeu_ps(yr + c, e);
            vsum = _mm256_add_ps(vsum, e);
        }
        if (rem) {
            __m256 e = exp256(_mm256_sub_ps(_mm256_maskload_ps(xr + full, mask), max));
            e = _mm256_and_ps(e, _mm256_castsi256_ps(mask));
            _mm256_maskstore_ps(yr + full, mask, e);
            vsum = _mm256_add_ps(vsum, e);
        }
        __m256 inv = _mm256_set1_ps(1.0f / hsum(vsum));
        for (int c = 0; c < full; c += 8) _mm256_storeu_ps(yr + c, _mm256_mul_ps(_mm256_loadu_ps(yr + c), inv));
        if (rem) _mm256_maskstore_ps(yr + full, mask, _mm256_mul_ps(_mm256_maskload_ps(yr + full, mask), inv));
    }
}

/* y, dy, dx [rows, cols] */
void moelab_softmax_backward_rows(const float *y, const float *dy, float *dx, int rows, int cols) {
    int full = cols & ~7, rem = cols - full;
    __m256i mask = tail_mask(rem);
    for (int r = 0; r < rows; r++) {
        const float *yr = y + (size_t) r * cols, *gr = dy + (size_t) r * cols;
        float *dr = dx + (size_t) r * cols;
        __m256 vdot = _mm256_setzero_ps();
        for (int c = 0; c < full; c += 8) vdot = _mm256_fmadd_ps(_mm256_loadu_ps(gr + c), _mm256_loadu_ps(yr + c), vdot);
        if (rem) vdot = _mm256_fmadd_ps(_mm256_maskload_ps(gr + full, mask), _mm256_maskload_ps(yr + full, mask), vdot);
        __m256 dot = _mm256_set1_ps(hsum(vdot));
        for (int c = 0; c < full; c += 8) {
            __m256 g = _mm256_sub_ps(_mm256_loadu_ps(gr + c), dot);
            _mm256_storeu_ps(dr + c, _mm256_fmadd_ps(_mm256_loadu_ps(yr + c), g, _mm256_loadu_ps(dr + c)));
        }
        if (rem) {
            __m256 g = _mm256_sub_ps(_mm256_maskload_ps(gr + full, mask), dot);
            _mm256_maskstore_ps(dr + full, mask, _mm256_fmadd_ps(_mm256_maskload_ps(yr + full, mask), g, _mm256_maskload_ps(dr + full, mask)));
        }
    }
}

/* ------------------------------------------------------------------ top-k */

/*
 * x [rows, cols] -> idx, val [rows, k]. Keeps the best k seen so far sorted (value descending);
 * columns arrive in increasing order and a new one must be strictly greater to pass an entry, so
 * ties stay with the lower column, as in the reference's repeated argmax. No arithmetic: values
 * are copied bit for bit.
 */

/* Inserts (v, c) into the sorted best list vr/ir holding *filled of at most k entries. */
static inline void topk_insert(float v, int c, int k, int *filled, int *ir, float *vr) {
    if (*filled == k && !(v > vr[k - 1])) return;
    int pos = *filled < k ? *filled : k - 1;            /* drop the last one when full */
    while (pos > 0 && v > vr[pos - 1]) {
        vr[pos] = vr[pos - 1];
        ir[pos] = ir[pos - 1];
        pos--;
    }
    vr[pos] = v;
    ir[pos] = c;
    if (*filled < k) (*filled)++;
}

/* x [rows, cols] -> idx, val [rows, k] */
void moelab_topk_rows(const float *x, int rows, int cols, int k, int *idx, float *val) {
    if (k <= 0) return;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t) r * cols;
        int *ir = idx + (size_t) r * k;
        float *vr = val + (size_t) r * k;
        int filled = 0, c = 0;
        while (c < cols) {
            /* once the list is full, a block of 8 where nothing beats the k-th best is skipped
               with one vector compare (the same strict > as the insertion) */
            if (filled == k && c + 8 <= cols) {
                __m256 kth = _mm256_set1_ps(vr[k - 1]);
                if (!_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(xr + c), kth, _CMP_GT_OQ))) {
                    c += 8;
                    continue;
                }
                for (int end = c + 8; c < end; c++) topk_insert(xr[c], c, k, &filled, ir, vr);
                continue;
            }
            topk_insert(xr[c], c, k, &filled, ir, vr);
            c++;
        }
    }
}

/* ------------------------------------------------------------------ SwiGLU */

static inline __m256 sigmoid256(__m256 a) {
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), a))));
}

/* h = a * s(a) * b, one block of 8 */
static inline __m256 swiglu8(__m256 a, __m256 b) { return _mm256_mul_ps(_mm256_mul_ps(a, sigmoid256(a)), b); }

/* a, b, h [n] */
void moelab_swiglu_forward(const float *a, const float *b, float *h, int n) {
    int full = n & ~7, rem = n - full;
    for (int i = 0; i < full; i += 8) _mm256_storeu_ps(h + i, swiglu8(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    if (rem) {
        __m256i mask = tail_mask(rem);
        _mm256_maskstore_ps(h + full, mask, swiglu8(_mm256_maskload_ps(a + full, mask), _mm256_maskload_ps(b + full, mask)));
    }
}

/* da += dh * b * s * (1 + a (1 - s)), db += dh * a * s, for a, dh, b (values of one block) */
static inline __m256 dsilu_term(__m256 av, __m256 s) {
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_mul_ps(s, _mm256_fmadd_ps(av, _mm256_sub_ps(one, s), one));
}

/* a, b, dh, da, db [n] */
void moelab_swiglu_backward(const float *a, const float *b, const float *dh, float *da, float *db, int n) {
    if (!da && !db) return;
    int full = n & ~7, rem = n - full;
    /* full blocks: plain loads and stores (masked stores are slow on some CPUs) */
    for (int i = 0; i < full; i += 8) {
        __m256 av = _mm256_loadu_ps(a + i), g = _mm256_loadu_ps(dh + i), s = sigmoid256(av);
        if (da) {
            __m256 gb = _mm256_mul_ps(g, _mm256_loadu_ps(b + i));
            _mm256_storeu_ps(da + i, _mm256_fmadd_ps(gb, dsilu_term(av, s), _mm256_loadu_ps(da + i)));
        }
        if (db) _mm256_storeu_ps(db + i, _mm256_fmadd_ps(g, _mm256_mul_ps(av, s), _mm256_loadu_ps(db + i)));
    }
    /* the tail: the same arithmetic through masked loads and stores */
    if (rem) {
        __m256i mask = tail_mask(rem);
        __m256 av = _mm256_maskload_ps(a + full, mask), g = _mm256_maskload_ps(dh + full, mask), s = sigmoid256(av);
        if (da) {
            __m256 gb = _mm256_mul_ps(g, _mm256_maskload_ps(b + full, mask));
            _mm256_maskstore_ps(da + full, mask, _mm256_fmadd_ps(gb, dsilu_term(av, s), _mm256_maskload_ps(da + full, mask)));
        }
        if (db) _mm256_maskstore_ps(db + full, mask, _mm256_fmadd_ps(g, _mm256_mul_ps(av, s), _mm256_maskload_ps(db + full, mask)));
    }
}

/* ------------------------------------------------------------------ memory similarity */

/* sum of u[i] * v[i], i < d, in a fixed order (two accumulators, then lanes) */
static float dot_d(const float *u, const float *v, int d) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= d; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(u + i), _mm256_loadu_ps(v + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(u + i + 8), _mm256_loadu_ps(v + i + 8), s1);
    }
    for (; i + 8 <= d; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(u + i), _mm256_loadu_ps(v + i), s0);
    if (i < d) {
        __m256i mask = tail_mask(d - i);
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(u + i, mask), _mm256_maskload_ps(v + i, mask), s1);
    }
    return hsum(_mm256_add_ps(s0, s1));
}

/* y [d] += alpha * x [d] */
static void axpy_d(float alpha, const float *x, float *y, int d) {
    __m256 al = _mm256_set1_ps(alpha);
    int i = 0;
    for (; i + 8 <= d; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(al, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    if (i < d) {
        __m256i mask = tail_mask(d - i);
        _mm256_maskstore_ps(y + i, mask, _mm256_fmadd_ps(al, _mm256_maskload_ps(x + i, mask), _mm256_maskload_ps(y + i, mask)));
    }
}

/* ||p_i|| for each expert; NULL when out of memory */
static float *row_norms(const float *p, int experts, int d) {
    float *norms = malloc((size_t) (experts > 0 ? experts : 1) * sizeof(float));
    if (norms) for (int i = 0; i < experts; i++) norms[i] = sqrtf(dot_d(p + (size_t) i * d, p + (size_t) i * d, d));
    return norms;
}

#define COSINE_EPS 1e-8f  /* Kernels.COSINE_EPS: floor on ||x|| ||p|| */

/* x [T,d], p [E,d], active [E] -> m [T,E] */
void moelab_memory_similarity(const float *x, const float *p, const unsigned char *active, float *m, int tokens, int experts, int d) {
    float *pn = row_norms(p, experts, d);
    if (!pn) abort();
    for (int t = 0; t < tokens; t++) {
        const float *xt = x + (size_t) t * d;
        float xn = sqrtf(dot_d(xt, xt, d));
        for (int i = 0; i < experts; i++) {
            float prod = xn * pn[i];
            m[(size_t) t * experts + i] = active[i] ? dot_d(xt, p + (size_t) i * d, d) / (prod > COSINE_EPS ? prod : COSINE_EPS) : 0.0f;
        }
    }
    free(pn);
}

/* x, dx [T,d], p [E,d], active [E], m, dm [T,E]: dx += sum_i dm (p_i / (|x||p_i|) - m x / |x|^2) */
void moelab_memory_similarity_backward(const float *x, const float *p, const unsigned char *active, const float *m, const float *dm, float *dx, int tokens, int experts, int d) {
    float *pn = row_norms(p, experts, d);
    if (!pn) abort();
    for (int t = 0; t < tokens; t++) {
        const float *xt = x + (size_t) t * d;
        float *dxt = dx + (size_t) t * d;
        float xn = sqrtf(dot_d(xt, xt, d));
        float x_coef = 0.0f;
        for (int i = 0; i < experts; i++) {
            float g = dm[(size_t) t * experts + i];
            if (!active[i] || g == 0.0f) continue;
            float prod = xn * pn[i], p_coef;
            if (prod < COSINE_EPS) {
                p_coef = g / COSINE_EPS;      /* m = x.p / eps: linear in x */
            } else {
                p_coef = g / prod;
                x_coef -= g * m[(size_t) t * experts + i] / (xn * xn);
            }
            axpy_d(p_coef, p + (size_t) i * d, dxt, d);
        }
        if (x_coef != 0.0f) axpy_d(x_coef, xt, dxt, d);
    }
    free(pn);
}
