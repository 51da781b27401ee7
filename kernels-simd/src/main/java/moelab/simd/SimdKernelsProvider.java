package moelab.simd;

import moelab.kernels.Kernels;
import moelab.kernels.KernelsProvider;

/** Registers the Vector API back end; preferred over scalar when the incubator module is present. */
public final class SimdKernelsProvider implements KernelsProvider {
    @Override public String name() { return "simd"; }
    @Override public int priority() { return 10; }

    @Override public boolean isAvailable() { return unavailableReason() == null; }

    @Override public String unavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty())
            return "the JVM was started without --add-modules jdk.incubator.vector";
        return VectorWidth.ERROR;
    }

    @Override public String description() { return isAvailable() ? VectorWidth.describe() : null; }

    @Override public Kernels create(int threads) { return new SimdKernels(threads); }
}
