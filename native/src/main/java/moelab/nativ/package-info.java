/**
 * Native back ends through the Foreign Function &amp; Memory API: "native" (C kernels with
 * AVX2/FMA from native/src/main/c, libmoelab.so carried in the jar) and "openblas" (the system
 * OpenBLAS's cblas_sgemm). Bindings are hand-written in jextract's shape, one class per header.
 */
package moelab.nativ;
