package moelab.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import moelab.kernels.Backends;
import org.junit.jupiter.api.Test;

/**
 * Run-time ISA dispatch: the choice for injected CPU answers (so the no-AVX-512 paths are tested on
 * any CPU), the library's cpuid answer against /proc/cpuinfo, and the default and forced widths on
 * this machine, checked by the width the reached code reports.
 */
class NativeIsaTest {
    private static final int ALL = 1 | 2 | 4 | 8 | 16 | 32, AVX2_ONLY = 1 | 2;
    private static final NativeIsa.Request AUTO = new NativeIsa.Request(NativeIsa.PROPERTY, null);

    private static NativeIsa.Request prop(String v) { return new NativeIsa.Request(NativeIsa.PROPERTY, v); }

    @Test
    void autoPicksTheWidestTheCpuHas() {
        NativeIsa.Choice c = NativeIsa.choose(AUTO, ALL, true);
        assertEquals(NativeIsa.AVX512, c.isa());
        assertEquals("avx512 (cpuid: avx512f avx512bw avx512dq avx512vl; moelab.vectorBits=auto)", c.description());
        assertEquals(NativeIsa.AVX512, NativeIsa.choose(prop("auto"), ALL, true).isa());
        assertEquals(NativeIsa.AVX512, NativeIsa.choose(prop("AUTO"), ALL, true).isa());

        c = NativeIsa.choose(AUTO, AVX2_ONLY, true);
        assertEquals(NativeIsa.AVX2, c.isa());
        assertEquals("avx2 (cpuid: no avx512f no avx512bw no avx512dq no avx512vl; moelab.vectorBits=auto)", c.description());
        // AVX-512F alone (no BW/DQ/VL, which the AVX-512 copy is compiled with) is not enough
        c = NativeIsa.choose(AUTO, AVX2_ONLY | 4, true);
        assertEquals(NativeIsa.AVX2, c.isa());
        assertEquals("avx2 (cpuid: no avx512bw no avx512dq no avx512vl; moelab.vectorBits=auto)", c.description());
        // a library built by a gcc that could not compile the AVX-512 copy
        c = NativeIsa.choose(AUTO, ALL, false);
        assertEquals(NativeIsa.AVX2, c.isa());
        assertTrue(c.description().startsWith("avx2 (libmoelab.so has no AVX-512 copy"), c.description());
    }

    @Test
    void aForcedWidthWins() {
        assertEquals(new NativeIsa.Choice(NativeIsa.AVX2, "avx2 (forced by moelab.vectorBits=256)"), NativeIsa.choose(prop("256"), ALL, true));
        assertEquals(new NativeIsa.Choice(NativeIsa.AVX2, "avx2 (forced by MOELAB_VECTOR_BITS=256)"),
                NativeIsa.choose(new NativeIsa.Request(NativeIsa.ENV, "256"), ALL, true));
        assertEquals(new NativeIsa.Choice(NativeIsa.AVX512, "avx512 (forced by moelab.vectorBits=512; cpuid: avx512f avx512bw avx512dq avx512vl)"),
                NativeIsa.choose(prop("512"), ALL, true));
    }

