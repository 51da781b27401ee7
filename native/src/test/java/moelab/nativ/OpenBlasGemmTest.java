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
 * The OpenBLAS peer against the scalar reference: the shared SGEMM contract (awkward sizes, all
 * transposes, padding, offsets, alpha/beta, beta = 0 with NaN in C) on 1 and 2 OpenBLAS threads,
 * plus the MoE-like shapes. Skipped with the reason when libopenblas is not installed.
 */
class OpenBlasGemmTest {

    @Nested
    class OneThread extends GemmContractTest {
        @Override protected Kernels candidate() { return Availability.openBlas(1); }

        @Test
        void moeShapesAndPrimes() {
            Random rng = new Random(17);
            check(rng, false, false, 37, 1024, 512, 1f, 0f, 0, 0);   // expert forward, few tokens
            check(rng, false, true, 61, 512, 1024, 1f, 1f, 0, 5);    // dX += dH W^T
            check(rng, true, false, 512, 101, 97, 1f, 1f, 3, 0);     // dW += X^T dH, k = tokens
            check(rng, true, true, 1, 1, 1031, -2f, 0.5f, 1, 1);
        }
    }

    @Nested
    class TwoThreads extends GemmContractTest {
        @Override protected Kernels candidate() { return Availability.openBlas(2); }
    }

    @Test
    void selectableByNameAndChecksArguments() {
        Availability.openBlas(1);
        Kernels k = Backends.create("openblas", 1);
        assertEquals("openblas", k.name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> k.sgemm(false, false, 2, 2, 3, 1f, new float[6], 0, 2, new float[6], 0, 2, 0f, new float[4], 0, 2));
        assertTrue(e.getMessage().contains("lda < 3"), e.getMessage());
    }
}
