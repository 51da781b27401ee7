/*
 * SGEMM: C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C, row-major. Compiled twice (isa.h):
 * with AVX2/FMA (6x16 micro-kernel, 12 ymm accumulators) and with AVX-512 (12x32 micro-kernel,
 * 24 zmm accumulators); everything but the micro-kernel and its tile is the same code.
 *
 * Goto/BLIS structure: C is first scaled by beta, then for each NC-column panel and KC-deep slice,
 * B is packed into NR-wide micro-panels (kept in L1/L2 while it is streamed), each MC-row block of A
 * is packed into MR-tall micro-panels (alpha folded in, L2), and the register-tiled micro-kernel
 * adds one slice's product into C. Edges are zero-padded in the packs, so the micro-kernel always
 * runs full; edge tiles go through a small buffer.
 *
 * Every C element is beta*C + sum over k slices (in order) of an FMA chain over that slice: the
 * result does not depend on how the caller splits m or n, which keeps threaded callers deterministic.
 * Both ISAs use the same KC and the same chain, so they give the same bits too.
 *
 * Naive reference (what every path computes, up to the order of the k sum):
 *   for i < m, j < n: C[i,j] = beta*C[i,j] + alpha * sum_p op(A)[i,p] * op(B)[p,j]
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#include "isa.h"
#include "moelab_kernels.h"

#if defined(__AVX512F__)
#ifndef MR
#define MR 12
#endif
#define NR 32
#ifndef MC
#define MC 144   /* A block 144 x 256 floats = 144 KB: stays in L2 (1 MB on Zen 5) */
#endif
#else
#define MR 6
#define NR 16
#ifndef MC
#define MC 144   /* A block 144 x 256 floats = 144 KB: stays in L2 */
#endif
#endif
#ifndef KC
#define KC 256   /* one B micro-panel 256 x NR floats = 16 KB (NR 16) or 32 KB (NR 32): stays in L1 */
#endif
#ifndef NC
#define NC 3072  /* B panel 256 x 3072 floats = 3 MB: L3 */
#endif

int moelab_vector_bits(void) { return ISA_VECTOR_BITS; }

/* Per-thread packing buffers, grown on demand and kept: no allocation per call in steady state. */
static __thread float *pack_a_buf, *pack_b_buf;
static __thread size_t pack_a_cap, pack_b_cap;

static float *grow(float **buf, size_t *cap, size_t floats) {
    if (floats > *cap) {
        free(*buf);
        size_t bytes = (floats * sizeof(float) + 63) & ~(size_t) 63;
        *buf = aligned_alloc(64, bytes);
        *cap = *buf ? floats : 0;
    }
    return *buf;
}

/* Lane mask with the first n (<= 0 .. >= 8) of 8 lanes set. */
static inline __m256i lane_mask(int n) {
    static const int bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    n = n < 0 ? 0 : n > 8 ? 8 : n;
    return _mm256_loadu_si256((const __m256i *) (bits + 8 - n));
}

/* Stores the first `lanes` (1..8) lanes of v. */
static inline void store_lanes(float *dst, __m256 v, int lanes) {
    if (lanes >= 8) _mm256_storeu_ps(dst, v);
    else _mm256_maskstore_ps(dst, lane_mask(lanes), v);
}

/* In-register transpose: t[q] = row q of an 8x8 block in, column q out. */
static inline void transpose8(__m256 t[8]) {
    __m256 a0 = _mm256_unpacklo_ps(t[0], t[1]), a1 = _mm256_unpackhi_ps(t[0], t[1]);
    __m256 a2 = _mm256_unpacklo_ps(t[2], t[3]), a3 = _mm256_unpackhi_ps(t[2], t[3]);
    __m256 a4 = _mm256_unpacklo_ps(t[4], t[5]), a5 = _mm256_unpackhi_ps(t[4], t[5]);
    __m256 a6 = _mm256_unpacklo_ps(t[6], t[7]), a7 = _mm256_unpackhi_ps(t[6], t[7]);
    __m256 b0 = _mm256_shuffle_ps(a0, a2, 0x44), b1 = _mm256_shuffle_ps(a0, a2, 0xEE);
    __m256 b2 = _mm256_shuffle_ps(a1, a3, 0x44), b3 = _mm256_shuffle_ps(a1, a3, 0xEE);
    __m256 b4 = _mm256_shuffle_ps(a4, a6, 0x44), b5 = _mm256_shuffle_ps(a4, a6, 0xEE);
    __m256 b6 = _mm256_shuffle_ps(a5, a7, 0x44), b7 = _mm256_shuffle_ps(a5, a7, 0xEE);
    t[0] = _mm256_permute2f128_ps(b0, b4, 0x20); t[4] = _mm256_permute2f128_ps(b0, b4, 0x31);
    t[1] = _mm256_permute2f128_ps(b1, b5, 0x20); t[5] = _mm256_permute2f128_ps(b1, b5, 0x31);
    t[2] = _mm256_permute2f128_ps(b2, b6, 0x20); t[6] = _mm256_permute2f128_ps(b2, b6, 0x31);
    t[3] = _mm256_permute2f128_ps(b3, b7, 0x20); t[7] = _mm256_permute2f128_ps(b3, b7, 0x31);
}

