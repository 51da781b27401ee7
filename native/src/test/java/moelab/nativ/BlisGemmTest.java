package moelab.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import moelab.kernels.Backends;
import moelab.kernels.GemmContractTest;
import moelab.kernels.Kernels;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The BLIS peer against the scalar reference: the shared SGEMM contract and the MoE-like shapes.
 * Skipped with the reason when libblis is not installed.
 */
class BlisGemmTest {

    @Nested
    class OneThread extends GemmContractTest {
        @Override protected Kernels candidate() { return Availability.blis(); }

        @Test
        void moeShapesAndPrimes() {
            Random rng = new Random(19);
            check(rng, false, false, 37, 1024, 512, 1f, 0f, 0, 0);   // expert forward, few tokens
            check(rng, false, true, 61, 512, 1024, 1f, 1f, 0, 5);    // dX += dH W^T
            check(rng, true, false, 512, 101, 97, 1f, 1f, 3, 0);     // dW += X^T dH, k = tokens
        }
    }

    @Test
    void selectableByNameReportsItsKernelsAndRefusesThreads() {
        Availability.blis();
        Kernels k = Backends.create("blis", 1);
        assertEquals("blis", k.name());
        assertTrue(BlisKernels.arch().startsWith("BLIS 0.") || BlisKernels.arch().startsWith("BLIS "), BlisKernels.arch());
        assertTrue(BlisKernels.arch().contains("kernels "), BlisKernels.arch());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BlisKernels(2));
        assertTrue(e.getMessage().contains("runs one thread"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> k.sgemm(false, false, 2, 2, 3, 1f, new float[6], 0, 2, new float[6], 0, 2, 0f, new float[4], 0, 2));
        assertTrue(e.getMessage().contains("lda < 3"), e.getMessage());
    }
}
