package moelab.nativ;

import moelab.kernels.Kernels;
import moelab.kernels.KernelsProvider;

/** Registers the BLIS SGEMM peer ("blis"); chosen by name only. Unavailable without libblis. */
public final class BlisKernelsProvider implements KernelsProvider {
    @Override public String name() { return "blis"; }
    @Override public int priority() { return 3; }
    @Override public boolean isAvailable() { return unavailableReason() == null; }

    @Override public String unavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty())
            return "it delegates to the SIMD kernels: start the JVM with --add-modules jdk.incubator.vector";
        String reason = NativeLibrary.blis().unavailableReason();
        return reason != null ? reason : SimdBackedKernels.simdUnavailableReason();
    }

    @Override public Kernels create(int threads) { return new BlisKernels(threads); }
}
