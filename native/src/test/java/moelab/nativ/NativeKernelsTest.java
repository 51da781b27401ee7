package moelab.nativ;

import static moelab.kernels.TestArrays.concat;
import static moelab.kernels.TestArrays.gaussian;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import moelab.kernels.Backends;
import moelab.kernels.ExpertsContractTest;
import moelab.kernels.KernelContractTest;
import moelab.kernels.Kernels;
import moelab.kernels.ScalarKernels;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The kernel contract for the native C back end at both widths: the AVX2 copy on one thread (here)
 * and two (nested), the AVX-512 copy on one and two (nested, skipped on a CPU without AVX-512),
 * plus what the contract does not cover, at every width this CPU runs.
 */
class NativeKernelsTest extends KernelContractTest {

    @Override protected Kernels candidate() { return Availability.nativeKernels(1, 256); }

    @Nested
    class TwoThreads extends KernelContractTest {
        @Override protected Kernels candidate() { return Availability.nativeKernels(2, 256); }
    }

    @Nested
    class Avx512OneThread extends KernelContractTest {
        @Override protected Kernels candidate() { return Availability.nativeKernels(1, 512); }
    }

    @Nested
    class Avx512TwoThreads extends KernelContractTest {
        @Override protected Kernels candidate() { return Availability.nativeKernels(2, 512); }
    }

    @Nested
    class Experts extends ExpertsContractTest {
        @Override protected Kernels candidate() { return Availability.nativeKernels(2, 256); }
    }

    @Nested
    class ExpertsAvx512 extends ExpertsContractTest {
        @Override protected Kernels candidate() { return Availability.nativeKernels(1, 512); }
    }

    @Test
    void selectableByName() {
        candidate();
        Kernels k = Backends.create("native", 2);
        assertEquals("native", k.name());
        assertEquals(2, k.threads());
        assertTrue(Backends.availableNames().contains("native"), Backends.availableNames().toString());
        // where it runs it is what auto picks: the first available back end by priority
        assertEquals("native", Backends.availableNames().get(0), "auto's choice, " + Backends.availableNames());
    }

    /** Each output is computed the same way whatever the split over threads: 1, 2 and 3 threads give the same bits. */
    @Test
    void oneTwoAndThreeThreadsGiveTheSameBits() {
        for (int bits : Availability.widths()) oneTwoAndThreeThreadsGiveTheSameBits(bits);
    }

    private void oneTwoAndThreeThreadsGiveTheSameBits(int bits) {
        Random r = new Random(42);
        int rows = 400, cols = 517, n = rows * cols, e = 13, d = 257;
        float[] x = gaussian(r, n, 2), b = gaussian(r, n, 1), dy = gaussian(r, n, 1), p = gaussian(r, e * d, 1);
        boolean[] active = new boolean[e];
        for (int i = 0; i < e; i++) active[i] = i % 4 != 1;
        float[][] out = new float[3][];
        for (int t = 1; t <= 3; t++) {
            Kernels k = Availability.nativeKernels(t, bits);
            float[] sm = new float[n], dsm = new float[n], h = new float[n], da = new float[n], db = new float[n];
            float[] val = new float[rows * 8];
            int[] idx = new int[rows * 8];
            k.softmaxRows(x, 0, sm, 0, rows, cols);
            k.softmaxBackwardRows(sm, 0, dy, 0, dsm, 0, rows, cols);
            k.swigluForward(x, 0, b, 0, h, 0, n);
            k.swigluBackward(x, 0, b, 0, dy, 0, da, 0, db, 0, n);
            k.topkRows(x, 0, rows, cols, 8, idx, 0, val, 0);
            int tokens = n / d;
            float[] m = new float[tokens * e], dm = gaussian(new Random(3), tokens * e, 1), dx = new float[tokens * d];
            k.memorySimilarity(x, 0, p, active, m, 0, tokens, e, d);
            k.memorySimilarityBackward(x, 0, p, active, m, 0, dm, 0, dx, 0, tokens, e, d);
            float[] c = new float[300 * 290];
            k.sgemm(false, true, 300, 290, 517, 1f, x, 0, 517, b, 0, 517, 0f, c, 0, 290);
            float[] idxAsFloat = new float[idx.length];
            for (int i = 0; i < idx.length; i++) idxAsFloat[i] = idx[i];
            out[t - 1] = concat(sm, dsm, h, da, db, val, idxAsFloat, m, dx, c);
        }
        for (int t = 1; t < 3; t++)
            for (int i = 0; i < out[0].length; i++)
                if (Float.floatToRawIntBits(out[0][i]) != Float.floatToRawIntBits(out[t][i]))
                    fail(bits + "-bit output " + i + ": 1 thread " + out[0][i] + " vs " + (t + 1) + " threads " + out[t][i]);
    }

