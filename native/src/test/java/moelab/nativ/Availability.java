package moelab.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import moelab.kernels.Kernels;

/** Test instances of the native back ends, or a visible skip (JUnit assumption) saying why there are none. */
final class Availability {
    private Availability() {}

    private static final Kernels[] NATIVE = new Kernels[4], OPENBLAS = new Kernels[4];
    private static final NativeKernels[][] BY_WIDTH = new NativeKernels[2][4];

    /** The native back end as the application gets it: the width moelab.vectorBits / MOELAB_VECTOR_BITS asks for, default the widest. */
    static synchronized Kernels nativeKernels(int threads) {
        String reason = new NativeKernelsProvider().unavailableReason();
        assumeTrue(reason == null, () -> "native back end skipped: " + reason);
        if (NATIVE[threads] == null) NATIVE[threads] = new NativeKernels(threads);
        return NATIVE[threads];
    }

    /**
     * The native back end at one width (256 or 512) whatever the environment asks for; skipped
     * when this CPU cannot run it. Fails when the code it reaches is not of that width.
     */
    static synchronized NativeKernels nativeKernels(int threads, int bits) {
        String reason = NativeLibrary.moelab().unavailableReason();
        assumeTrue(reason == null, () -> "native back end skipped: " + reason);
        NativeIsa isa = bits == 512 ? NativeIsa.AVX512 : NativeIsa.AVX2;
        List<String> lack = isa.missing(moelab_kernels_h.moelab_cpu_features());
        assumeTrue(lack.isEmpty(), () -> "native " + bits + "-bit kernels skipped: this CPU lacks " + lack);
        int w = bits == 512 ? 1 : 0;
        if (BY_WIDTH[w][threads] == null) {
            NativeKernels k = new NativeKernels(threads, NativeKernels.choose(new NativeIsa.Request("test", String.valueOf(bits))));
            assertEquals(bits, k.vectorBits(), "asked for " + bits + "-bit kernels, reached " + k.vectorBits() + "-bit code (" + k.isa() + ")");
            BY_WIDTH[w][threads] = k;
        }
        return BY_WIDTH[w][threads];
    }

    /** The widths this CPU runs: 256, and 512 where it has AVX-512. */
    static List<Integer> widths() {
        nativeKernels(1, 256);
        List<Integer> out = new ArrayList<>(List.of(256));
        if (NativeIsa.AVX512.missing(moelab_kernels_h.moelab_cpu_features()).isEmpty()) out.add(512);
        return out;
    }

    /** The CPU flags as the kernel lists them in /proc/cpuinfo: a cpuid answer independent of the library's. */
    static String procCpuFlags() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
            if (line.startsWith("flags")) return " " + line.substring(line.indexOf(':') + 1).trim() + " ";
        throw new IOException("no flags line in /proc/cpuinfo");
    }

    static synchronized Kernels openBlas(int threads) {
        String reason = new OpenBlasKernelsProvider().unavailableReason();
        assumeTrue(reason == null, () -> "openblas back end skipped: " + reason);
        if (OPENBLAS[threads] == null) OPENBLAS[threads] = new OpenBlasKernels(threads);
        return OPENBLAS[threads];
    }

    private static Kernels blis;

    /** The BLIS peer (one thread), or the test is skipped with the reason. */
    static synchronized Kernels blis() {
        String reason = new BlisKernelsProvider().unavailableReason();
        assumeTrue(reason == null, () -> "blis back end skipped: " + reason);
        if (blis == null) blis = new BlisKernels(1);
        return blis;
    }
}
