package moelab.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The probe must do the arithmetic it claims (else its rate means nothing), and the split must be by the probe. */
class GemmCpuTimeTest {

    @Test
    void probeComputesTheSumOfA4x16ProductOverItsSteps() {
        Random r = new Random(3);
        for (int steps : new int[] {1, 7, 64}) {
            float[] a = new float[4 * steps], b = new float[16 * steps];
            for (int i = 0; i < a.length; i++) a[i] = r.nextFloat() - 0.5f;
            for (int i = 0; i < b.length; i++) b[i] = r.nextFloat() - 0.5f;
            int reps = 3;
            // reference in double: every acc[i][j] = reps * sum_p a[p][i] * b[p][j]; the probe returns the sum of all
            double ref = 0;
            for (int p = 0; p < steps; p++)
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 16; j++) ref += (double) a[4 * p + i] * b[16 * p + j];
            ref *= reps;
            assertEquals(ref, GemmCpuTime.loadFmaChains(a, b, steps, reps), 1e-4 * (1 + Math.abs(ref)) * steps, "steps " + steps);
        }
    }

    @Test
    void samplesSplitByTheirProbeNotByTheirResult() {
        double[] ratio = {0.80, 0.50, 0.78, 0.60, 0.82};
        double threshold = GemmCpuTime.UNCONTENDED_PROBE;
        double[] probe = {threshold, threshold - 0.01, 0.95, 0.30, 0.99};
        assertEquals(" 80% (3)", GemmCpuTime.subsetMedian(ratio, probe, true));
        assertEquals(" 55% (2)", GemmCpuTime.subsetMedian(ratio, probe, false));
        assertEquals("   - (0) ", GemmCpuTime.subsetMedian(ratio, new double[] {1, 1, 1, 1, 1}, false));
    }
}
