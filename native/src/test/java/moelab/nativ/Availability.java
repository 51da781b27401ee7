package moelab.nativ;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import moelab.kernels.Kernels;

/** Test instances of the native back ends, or a visible skip (JUnit assumption) saying why there are none. */
final class Availability {
    private Availability() {}

    private static final Kernels[] NATIVE = new Kernels[4], OPENBLAS = new Kernels[4];

    static synchronized Kernels nativeKernels(int threads) {
        String reason = new NativeKernelsProvider().unavailableReason();
        assumeTrue(reason == null, () -> "native back end skipped: " + reason);
        if (NATIVE[threads] == null) NATIVE[threads] = new NativeKernels(threads);
        return NATIVE[threads];
    }

    static synchronized Kernels openBlas(int threads) {
        String reason = new OpenBlasKernelsProvider().unavailableReason();
        assumeTrue(reason == null, () -> "openblas back end skipped: " + reason);
        if (OPENBLAS[threads] == null) OPENBLAS[threads] = new OpenBlasKernels(threads);
        return OPENBLAS[threads];
    }
}
