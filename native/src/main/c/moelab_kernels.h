/*
 * moelab native kernels: the single source of truth for the C side and for the hand-written
 * Panama bindings (java: moelab.nativ.moelab_kernels_h; a test checks every prototype below
 * against them). All matrices are row-major float32; callers pass pointers that already include
 * their offsets. Every function is single-threaded and deterministic: the Java side splits work
 * into fixed partitions for threads.
 *
 * The kernels (moelab_vector_bits and everything after it) are compiled twice and exported with
 * an ISA suffix (isa.h): moelab_sgemm_avx2 (-mavx2 -mfma) and moelab_sgemm_avx512 (-mavx512f
 * -mavx512bw -mavx512dq -mavx512vl). Call a set only on a CPU whose moelab_cpu_features() has
 * its bits. moelab_version and moelab_cpu_features have no suffix and run on any x86-64.
 *
 * Keep one prototype per line: the signature test parses them with a simple pattern.
 */
#ifndef MOELAB_KERNELS_H
#define MOELAB_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this interface; the Java side refuses a library with another one. */
int moelab_version(void);

/* Bits of MOELAB_CPU_*: what this CPU and OS support (cpuid + xgetbv, through gcc's builtins). */
int moelab_cpu_features(void);

#define MOELAB_CPU_AVX2 1
#define MOELAB_CPU_FMA 2
#define MOELAB_CPU_AVX512F 4
#define MOELAB_CPU_AVX512BW 8
#define MOELAB_CPU_AVX512DQ 16
#define MOELAB_CPU_AVX512VL 32

/* 256 or 512: the vector width the unit was compiled for (tells which copy a caller reached). */
int moelab_vector_bits(void);

/* C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C; trans_a: A stored [k,m], trans_b: B stored [n,k]. beta == 0 ignores C's old values. */
void moelab_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* y [rows,cols] = softmax(x [rows,cols]) per row; y may equal x. */
void moelab_softmax_rows(const float *x, float *y, int rows, int cols);

/* dx [rows,cols] += y * (dy - dot(dy, y)) per row, y the softmax output. */
void moelab_softmax_backward_rows(const float *y, const float *dy, float *dx, int rows, int cols);

/* x [rows,cols] -> idx, val [rows,k]: the k largest per row, descending, ties to the lower column. 0 <= k <= cols. */
void moelab_topk_rows(const float *x, int rows, int cols, int k, int *idx, float *val);

/* h [n] = silu(a [n]) * b [n]; h may equal a or b. */
void moelab_swiglu_forward(const float *a, const float *b, float *h, int n);

/* da [n] += dh * b * silu'(a), db [n] += dh * silu(a); da or db may be NULL (skipped). */
void moelab_swiglu_backward(const float *a, const float *b, const float *dh, float *da, float *db, int n);

/* m [T,E] = cos(x_t, p_i) for active[i] != 0, else 0; x [T,d], p [E,d], active [E] (bytes). */
void moelab_memory_similarity(const float *x, const float *p, const unsigned char *active, float *m, int tokens, int experts, int d);

/* dx [T,d] += d m / d x applied to dm [T,E] (p constant); m the forward output. */
void moelab_memory_similarity_backward(const float *x, const float *p, const unsigned char *active, const float *m, const float *dm, float *dx, int tokens, int experts, int d);

#ifdef __cplusplus
}
#endif
#endif
