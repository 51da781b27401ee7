package moelab.simd;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The vector width in force is the one asked for (or the CPU's widest), and bad requests are refused by name. */
class VectorWidthTest {

    @Test
    void theWidthInForceIsTheOneAskedFor() {
        String expected = System.getProperty("moelab.expectVectorBits");
        int want = expected != null ? Integer.parseInt(expected) : (VectorWidth.CPU_BITS >= 512 ? 512 : 256);
        assertNull(VectorWidth.ERROR);
        assertEquals(want, VectorWidth.BITS, VectorWidth.describe());
        assertEquals(want, Vec.S.vectorBitSize(), "row kernels' species");
        // the GEMM's micro-tile is two vectors wide at that width
        assertEquals(2 * want / Float.SIZE, SimdGemm.NR);
        assertEquals(want == 512 ? 8 : 4, SimdGemm.MR);
        assertTrue(VectorWidth.describe().contains(want + "-bit"), VectorWidth.describe());
    }

    @Test
    void autoPicksTheWidestAndForcedWidthsAreChecked() {
        assertEquals(512, VectorWidth.resolve(null, "p", 512));
        assertEquals(512, VectorWidth.resolve(" auto ", "p", 512));
        assertEquals(256, VectorWidth.resolve("", "p", 256));
        assertEquals(256, VectorWidth.resolve("256", "p", 512));
        assertEquals(512, VectorWidth.resolve("512", "p", 512));
        // no 128-bit kernels: a CPU with less than AVX2 still runs the 256-bit code (emulated)
        assertEquals(256, VectorWidth.resolve("auto", "p", 128));
    }

    @Test
    void badWidthsNameTheSettingAndTheAllowedValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VectorWidth.resolve("512", "moelab.vectorBits", 256));
        assertEquals("moelab.vectorBits=512: this CPU's widest vectors are 256 bits; allowed here: auto, 256", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VectorWidth.resolve("wide", "MOELAB_VECTOR_BITS", 512));
        assertEquals("MOELAB_VECTOR_BITS=wide is not a vector width; allowed: auto, 256, 512", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VectorWidth.resolve("128", "moelab.vectorBits", 512));
        assertTrue(e.getMessage().contains("allowed: auto, 256, 512"), e.getMessage());
    }
}
