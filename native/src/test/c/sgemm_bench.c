/*
 * SGEMM speed of the AVX2 and AVX-512 copies in libmoelab.so on one thread, next to the fp32 FMA
 * peak measured in the same run (independent FMA chains: 12 in ymm, 16 in zmm). Squares and the MoE
 * layer's shapes: forward X[T,d] W[d,f], dX = dY W^T, dW = X^T dY. Per round every (shape, ISA)
 * runs once, interleaved, so a disturbance hits both widths; the report is the median over rounds.
 * Also checks that the two copies give the same bits (they share KC and the FMA chain).
 *
 * Build and run: bash native/src/test/c/bench.sh [rounds [512]]
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int moelab_cpu_features(void);
void moelab_sgemm_avx2(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
void moelab_sgemm_avx512(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*sgemm_fn)(int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* FMA peak: independent chains x = x * m + a, no loads, more chains than FMA latency x pipes
 * (4 x 2 on Zen 5): 16 in zmm (32 registers), 12 in ymm (16 registers, 2 hold the constants). */
#define PEAK_BODY(T, SET1, FMA, LANES, N)                                                    \
    T acc[N];                                                                                \
    for (int i = 0; i < N; i++) acc[i] = SET1(1.0f + i * 1e-3f);                            \
    T mul = SET1(0.999999f), add = SET1(1e-7f);                                              \
    double t0 = now();                                                                       \
    for (long it = 0; it < iters; it++) {                                                    \
        _Pragma("GCC unroll 16")                                                             \
        for (int i = 0; i < N; i++) acc[i] = FMA(acc[i], mul, add);                         \
    }                                                                                        \
    double t = now() - t0;                                                                   \
    float sink[LANES]; T s = acc[0];                                                         \
    for (int i = 1; i < N; i++) s = s + acc[i];                                             \
    memcpy(sink, &s, sizeof sink);                                                           \
    if (sink[0] == 12345.0f) printf("!");                                                    \
    return 2.0 * LANES * N * iters / t / 1e9;

__attribute__((target("avx2,fma"))) static double peak_ymm(long iters) { PEAK_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, 8, 12) }
__attribute__((target("avx512f"))) static double peak_zmm(long iters) { PEAK_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, 16, 16) }

