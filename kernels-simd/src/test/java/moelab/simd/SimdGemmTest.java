package moelab.simd;

import moelab.kernels.GemmContractTest;
import moelab.kernels.Kernels;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The SIMD SGEMM: the shared contract on 1 and 2 threads, thread-count independence, argument checks. */
class SimdGemmTest {
    private static final SimdKernels ONE = new SimdKernels(1);
    private static final SimdKernels TWO = new SimdKernels(2);
    private static final SimdKernels THREE = new SimdKernels(3);

    @Nested
    class OneThread extends GemmContractTest {
        @Override protected Kernels candidate() { return ONE; }
    }

    @Nested
    class TwoThreads extends GemmContractTest {
        @Override protected Kernels candidate() { return TWO; }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        Random rng = new Random(11);
        // shapes with edge tiles, several k blocks, tall (split m) and wide (split n) partitions
        int[][] shapes = {{300, 700, 513}, {1000, 20, 300}, {13, 2000, 600}, {257, 257, 257}, {101, 96, 1030}, {6, 4200, 70}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            for (int combo = 0; combo < 4; combo++) {
                boolean transA = (combo & 2) != 0, transB = (combo & 1) != 0;
                float[] a = random(rng, m * k);
                float[] b = random(rng, k * n);
                float[] c0 = random(rng, m * n);
                float beta = combo % 2 == 0 ? 0f : 0.5f;
                float[] c1 = c0.clone(), c2 = c0.clone(), c3 = c0.clone();
                int lda = transA ? m : k, ldb = transB ? k : n;
                ONE.sgemm(transA, transB, m, n, k, 1.25f, a, 0, lda, b, 0, ldb, beta, c1, 0, n);
                TWO.sgemm(transA, transB, m, n, k, 1.25f, a, 0, lda, b, 0, ldb, beta, c2, 0, n);
                THREE.sgemm(transA, transB, m, n, k, 1.25f, a, 0, lda, b, 0, ldb, beta, c3, 0, n);
                assertBitIdentical(c1, c2, "1 vs 2 threads", m, n, k, transA, transB);
                assertBitIdentical(c1, c3, "1 vs 3 threads", m, n, k, transA, transB);
            }
        }
    }

    @Test
    void gridSplitsTheLongerDimensionIntoWholeTiles() {
        // 2 tasks: tall C splits rows, wide C splits columns; too few tiles: fewer tasks
        assertArrayEquals(new int[] {2, 1}, SimdGemm.chooseGrid(2, 100, 4));
        assertArrayEquals(new int[] {1, 2}, SimdGemm.chooseGrid(2, 3, 64));
        assertArrayEquals(new int[] {1, 1}, SimdGemm.chooseGrid(1, 50, 50));
        int[] single = SimdGemm.chooseGrid(2, 1, 1);
        assertTrue(single[0] * single[1] == 1, "a single tile runs as one task");
        // 4 tasks on a 288 x 288 C (48 x 18 tiles): 2 x 2 balances the tiles with the least packing
        assertArrayEquals(new int[] {2, 2}, SimdGemm.chooseGrid(4, 48, 18), "4 tasks on a square C");
    }

    @Test
    void rejectsBadArgumentsNamingTheShapes() {
        float[] a = new float[6], b = new float[6], c = new float[4];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ONE.sgemm(false, false, 2, 2, 3, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("lda=2") && e.getMessage().contains("m=2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ONE.sgemm(false, false, 2, 2, 3, 1f, a, 1, 3, b, 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("A stored [2,3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ONE.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 3));
        assertTrue(e.getMessage().contains("C stored [2,2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ONE.sgemm(false, false, -1, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
    }

    private static void assertBitIdentical(float[] x, float[] y, String what, int m, int n, int k, boolean tA, boolean tB) {
        for (int i = 0; i < x.length; i++)
            if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i]))
                fail(what + ": sgemm(transA=" + tA + ", transB=" + tB + ", m=" + m + ", n=" + n + ", k=" + k
                        + ") C[" + (i / n) + "," + (i % n) + "] = " + x[i] + " vs " + y[i]);
    }

    /** Packing a transposed B (register transposes at 512 bits) equals packing its explicit transpose. */
    @Test
    void transposedBPacksLikeItsTranspose() {
        Random rng = new Random(5);
        // block shapes: partial and full panels, kc below, at and past multiples of 8, offsets
        int[][] blocks = {{1, 1}, {7, 31}, {8, 32}, {9, 33}, {64, 64}, {256, 128}, {255, 97}, {17, 5}};
        for (int[] blk : blocks) {
            int kc = blk[0], nc = blk[1], p0 = 3, j0 = 2, bOff = 5;
            int k = p0 + kc + 4, n = j0 + nc + 1, ldb = k + 1;   // B stored [n, k] with padding
            float[] b = random(rng, bOff + n * ldb);
            float[] bT = new float[n * k];                       // the same B stored [k, n]
            for (int j = 0; j < n; j++) for (int p = 0; p < k; p++) bT[p * n + j] = b[bOff + j * ldb + p];
            int size = (nc + SimdGemm.NR - 1) / SimdGemm.NR * SimdGemm.NR * kc;
            float[] viaTrans = new float[size], viaCopy = new float[size];
            Arrays.fill(viaTrans, Float.NaN);
            GemmPacking.packB(true, b, bOff, ldb, p0, kc, j0, nc, viaTrans);
            GemmPacking.packB(false, bT, 0, n, p0, kc, j0, nc, viaCopy);
            assertArrayEquals(viaCopy, viaTrans, "kc=" + kc + " nc=" + nc);
        }
    }

    private static float[] random(Random rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.nextFloat() * 2f - 1f;
        return x;
    }
}
