package moelab.nativ;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import moelab.kernels.GemmContractTest;
import moelab.kernels.Kernels;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The C SGEMM at both widths (AVX2, and AVX-512 where the CPU has it; each instance checks that it
 * reaches code of its width): the shared contract against the scalar reference on 1 and 2
 * threads, thread-count independence, the same bits at both widths, the thread split.
 */
class NativeGemmTest {

    @Nested
    class Avx2OneThread extends GemmContractTest {
        @Override protected Kernels candidate() { return Availability.nativeKernels(1, 256); }
    }

    @Nested
    class Avx2TwoThreads extends GemmContractTest {
        @Override protected Kernels candidate() { return Availability.nativeKernels(2, 256); }
    }

    @Nested
    class Avx512OneThread extends GemmContractTest {
        @Override protected Kernels candidate() { return Availability.nativeKernels(1, 512); }

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
    class Avx512TwoThreads extends GemmContractTest {
        @Override protected Kernels candidate() { return Availability.nativeKernels(2, 512); }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        for (int bits : Availability.widths()) resultsDoNotDependOnTheThreadCount(bits);
    }

    private void resultsDoNotDependOnTheThreadCount(int bits) {
        Kernels one = Availability.nativeKernels(1, bits), two = Availability.nativeKernels(2, bits), three = Availability.nativeKernels(3, bits);
        Random rng = new Random(11);
        // edge tiles, several k slices (KC 256), tall (rows split) and wide (columns split) C, > one NC panel
        int[][] shapes = {{300, 700, 513}, {1000, 20, 300}, {13, 2000, 600}, {257, 257, 257}, {6, 4200, 70}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            for (int combo = 0; combo < 4; combo++) {
                boolean transA = (combo & 2) != 0, transB = (combo & 1) != 0;
                float[] a = random(rng, m * k), b = random(rng, k * n), c0 = random(rng, m * n);
                float beta = combo % 2 == 0 ? 0f : 0.5f;
                float[] c1 = c0.clone(), c2 = c0.clone(), c3 = c0.clone();
                int lda = transA ? m : k, ldb = transB ? k : n;
                one.sgemm(transA, transB, m, n, k, 1.25f, a, 0, lda, b, 0, ldb, beta, c1, 0, n);
                two.sgemm(transA, transB, m, n, k, 1.25f, a, 0, lda, b, 0, ldb, beta, c2, 0, n);
                three.sgemm(transA, transB, m, n, k, 1.25f, a, 0, lda, b, 0, ldb, beta, c3, 0, n);
                for (int i = 0; i < c1.length; i++)
                    if (Float.floatToRawIntBits(c1[i]) != Float.floatToRawIntBits(c2[i]) || Float.floatToRawIntBits(c1[i]) != Float.floatToRawIntBits(c3[i]))
                        fail(bits + "-bit sgemm(transA=" + transA + ", transB=" + transB + ", m=" + m + ", n=" + n + ", k=" + k + ") C["
                                + i / n + "," + i % n + "] = " + c1[i] + " / " + c2[i] + " / " + c3[i] + " on 1 / 2 / 3 threads");
            }
        }
    }

    /** Both copies use the same KC and the same FMA chain per element: a result does not depend on the machine. */
    @Test
    void bothWidthsGiveTheSameBits() {
        Kernels narrow = Availability.nativeKernels(1, 256), wide = Availability.nativeKernels(2, 512);
        Random rng = new Random(5);
        int[][] shapes = {{300, 700, 513}, {1031, 37, 1100}, {13, 2000, 600}, {256, 512, 2048}, {1, 1, 1}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            for (int combo = 0; combo < 4; combo++) {
                boolean transA = (combo & 2) != 0, transB = (combo & 1) != 0;
                float[] a = random(rng, m * k), b = random(rng, k * n), c0 = random(rng, m * n);
                float beta = combo % 2 == 0 ? 0f : -0.75f;
                float[] c1 = c0.clone(), c2 = c0.clone();
                int lda = transA ? m : k, ldb = transB ? k : n;
                narrow.sgemm(transA, transB, m, n, k, 0.5f, a, 0, lda, b, 0, ldb, beta, c1, 0, n);
                wide.sgemm(transA, transB, m, n, k, 0.5f, a, 0, lda, b, 0, ldb, beta, c2, 0, n);
                for (int i = 0; i < c1.length; i++)
                    if (Float.floatToRawIntBits(c1[i]) != Float.floatToRawIntBits(c2[i]))
                        fail("sgemm(transA=" + transA + ", transB=" + transB + ", m=" + m + ", n=" + n + ", k=" + k + ") C["
                                + i / n + "," + i % n + "] = " + c1[i] + " (avx2) vs " + c2[i] + " (avx512)");
            }
        }
    }

    @Test
    void gridSplitsTheLongerSideAndKeepsSmallWorkOnOneThread() {
        assertArrayEquals(new int[] {1, 2}, NativeKernels.gemmGrid(2, 100, 2000, 600, 12, 32));
        assertArrayEquals(new int[] {2, 1}, NativeKernels.gemmGrid(2, 2000, 100, 600, 12, 32));
        assertArrayEquals(new int[] {2, 1}, NativeKernels.gemmGrid(2, 1000, 20, 300));
        assertArrayEquals(new int[] {1, 2}, NativeKernels.gemmGrid(2, 13, 2000, 600));
        assertArrayEquals(new int[] {1, 1}, NativeKernels.gemmGrid(2, 8, 8, 8), "tiny: one part");
        assertArrayEquals(new int[] {1, 1}, NativeKernels.gemmGrid(1, 1000, 1000, 1000), "one thread: one part");
        assertArrayEquals(new int[] {1, 1}, NativeKernels.gemmGrid(4, 1000, 1000, 0), "k = 0: one part");
    }

    private static float[] random(Random rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.nextFloat() * 2f - 1f;
        return x;
    }
}
