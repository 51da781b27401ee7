/*
 * The ISA-independent part of libmoelab.so, compiled without -m flags so that it runs on any
 * x86-64: the interface version and what the CPU (and the OS, which must save the wide
 * registers) supports. The Java side reads moelab_cpu_features() before it calls any kernel.
 */
#include "moelab_kernels.h"

int moelab_version(void) { return 2; }

int moelab_cpu_features(void) {
    __builtin_cpu_init();
    /* gcc's builtin checks the cpuid bits and, through xgetbv, that the OS enabled the ymm/zmm state */
    int f = 0;
    if (__builtin_cpu_supports("avx2")) f |= MOELAB_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) f |= MOELAB_CPU_FMA;
    if (__builtin_cpu_supports("avx512f")) f |= MOELAB_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= MOELAB_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512dq")) f |= MOELAB_CPU_AVX512DQ;
    if (__builtin_cpu_supports("avx512vl")) f |= MOELAB_CPU_AVX512VL;
    return f;
}