    // ------------------------------------------------------------------ memory similarity (not in the shared contract)

    @Test
    void memorySimilarityMatchesReference() {
        for (int bits : Availability.widths()) memorySimilarityMatchesReference(bits);
    }

    private void memorySimilarityMatchesReference(int bits) {
        Kernels k = Availability.nativeKernels(1, bits);
        Kernels two = Availability.nativeKernels(2, bits);
        ScalarKernels ref = new ScalarKernels();
        int[][] shapes = {{0, 4, 8}, {1, 1, 1}, {3, 5, 7}, {17, 8, 31}, {64, 16, 100}, {257, 9, 64}, {5, 3, 0}};
        for (int[] s : shapes) {
            int tokens = s[0], experts = s[1], d = s[2];
            Random r = new Random(tokens * 1000L + experts * 10L + d);
            float[] x = gaussian(r, 2 + tokens * d, 1), p = gaussian(r, experts * d, 1);
            if (tokens > 2) for (int j = 0; j < d; j++) x[2 + 2 * d + j] = 0f;          // a zero token: the eps floor
            if (experts > 2) for (int j = 0; j < d; j++) p[2 * d + j] = 0f;               // a zero preference vector
            boolean[] active = new boolean[experts];
            for (int i = 0; i < experts; i++) active[i] = i % 3 != 1;
            float[] mExp = new float[3 + tokens * experts], mAct = mExp.clone(), mTwo = mExp.clone();
            mAct[0] = 99f; mExp[0] = 99f; mTwo[0] = 99f;
            ref.memorySimilarity(x, 2, p, active, mExp, 3, tokens, experts, d);
            k.memorySimilarity(x, 2, p, active, mAct, 3, tokens, experts, d);
            two.memorySimilarity(x, 2, p, active, mTwo, 3, tokens, experts, d);
            String what = bits + "-bit memorySimilarity [T=" + tokens + ", E=" + experts + ", d=" + d + "]";
            // cosines: dots and norms are sums of d terms, |m| <= 1
            for (int i = 0; i < mExp.length; i++)
                assertEquals(mExp[i], mAct[i], 4 * (d + 4) * 0x1p-24, what + " m[" + i + "]");
            assertArrayEquals(mAct, mTwo, what + " 1 vs 2 threads");

            float[] dm = gaussian(r, tokens * experts, 1);
            float[] dx0 = gaussian(r, 1 + tokens * d, 0.5f), dxExp = dx0.clone(), dxAct = dx0.clone();
            ref.memorySimilarityBackward(x, 2, p, active, mExp, 3, dm, 0, dxExp, 1, tokens, experts, d);
            k.memorySimilarityBackward(x, 2, p, active, mAct, 3, dm, 0, dxAct, 1, tokens, experts, d);
            for (int t = 0; t < tokens; t++)
                for (int j = 0; j < d; j++) {
                    int i = 1 + t * d + j;
                    // each dx is a sum over experts of terms bounded by |dm| (|p_i|/(|x||p_i|) + |m||x|/|x|^2)
                    double scale = Math.abs(dx0[i]), xn = 0;
                    for (int q = 0; q < d; q++) xn += (double) x[2 + t * d + q] * x[2 + t * d + q];
                    xn = Math.sqrt(xn);
                    for (int e = 0; e < experts; e++)
                        scale += Math.abs(dm[t * experts + e]) * (xn < 1e-6 ? Math.abs(p[e * d + j]) / 1e-8 : 2 / xn);
                    assertEquals(dxExp[i], dxAct[i], 4 * (d + experts + 8) * 0x1p-24 * scale, what + " dx[" + t + "," + j + "]");
                }
            assertEquals(dx0[0], dxAct[0], what + ": dx written before its offset");
        }
    }

    @Test
    void rejectsRegionsOutsideTheArrays() {
        Kernels k = candidate();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> k.softmaxRows(new float[10], 0, new float[10], 2, 2, 5));
        assertTrue(e.getMessage().contains("softmaxRows") && e.getMessage().contains("y region [2, 12)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> k.sgemm(false, false, 4, 4, 4, 1f, new float[15], 0, 4, new float[16], 0, 4, 0f, new float[16], 0, 4));
        assertTrue(e.getMessage().contains("A region [0, 16)") && e.getMessage().contains("m=4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> k.sgemm(true, false, 4, 4, 4, 1f, new float[16], 0, 3, new float[16], 0, 4, 0f, new float[16], 0, 4));
        assertTrue(e.getMessage().contains("lda < 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> k.memorySimilarity(new float[8], 0, new float[8], new boolean[1], new float[4], 0, 2, 2, 4));
        assertTrue(e.getMessage().contains("active has 1 entries"), e.getMessage());
    }
}