/*
 * The two layouts a pack reads, into one w-wide micro-panel dst [len, w] (w = MR or NR), lanes
 * count..w-1 zero (the edge padding), every value scaled by s (alpha for A, 1 for B: exact).
 *   pack_rows: dst[p][r] = s * src[p*ld + r]   the panel's k steps are the source's rows: copies
 *   pack_cols: dst[p][r] = s * src[r*ld + p]   the source is transposed: 8x8 transposes in registers
 */
static void pack_rows(const float *src, int ld, int count, int len, int w, float s, float *dst) {
    const __m256 vs = _mm256_set1_ps(s);
    for (int p = 0; p < len; p++, src += ld, dst += w) {
        for (int r = 0; r < w; r += 8) {
            __m256 v;
            if (count - r >= 8) v = _mm256_mul_ps(_mm256_loadu_ps(src + r), vs);
            else { /* masked lanes are neither read nor kept */
                __m256i m = lane_mask(count - r);
                v = _mm256_and_ps(_mm256_mul_ps(_mm256_maskload_ps(src + r, m), vs), _mm256_castsi256_ps(m));
            }
            store_lanes(dst + r, v, w - r);
        }
    }
}

static void pack_cols(const float *src, int ld, int count, int len, int w, float s, float *dst) {
    const __m256 vs = _mm256_set1_ps(s);
    int p = 0;
    for (; p + 8 <= len; p += 8) {
        for (int r = 0; r < w; r += 8) {
            __m256 t[8];
            for (int q = 0; q < 8; q++)
                t[q] = r + q < count ? _mm256_mul_ps(_mm256_loadu_ps(src + (size_t) (r + q) * ld + p), vs) : _mm256_setzero_ps();
            transpose8(t);
            for (int q = 0; q < 8; q++) store_lanes(dst + (size_t) (p + q) * w + r, t[q], w - r);
        }
    }
    for (; p < len; p++) /* k tail, < 8 steps */
        for (int r = 0; r < w; r++) dst[(size_t) p * w + r] = r < count ? s * src[(size_t) r * ld + p] : 0.0f;
}

/* op(A)[i0.., p0..] [mc, kc] * alpha -> MR-row micro-panels: ap[panel][p][r], zero padded. */
static void pack_a(int trans_a, const float *a, int lda, int i0, int p0, int mc, int kc, float alpha, float *ap) {
    for (int ir = 0; ir < mc; ir += MR) {
        int rows = mc - ir < MR ? mc - ir : MR;
        float *dst = ap + (size_t) ir * kc;
        if (!trans_a) pack_cols(a + (size_t) (i0 + ir) * lda + p0, lda, rows, kc, MR, alpha, dst); /* A [m,k] */
        else pack_rows(a + (size_t) p0 * lda + i0 + ir, lda, rows, kc, MR, alpha, dst);            /* A stored [k,m] */
    }
}

/* op(B)[p0.., j0..] [kc, nc] -> NR-column micro-panels: bp[panel][p][c], zero padded. */
static void pack_b(int trans_b, const float *b, int ldb, int p0, int j0, int kc, int nc, float *bp) {
    for (int jr = 0; jr < nc; jr += NR) {
        int cols = nc - jr < NR ? nc - jr : NR;
        float *dst = bp + (size_t) jr * kc;
        if (!trans_b) pack_rows(b + (size_t) p0 * ldb + j0 + jr, ldb, cols, kc, NR, 1.0f, dst);    /* B [k,n] */
        else pack_cols(b + (size_t) (j0 + jr) * ldb + p0, ldb, cols, kc, NR, 1.0f, dst);            /* B stored [n,k] */
    }
}

#if defined(__AVX512F__)
/* The MRx32 micro-kernel (AVX-512): acc [MR,32] = ap [kc, MR]^T-panel * bp [kc, 32], 2*MR zmm
 * accumulators, 2 B loads and MR broadcasts per 2*MR FMAs. C tile (ldc) += acc, or, with
 * store_only, out (32 wide) = acc. noinline: on its own gcc keeps all 27 live values in registers
 * (inlined into the loop nest it spilled a B vector). */