    /** 512 on a CPU without AVX-512 is a one-line error naming the property, the value and the allowed values, before any kernel runs. */
    @Test
    void forced512WithoutAvx512IsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeIsa.choose(prop("512"), AVX2_ONLY, true));
        assertEquals("moelab.vectorBits=512 asks for the AVX-512 kernels, but this CPU lacks avx512f avx512bw avx512dq avx512vl (cpuid); "
                + "allowed values are 256, 512 and auto (or unset: the widest this CPU has)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NativeIsa.choose(new NativeIsa.Request(NativeIsa.ENV, "512"), AVX2_ONLY | 4 | 8, true));
        assertTrue(e.getMessage().startsWith("MOELAB_VECTOR_BITS=512 asks for the AVX-512 kernels, but this CPU lacks avx512dq avx512vl"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NativeIsa.choose(prop("512"), ALL, false));
        assertTrue(e.getMessage().contains("built without them") && e.getMessage().contains("allowed values are 256, 512 and auto"), e.getMessage());
        for (String bad : List.of("128", "1024", "wide", "512bit")) {
            e = assertThrows(IllegalArgumentException.class, () -> NativeIsa.choose(prop(bad), ALL, true));
            assertEquals("moelab.vectorBits=" + bad + " is not a vector width: allowed values are 256, 512 and auto (or unset: the widest this CPU has)",
                    e.getMessage());
        }
        assertFalse(e.getMessage().contains("\n"));
    }

    /** The library's cpuid answer (gcc builtins, which also check OS support) against the kernel's own list. */
    @Test
    void libraryCpuFeaturesAgreeWithProcCpuinfo() throws Exception {
        Availability.nativeKernels(1, 256);
        String flags = Availability.procCpuFlags();
        int f = moelab_kernels_h.moelab_cpu_features();
        String[] names = {"avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"};
        for (int i = 0; i < names.length; i++)
            assertEquals(flags.contains(" " + names[i] + " "), (f & (1 << i)) != 0, names[i] + ": /proc/cpuinfo vs moelab_cpu_features() = " + f);
    }

    /** With no width asked for, this machine gets its widest copy; fails if dispatch silently picked another. */
    @Test
    void theDefaultInstanceRunsTheWidestCopyThisCpuHas() throws Exception {
        Availability.nativeKernels(1, 256);
        NativeIsa.Request asked = NativeIsa.Request.fromEnvironment();
        String flags = Availability.procCpuFlags();
        boolean has512 = flags.contains(" avx512f ") && flags.contains(" avx512bw ") && flags.contains(" avx512dq ") && flags.contains(" avx512vl ");
        int expected = asked.value() == null || asked.value().equalsIgnoreCase("auto") ? (has512 ? 512 : 256) : Integer.parseInt(asked.value());
        NativeKernels k = (NativeKernels) Backends.create("native", 1);
        assertEquals(expected, k.vectorBits(), k.isa());
        assertTrue(k.isa().startsWith(expected == 512 ? "avx512 (" : "avx2 ("), k.isa());
        if (asked.value() == null) {
            assertEquals(has512 ? "avx512 (cpuid: avx512f avx512bw avx512dq avx512vl; moelab.vectorBits=auto)"
                    : k.isa(), k.isa());
            assertTrue(k.isa().endsWith("moelab.vectorBits=auto)"), k.isa());
        }
    }

    /** The property, read when an instance is made: 256 forces the AVX2 copy, a bad value makes the back end unavailable with the reason. */
    @Test
    void thePropertyForcesTheWidth() {
        Availability.nativeKernels(1, 256);
        String old = System.getProperty(NativeIsa.PROPERTY);
        try {
            System.setProperty(NativeIsa.PROPERTY, "256");
            NativeKernels k = new NativeKernels(1);
            assertEquals("avx2 (forced by moelab.vectorBits=256)", k.isa());
            assertEquals(256, k.vectorBits());

            System.setProperty(NativeIsa.PROPERTY, "384");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new NativeKernels(1));
            assertTrue(e.getMessage().startsWith("moelab.vectorBits=384 is not a vector width"), e.getMessage());
            String reason = new NativeKernelsProvider().unavailableReason();
            assertTrue(reason != null && reason.startsWith("moelab.vectorBits=384"), reason);
            IllegalStateException s = assertThrows(IllegalStateException.class, () -> Backends.create("native", 1));
            assertTrue(s.getMessage().contains("moelab.vectorBits=384 is not a vector width"), s.getMessage());

            if (NativeIsa.AVX512.missing(moelab_kernels_h.moelab_cpu_features()).isEmpty()) {
                System.setProperty(NativeIsa.PROPERTY, "512");
                k = new NativeKernels(1);
                assertEquals(512, k.vectorBits());
                assertEquals("avx512 (forced by moelab.vectorBits=512; cpuid: avx512f avx512bw avx512dq avx512vl)", k.isa());
            }
        } finally {
            if (old == null) System.clearProperty(NativeIsa.PROPERTY);
            else System.setProperty(NativeIsa.PROPERTY, old);
        }
    }
}
