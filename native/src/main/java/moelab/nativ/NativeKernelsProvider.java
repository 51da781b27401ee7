package moelab.nativ;

import moelab.kernels.Kernels;
import moelab.kernels.KernelsProvider;

/**
 * Registers the native C back end ("native"). Above simd in priority, so `auto` takes it where
 * it can run: its SGEMM measured faster than the Vector API one on every machine seen (Zen 2
 * AVX2: training step 1,809 vs 1,431 tokens/s on 1 thread, 2,836 vs 2,290 on 2; Zen 5: SGEMM
 * 165-192 vs 146-181 GFLOP/s). Unavailable, with the reason, and then skipped by `auto`, when
 * libmoelab.so was not built (no gcc), the CPU lacks AVX2/FMA, moelab.vectorBits /
 * MOELAB_VECTOR_BITS asks for a width this CPU cannot run (or is not 256/512/auto), or the SIMD
 * back end it delegates to cannot run.
 */
public final class NativeKernelsProvider implements KernelsProvider {
    @Override public String name() { return "native"; }
    @Override public int priority() { return 15; }
    @Override public boolean isAvailable() { return unavailableReason() == null; }

    @Override public String unavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty())
            return "it delegates to the SIMD kernels: start the JVM with --add-modules jdk.incubator.vector";
        String reason = NativeLibrary.moelab().unavailableReason();
        if (reason != null) return reason;
        try {
            NativeKernels.choose(NativeIsa.Request.fromEnvironment());
        } catch (IllegalArgumentException | IllegalStateException e) {
            return e.getMessage();
        }
        return SimdBackedKernels.simdUnavailableReason();
    }

    @Override public String description() {
        if (!isAvailable()) return null;
        return "C kernels: SGEMM " + NativeKernels.choose(NativeIsa.Request.fromEnvironment()).description()
                + "; row ops 256-bit C, the rest from simd";
    }

    @Override public Kernels create(int threads) { return new NativeKernels(threads); }
}
