package moelab.bench;

import moelab.kernels.Kernels;
import moelab.kernels.ScalarKernels;
import moelab.simd.SimdKernels;

/** The kernel sets the benchmarks compare, by JMH parameter value. */
final class BenchKernels {
    private BenchKernels() {}

    /** "scalar" (the reference, one thread), "simd-1t", "simd-2t". */
    static Kernels create(String impl) {
        return switch (impl) {
            case "scalar" -> new ScalarKernels();
            case "simd-1t" -> new SimdKernels(1);
            case "simd-2t" -> new SimdKernels(2);
            default -> throw new IllegalArgumentException("unknown kernel set '" + impl + "'; known: scalar, simd-1t, simd-2t");
        };
    }
}
