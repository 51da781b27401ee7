package moelab.nativ;

import moelab.kernels.Kernels;
import moelab.kernels.KernelsProvider;

/** Registers the OpenBLAS SGEMM peer ("openblas"); chosen by name only. Unavailable without libopenblas. */
public final class OpenBlasKernelsProvider implements KernelsProvider {
    @Override public String name() { return "openblas"; }
    @Override public int priority() { return 4; }
    @Override public boolean isAvailable() { return unavailableReason() == null; }

    @Override public String unavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty())
            return "it delegates to the SIMD kernels: start the JVM with --add-modules jdk.incubator.vector";
        String reason = NativeLibrary.openBlas().unavailableReason();
        return reason != null ? reason : SimdBackedKernels.simdUnavailableReason();
    }

    @Override public Kernels create(int threads) { return new OpenBlasKernels(threads); }
}
