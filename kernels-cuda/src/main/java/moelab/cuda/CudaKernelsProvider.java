package moelab.cuda;

import moelab.kernels.Kernels;
import moelab.kernels.KernelsProvider;

/**
 * Registers the CUDA back end as "cuda". Below simd in priority: its float[] interface copies every
 * call's data over PCIe, so it is chosen by name (run.kernels=cuda), not by default. Reports itself
 * unavailable (no fatbin / no libcuda / no device) instead of failing at startup.
 */
public final class CudaKernelsProvider implements KernelsProvider {
    @Override public String name() { return "cuda"; }
    @Override public int priority() { return 5; }
    @Override public boolean isAvailable() { return Cuda.available(); }
    @Override public String unavailableReason() { return Cuda.unavailableReason(); }
    @Override public Kernels create(int threads) { return new CudaKernels(Cuda.context()); }
}
