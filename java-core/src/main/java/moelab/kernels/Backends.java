package moelab.kernels;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Chooses the kernel back end. Default: the available back end with the highest priority, or
 * the one named by the system property {@code moelab.kernels} / environment variable
 * {@code MOELAB_KERNELS}. Threads: {@code moelab.threads} / {@code MOELAB_THREADS}, default all cores.
 */
public final class Backends {
    private Backends() {}

    private static volatile Kernels current;

    /** All providers on the class path, highest priority first. */
    public static List<KernelsProvider> providers() {
        List<KernelsProvider> list = new ArrayList<>();
        for (KernelsProvider p : ServiceLoader.load(KernelsProvider.class)) list.add(p);
        list.sort(Comparator.comparingInt(KernelsProvider::priority).reversed().thenComparing(KernelsProvider::name));
        return list;
    }

    /** Names of the back ends that can run here. */
    public static List<String> availableNames() {
        List<String> names = new ArrayList<>();
        for (KernelsProvider p : providers()) if (p.isAvailable()) names.add(p.name());
        return names;
    }

    /** A new kernel set by name; throws naming the known back ends when unknown or unavailable. */
    public static Kernels create(String name, int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        List<String> known = new ArrayList<>();
        for (KernelsProvider p : providers()) {
            known.add(p.name());
            if (p.name().equals(name)) {
                if (!p.isAvailable())
                    throw new IllegalStateException("kernel back end '" + name + "' is not available here: " + p.unavailableReason());
                return p.create(threads);
            }
        }
        throw new IllegalArgumentException("unknown kernel back end '" + name + "'; known: " + known + ", available: " + availableNames());
    }

    /** The engine's current kernels (created on first use from the defaults). */
    public static Kernels get() {
        Kernels k = current;
        if (k == null) {
            synchronized (Backends.class) {
                if (current == null) current = create(defaultName(), defaultThreads());
                k = current;
            }
        }
        return k;
    }

    /** Replaces the engine's kernels, e.g. {@code Backends.use(Backends.create("scalar", 1))}. */
    public static void use(Kernels kernels) { current = kernels; }

    public static String defaultName() {
        String n = setting("moelab.kernels", "MOELAB_KERNELS");
        if (n != null) return n;
        for (KernelsProvider p : providers()) if (p.isAvailable()) return p.name();
        return "scalar";
    }

    public static int defaultThreads() {
        String t = setting("moelab.threads", "MOELAB_THREADS");
        if (t == null) return Runtime.getRuntime().availableProcessors();
        try {
            int v = Integer.parseInt(t.trim());
            if (v >= 1) return v;
        } catch (NumberFormatException ignored) { }
        throw new IllegalArgumentException("moelab.threads / MOELAB_THREADS must be an integer >= 1, got '" + t + "'");
    }

    private static String setting(String property, String env) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) v = System.getenv(env);
        return v == null || v.isBlank() ? null : v.trim();
    }
}
