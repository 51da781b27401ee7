package moelab.kernels;

/**
 * A back end, found through {@link java.util.ServiceLoader} (META-INF/services/moelab.kernels.KernelsProvider).
 * java-core never imports a back end; it only sees this interface.
 */
public interface KernelsProvider {
    /** Unique name used to select it: "scalar", "simd", ... */
    String name();

    /** Higher is preferred when no back end is named; scalar is 0. */
    int priority();

    /** Whether it can run here (CPU features, native library, GPU). Must not throw. */
    boolean isAvailable();

    /** Why it cannot run here, for error messages; null when available. */
    default String unavailableReason() { return isAvailable() ? null : "not available"; }

    /** What it runs on here and why (instruction set, vector width, device), for {@code moe backends}; null if nothing to say. */
    default String description() { return null; }

    /** A kernel set that uses up to {@code threads} threads inside each call. */
    Kernels create(int threads);
}
