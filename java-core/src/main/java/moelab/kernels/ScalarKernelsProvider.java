package moelab.kernels;

/** Registers the scalar reference back end. Always available; the lowest priority. */
public final class ScalarKernelsProvider implements KernelsProvider {
    @Override public String name() { return "scalar"; }
    @Override public int priority() { return 0; }
    @Override public boolean isAvailable() { return true; }
    @Override public Kernels create(int threads) { return new ScalarKernels(); }
}
