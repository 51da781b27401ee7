package moelab.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Skips a test where the CUDA back end cannot run, naming what is missing. */
final class Gpu {
    private Gpu() {}

    static void require() {
        assumeTrue(Cuda.available(), () -> "CUDA back end unavailable, test skipped: " + Cuda.unavailableReason());
    }

    static CudaKernels kernels() {
        require();
        return new CudaKernels(Cuda.context());
    }
}
