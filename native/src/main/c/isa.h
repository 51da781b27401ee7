/*
 * Every kernel source is compiled twice, once with -mavx2 -mfma and once with the AVX-512 flags
 * (see build.sh), into one libmoelab.so. This header, included before moelab_kernels.h, renames
 * the public kernels of the unit being compiled with the suffix of its ISA, so that both copies
 * can live side by side: moelab_sgemm becomes moelab_sgemm_avx2 or moelab_sgemm_avx512. The Java
 * side picks one set at run time (cpuid, or moelab.vectorBits).
 */
#ifndef MOELAB_ISA_H
#define MOELAB_ISA_H

#if defined(__AVX512F__)
#define ISA_SUFFIX _avx512
#define ISA_VECTOR_BITS 512
#else
#define ISA_SUFFIX _avx2
#define ISA_VECTOR_BITS 256
#endif

#define ISA_CAT_(a, b) a##b
#define ISA_CAT(a, b) ISA_CAT_(a, b)
#define ISA_NAME(f) ISA_CAT(f, ISA_SUFFIX)

#define moelab_vector_bits ISA_NAME(moelab_vector_bits)
#define moelab_sgemm ISA_NAME(moelab_sgemm)
#define moelab_softmax_rows ISA_NAME(moelab_softmax_rows)
#define moelab_softmax_backward_rows ISA_NAME(moelab_softmax_backward_rows)
#define moelab_topk_rows ISA_NAME(moelab_topk_rows)
#define moelab_swiglu_forward ISA_NAME(moelab_swiglu_forward)
#define moelab_swiglu_backward ISA_NAME(moelab_swiglu_backward)
#define moelab_memory_similarity ISA_NAME(moelab_memory_similarity)
#define moelab_memory_similarity_backward ISA_NAME(moelab_memory_similarity_backward)

#endif
