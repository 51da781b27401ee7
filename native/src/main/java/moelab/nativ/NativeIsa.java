package moelab.nativ;

import java.util.ArrayList;
import java.util.List;

/**
 * Which copy of the C kernels runs. libmoelab.so holds each kernel twice (native/src/main/c/isa.h):
 * compiled for AVX2+FMA (symbols ending in {@code _avx2}) and for AVX-512 ({@code _avx512}).
 * By default the widest copy this CPU can run is used (cpuid through
 * {@code moelab_cpu_features()}); the system property {@value #PROPERTY} or the environment
 * variable {@value #ENV} ({@code 256}, {@code 512} or {@code auto}) forces a width, so that both
 * can be compared in one build. Asking for 512 where the CPU cannot run it is an
 * {@link IllegalArgumentException}, never a crash.
 */
public enum NativeIsa {
    AVX2(256, "_avx2", new String[] {"avx2", "fma"}, new int[] {1, 2}),
    AVX512(512, "_avx512", new String[] {"avx512f", "avx512bw", "avx512dq", "avx512vl"}, new int[] {4, 8, 16, 32});

    public static final String PROPERTY = "moelab.vectorBits", ENV = "MOELAB_VECTOR_BITS";
    static final String ALLOWED = "allowed values are 256, 512 and auto (or unset: the widest this CPU has)";

    /** Vector width of this copy in bits. */
    public final int bits;
    /** Suffix of this copy's symbols in libmoelab.so. */
    final String suffix;
    /** The cpuid features (names as in /proc/cpuinfo) this copy is compiled for, and their MOELAB_CPU_* bits. */
    private final String[] featureNames;
    private final int[] featureBits;
    /** The micro-kernel tile {rows, columns} in sgemm.c: thread splits of C follow it. */
    final int mr, nr;

    NativeIsa(int bits, String suffix, String[] featureNames, int[] featureBits) {
        this.bits = bits;
        this.suffix = suffix;
        this.featureNames = featureNames;
        this.featureBits = featureBits;
        this.mr = bits == 512 ? 12 : 6;
        this.nr = bits == 512 ? 32 : 16;
    }

    /** The features of this copy that a CPU with the given MOELAB_CPU_* bits lacks; empty when it can run it. */
    List<String> missing(int cpuFeatures) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < featureBits.length; i++) if ((cpuFeatures & featureBits[i]) == 0) out.add(featureNames[i]);
        return out;
    }

    String features() { return String.join(" ", featureNames); }

    /** What was chosen and why, e.g. "avx512 (cpuid: avx512f avx512bw avx512dq avx512vl; moelab.vectorBits=auto)". */
    public record Choice(NativeIsa isa, String description) {}

    /** The request and where it came from: the property wins over the environment; null value when neither is set. */
    record Request(String source, String value) {
        static Request fromEnvironment() {
            String p = System.getProperty(PROPERTY);
            if (p != null && !p.isBlank()) return new Request(PROPERTY, p.trim());
            String e = System.getenv(ENV);
            if (e != null && !e.isBlank()) return new Request(ENV, e.trim());
            return new Request(PROPERTY, null);
        }
    }

    /**
     * Chooses the copy for a request ({@code null}, {@code "auto"}, {@code "256"} or {@code "512"}),
     * the CPU's MOELAB_CPU_* bits and whether the library has its AVX-512 copy. Pure, so that tests
     * can inject a CPU without AVX-512.
     *
     * @throws IllegalArgumentException for another value, or 512 where this CPU or library cannot run it
     */
    static Choice choose(Request request, int cpuFeatures, boolean libraryHas512) {
        String v = request.value() == null ? "auto" : request.value().toLowerCase();
        String asked = request.source() + "=" + (request.value() == null ? "auto" : request.value());
        List<String> lack512 = AVX512.missing(cpuFeatures);
        switch (v) {
            case "auto" -> {
                if (!lack512.isEmpty())
                    return new Choice(AVX2, "avx2 (cpuid: no " + String.join(" no ", lack512) + "; " + asked + ")");
                if (!libraryHas512)
                    return new Choice(AVX2, "avx2 (libmoelab.so has no AVX-512 copy, gcc could not build it; cpuid: "
                            + AVX512.features() + "; " + asked + ")");
                return new Choice(AVX512, "avx512 (cpuid: " + AVX512.features() + "; " + asked + ")");
            }
            case "256" -> {
                return new Choice(AVX2, "avx2 (forced by " + asked + ")");
            }
            case "512" -> {
                if (!lack512.isEmpty())
                    throw new IllegalArgumentException(asked + " asks for the AVX-512 kernels, but this CPU lacks "
                            + String.join(" ", lack512) + " (cpuid); " + ALLOWED);
                if (!libraryHas512)
                    throw new IllegalArgumentException(asked + " asks for the AVX-512 kernels, but libmoelab.so was built"
                            + " without them (gcc could not compile the AVX-512 copy); " + ALLOWED);
                return new Choice(AVX512, "avx512 (forced by " + asked + "; cpuid: " + AVX512.features() + ")");
            }
            default -> throw new IllegalArgumentException(asked + " is not a vector width: " + ALLOWED);
        }
    }
}