__attribute__((noinline)) static void kernel(int kc, const float *ap, const float *bp, float *c, int ldc, int store_only) {
    __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
        acc0[r] = acc1[r] = _mm512_setzero_ps();
        /* the C tile is read at the end: start fetching it now (MoE outputs are larger than L2) */
        _mm_prefetch((const char *) (c + (size_t) r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *) (c + (size_t) r * ldc + NR - 1), _MM_HINT_T0);
    }
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
#pragma GCC unroll 16
        for (int r = 0; r < MR; r++) {
            __m512 a = _mm512_set1_ps(ap[r]);
            acc0[r] = _mm512_fmadd_ps(a, b0, acc0[r]);
            acc1[r] = _mm512_fmadd_ps(a, b1, acc1[r]);
        }
        ap += MR;
        bp += NR;
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
        float *row = c + (size_t) r * ldc;
        if (store_only) {
            _mm512_storeu_ps(row, acc0[r]);
            _mm512_storeu_ps(row + 16, acc1[r]);
        } else {
            _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), acc0[r]));
            _mm512_storeu_ps(row + 16, _mm512_add_ps(_mm512_loadu_ps(row + 16), acc1[r]));
        }
    }
}
#else
/* The 6x16 micro-kernel (AVX2): acc = ap [kc, 6]^T-panel * bp [kc, 16]; C tile (ldc) += acc, or, with
 * store_only, out (16 wide) = acc. */
static inline void kernel(int kc, const float *ap, const float *bp, float *c, int ldc, int store_only) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
        __m256 a;
        a = _mm256_broadcast_ss(ap + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(ap + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(ap + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(ap + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(ap + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(ap + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
        ap += MR;
        bp += NR;
    }
    __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int r = 0; r < MR; r++) {
        float *row = c + (size_t) r * ldc;
        if (store_only) {
            _mm256_storeu_ps(row, acc[r][0]);
            _mm256_storeu_ps(row + 8, acc[r][1]);
        } else {
            _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), acc[r][0]));
            _mm256_storeu_ps(row + 8, _mm256_add_ps(_mm256_loadu_ps(row + 8), acc[r][1]));
        }
    }
}

#endif

/* C [m,n] *= beta; beta == 0 writes zeros (old NaN/Inf in C are ignored). */
static void scale_c(int m, int n, float beta, float *c, int ldc) {
    if (beta == 1.0f) return;
    for (int i = 0; i < m; i++) {
        float *row = c + (size_t) i * ldc;
        if (beta == 0.0f) memset(row, 0, (size_t) n * sizeof(float));
        else for (int j = 0; j < n; j++) row[j] *= beta;
    }
}

void moelab_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    /* beta == 0: the first k slice stores its sums instead of adding them to zeros. Same bits: an
     * FMA chain that starts at +0 never ends at -0, and 0 + x == x for every other x. */
    int store_first = beta == 0.0f && k > 0 && alpha != 0.0f;
    if (!store_first) scale_c(m, n, beta, c, ldc);
    if (k <= 0 || alpha == 0.0f) return;
    int nc_max = n < NC ? n : NC, kc_max = k < KC ? k : KC, mc_max = m < MC ? m : MC;
    float *bp = grow(&pack_b_buf, &pack_b_cap, (size_t) kc_max * ((nc_max + NR - 1) / NR * NR));
    float *ap = grow(&pack_a_buf, &pack_a_cap, (size_t) kc_max * ((mc_max + MR - 1) / MR * MR));
    if (!bp || !ap) abort(); /* out of memory for a few MB of packing space: nothing sensible to do */
    float edge[MR * NR] __attribute__((aligned(64)));
    for (int jc = 0; jc < n; jc += NC) {
        int nc = n - jc < NC ? n - jc : NC;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = k - pc < KC ? k - pc : KC;
            pack_b(trans_b, b, ldb, pc, jc, kc, nc, bp);
            for (int ic = 0; ic < m; ic += MC) {
                int mc = m - ic < MC ? m - ic : MC;
                pack_a(trans_a, a, lda, ic, pc, mc, kc, alpha, ap);
                for (int jr = 0; jr < nc; jr += NR) {
                    int cols = nc - jr < NR ? nc - jr : NR;
                    const float *bpanel = bp + (size_t) jr * kc;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int rows = mc - ir < MR ? mc - ir : MR;
                        const float *apanel = ap + (size_t) ir * kc;
                        float *ctile = c + (size_t) (ic + ir) * ldc + jc + jr;
                        int store = store_first && pc == 0;
                        if (rows == MR && cols == NR) {
                            kernel(kc, apanel, bpanel, ctile, ldc, store);
                        } else {
                            /* same arithmetic as a full tile: C + acc (or acc), only for the valid part */
                            kernel(kc, apanel, bpanel, edge, NR, 1);
                            for (int r = 0; r < rows; r++)
                                for (int j = 0; j < cols; j++)
                                    if (store) ctile[(size_t) r * ldc + j] = edge[r * NR + j];
                                    else ctile[(size_t) r * ldc + j] += edge[r * NR + j];
                        }
                    }
                }
            }
        }
    }
}

