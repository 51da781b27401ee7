/*
 * SGEMM with AVX2/FMA: C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C, row-major.
 *
 * Goto/BLIS structure: C is first scaled by beta, then for each NC-column panel and KC-deep slice,
 * B is packed into NR-wide micro-panels (kept in L1/L2 while it is streamed), each MC-row block of A
 * is packed into MR-tall micro-panels (alpha folded in, L2), and a 6x16 register-tiled micro-kernel
 * (12 ymm accumulators) adds one slice's product into C. Edges are zero-padded in the packs, so the
 * micro-kernel always runs full; edge tiles go through a small buffer.
 *
 * Every C element is beta*C + sum over k slices (in order) of an FMA chain over that slice: the
 * result does not depend on how the caller splits m or n, which keeps threaded callers deterministic.
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#include "moelab_kernels.h"

#define MR 6
#define NR 16
#ifndef MC
#define MC 144   /* A block 144 x 256 floats = 144 KB: stays in L2 */
#endif
#ifndef KC
#define KC 256   /* one B micro-panel 256 x 16 floats = 16 KB: stays in L1 */
#endif
#ifndef NC
#define NC 3072  /* B panel 256 x 3072 floats = 3 MB: L3 */
#endif

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

/* op(A)[i0.., p0..] [mc, kc] * alpha -> MR-row micro-panels: ap[panel][p][r], zero padded. */
static void pack_a(int trans_a, const float *a, int lda, int i0, int p0, int mc, int kc, float alpha, float *ap) {
    for (int ir = 0; ir < mc; ir += MR) {
        int rows = mc - ir < MR ? mc - ir : MR;
        float *dst = ap + (size_t) ir * kc;
        if (!trans_a) {
            for (int r = 0; r < MR; r++) {
                if (r < rows) {
                    const float *src = a + (size_t) (i0 + ir + r) * lda + p0;
                    for (int p = 0; p < kc; p++) dst[p * MR + r] = alpha * src[p];
                } else {
                    for (int p = 0; p < kc; p++) dst[p * MR + r] = 0.0f;
                }
            }
        } else {
            for (int p = 0; p < kc; p++) {
                const float *src = a + (size_t) (p0 + p) * lda + i0 + ir;
                for (int r = 0; r < MR; r++) dst[p * MR + r] = r < rows ? alpha * src[r] : 0.0f;
            }
        }
    }
}

/* op(B)[p0.., j0..] [kc, nc] -> NR-column micro-panels: bp[panel][p][c], zero padded. */
static void pack_b(int trans_b, const float *b, int ldb, int p0, int j0, int kc, int nc, float *bp) {
    for (int jr = 0; jr < nc; jr += NR) {
        int cols = nc - jr < NR ? nc - jr : NR;
        float *dst = bp + (size_t) jr * kc;
        if (!trans_b) {
            for (int p = 0; p < kc; p++) {
                const float *src = b + (size_t) (p0 + p) * ldb + j0 + jr;
                if (cols == NR) {
                    _mm256_store_ps(dst + p * NR, _mm256_loadu_ps(src));
                    _mm256_store_ps(dst + p * NR + 8, _mm256_loadu_ps(src + 8));
                } else {
                    for (int c = 0; c < NR; c++) dst[p * NR + c] = c < cols ? src[c] : 0.0f;
                }
            }
        } else {
            for (int c = 0; c < NR; c++) {
                if (c < cols) {
                    const float *src = b + (size_t) (j0 + jr + c) * ldb + p0;
                    for (int p = 0; p < kc; p++) dst[p * NR + c] = src[p];
                } else {
                    for (int p = 0; p < kc; p++) dst[p * NR + c] = 0.0f;
                }
            }
        }
    }
}

/* The 6x16 micro-kernel: acc = ap [kc, 6]^T-panel * bp [kc, 16]; C tile (ldc) += acc, or, with
 * store_only, out (16 wide) = acc. */
static inline void kernel_6x16(int kc, const float *ap, const float *bp, float *c, int ldc, int store_only) {
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
    scale_c(m, n, beta, c, ldc);
    if (k <= 0 || alpha == 0.0f) return;
    int nc_max = n < NC ? n : NC, kc_max = k < KC ? k : KC, mc_max = m < MC ? m : MC;
    float *bp = grow(&pack_b_buf, &pack_b_cap, (size_t) kc_max * ((nc_max + NR - 1) / NR * NR));
    float *ap = grow(&pack_a_buf, &pack_a_cap, (size_t) kc_max * ((mc_max + MR - 1) / MR * MR));
    if (!bp || !ap) abort(); /* out of memory for a few MB of packing space: nothing sensible to do */
    float edge[MR * NR] __attribute__((aligned(32)));
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
                        if (rows == MR && cols == NR) {
                            kernel_6x16(kc, apanel, bpanel, ctile, ldc, 0);
                        } else {
                            /* same arithmetic as a full tile: C + acc, only for the valid part */
                            kernel_6x16(kc, apanel, bpanel, edge, NR, 1);
                            for (int r = 0; r < rows; r++)
                                for (int j = 0; j < cols; j++) ctile[(size_t) r * ldc + j] += edge[r * NR + j];
                        }
                    }
                }
            }
        }
    }
}

int moelab_version(void) { return 1; }