typedef struct { const char *name; int ta, tb, m, n, k; } shape;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* GFLOP/s of one timed batch: repeats the call until ~0.15 s have passed (at least twice). */
static double time_gemm(sgemm_fn f, const shape *s, const float *a, const float *b, float *c) {
    int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    f(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n); /* warm: packs, caches */
    int reps = 0;
    double t0 = now(), t;
    do {
        f(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
        reps++;
        t = now() - t0;
    } while (t < 0.15 || reps < 2);
    return 2.0 * s->m * s->n * s->k * reps / t / 1e9;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    int only512 = argc > 2 && strcmp(argv[2], "512") == 0; /* "512": skip the AVX2 timings (trying blockings) */
    int has512 = (moelab_cpu_features() & 0x3c) == 0x3c;
    shape shapes[] = {
        {"square 512", 0, 0, 512, 512, 512},
        {"square 1024", 0, 0, 1024, 1024, 1024},
        {"square 2048", 0, 0, 2048, 2048, 2048},
        /* d256 f512: forward X[T,d] W[d,f] (m=T n=f k=d), dX = dY W^T (m=T n=d k=f), dW = X^T dY (m=d n=f k=T) */
        {"d256 f512 T256 fwd  X.W", 0, 0, 256, 512, 256},
        {"d256 f512 T256 dX dY.Wt", 0, 1, 256, 256, 512},
        {"d256 f512 T256 dW Xt.dY", 1, 0, 256, 512, 256},
        {"d256 f512 T2048 fwd  X.W", 0, 0, 2048, 512, 256},
        {"d256 f512 T2048 dX dY.Wt", 0, 1, 2048, 256, 512},
        {"d256 f512 T2048 dW Xt.dY", 1, 0, 256, 512, 2048},
        {"d512 f1024 T4096 fwd  X.W", 0, 0, 4096, 1024, 512},
        {"d512 f1024 T4096 dX dY.Wt", 0, 1, 4096, 512, 1024},
        {"d512 f1024 T4096 dW Xt.dY", 1, 0, 512, 1024, 4096},
        {"d512 f256 T4096 fwd  X.W", 0, 0, 4096, 256, 512},
        {"d512 f256 T4096 dX dY.Wt", 0, 1, 4096, 512, 256},
        {"d512 f256 T4096 dW Xt.dY", 1, 0, 512, 256, 4096},
    };
    int ns = sizeof shapes / sizeof shapes[0];
    sgemm_fn fns[2] = {moelab_sgemm_avx2, moelab_sgemm_avx512};
    int nisa = has512 ? 2 : 1;
    double *g = calloc((size_t) ns * 2 * rounds, sizeof(double)), py[64], pz[64];
    size_t most = 0;
    for (int i = 0; i < ns; i++) {
        size_t sz = (size_t) shapes[i].m * shapes[i].k + (size_t) shapes[i].k * shapes[i].n + (size_t) shapes[i].m * shapes[i].n;
        if (sz > most) most = sz;
    }
    float *buf = aligned_alloc(64, (most * sizeof(float) + 63) & ~(size_t) 63), *c2 = aligned_alloc(64, most * sizeof(float));
    srand(1);
    for (size_t i = 0; i < most; i++) buf[i] = (float) rand() / RAND_MAX * 2.0f - 1.0f;

    int mismatches = 0;
    for (int i = 0; i < ns && has512; i++) { /* same bits from both copies */
        const shape *s = &shapes[i];
        const float *a = buf, *b = buf + (size_t) s->m * s->k;
        float *c = buf + (size_t) s->m * s->k + (size_t) s->k * s->n;
        int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
        moelab_sgemm_avx2(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c2, s->n);
        moelab_sgemm_avx512(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
        if (memcmp(c, c2, (size_t) s->m * s->n * sizeof(float)) != 0) { printf("bits differ: %s\n", s->name); mismatches++; }
    }
    if (rounds > 64) rounds = 64;
    for (int r = 0; r < rounds; r++) {
        py[r] = peak_ymm(100000000 / 4);
        pz[r] = has512 ? peak_zmm(100000000 / 4) : 0;
        for (int i = 0; i < ns; i++) {
            const shape *s = &shapes[i];
            const float *a = buf, *b = buf + (size_t) s->m * s->k;
            float *c = buf + (size_t) s->m * s->k + (size_t) s->k * s->n;
            for (int w = only512; w < nisa; w++) g[((size_t) i * 2 + w) * rounds + r] = time_gemm(fns[w], s, a, b, c);
        }
        fprintf(stderr, "round %d/%d done\n", r + 1, rounds);
    }
    double my = median(py, rounds), mz = has512 ? median(pz, rounds) : 0;
    printf("fp32 FMA peak, 1 thread, median of %d rounds: ymm %.1f GFLOP/s", rounds, my);
    if (has512) printf(", zmm %.1f GFLOP/s", mz);
    printf("\n\n| shape | m | n | k | op | avx2 GFLOP/s | %% of ymm peak |%s\n", has512 ? " avx512 GFLOP/s | % of zmm peak |" : "");
    printf("|---|---:|---:|---:|---|---:|---:|%s\n", has512 ? "---:|---:|" : "");
    for (int i = 0; i < ns; i++) {
        const shape *s = &shapes[i];
        double m2 = median(g + ((size_t) i * 2) * rounds, rounds);
        printf("| %s | %d | %d | %d | %s | %.1f | %.0f%% |", s->name, s->m, s->n, s->k,
               s->ta ? (s->tb ? "TT" : "TN") : (s->tb ? "NT" : "NN"), m2, 100 * m2 / my);
        if (has512) {
            double m5 = median(g + ((size_t) i * 2 + 1) * rounds, rounds);
            printf(" %.1f | %.0f%% |", m5, 100 * m5 / mz);
        }
        printf("\n");
    }
    if (has512) printf("\navx2 and avx512 results: %s\n", mismatches ? "DIFFERENT BITS" : "same bits on every shape");
    return mismatches != 0;
}
