package moelab.kernels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The {@link Kernels#sgemm} contract, checked for any back end against {@link ScalarKernels}:
 * awkward sizes, all four transpose combinations, padded leading dimensions, nonzero offsets,
 * alpha/beta variations (beta == 0 with NaN in C) and a few big shapes that cross every
 * blocking boundary a fast implementation is likely to have. A back end's test subclasses this.
 *
 * <p>Tolerance: both results are float sums of k products, each within k * 2^-24 * sum|a*b| of
 * the exact value, so they may differ by 2 * (k + 2) * 2^-24 * (|alpha| sum|a*b| + |beta c|).
 * A wrong element or a missed k step is off by the order of sum|a*b| itself.
 */
public abstract class GemmContractTest {

    /** The implementation under test. */
    protected abstract Kernels candidate();

    private static final ScalarKernels REFERENCE = new ScalarKernels();
    private static final int[] SIZES = {0, 1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 33, 64, 100, 257};
    private static final float[] ALPHAS = {1f, -0.5f, 2.25f, 0.75f};
    private static final float[] BETAS = {0f, 1f, -1.5f, 0.5f};
    /** Value outside the matrices' logical regions: must come back unchanged. */
    private static final float GUARD = -12345.5f;

    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void allAwkwardSizes(boolean transA, boolean transB) {
        Random rng = new Random(42 + (transA ? 2 : 0) + (transB ? 1 : 0));
        int variant = 0;
        for (int m : SIZES) {
            for (int n : SIZES) {
                for (int k : SIZES) {
                    // cycle through alpha, beta, padding and offsets so that every size meets several
                    float alpha = ALPHAS[variant % ALPHAS.length];
                    float beta = BETAS[(variant / 3) % BETAS.length];
                    int pad = (variant % 5 == 0) ? 0 : 1 + variant % 4;
                    int off = (variant % 7 == 0) ? 0 : 1 + variant % 6;
                    check(rng, transA, transB, m, n, k, alpha, beta, pad, off);
                    variant++;
                }
            }
        }
    }

    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void bigShapes(boolean transA, boolean transB) {
        Random rng = new Random(7);
        check(rng, transA, transB, 300, 700, 513, 0.75f, 0.5f, 3, 11);
        check(rng, transA, transB, 300, 700, 513, 1f, 0f, 0, 0);
        check(rng, transA, transB, 1000, 20, 300, -1f, 1f, 5, 2);   // tall and thin
        check(rng, transA, transB, 13, 2000, 600, 1f, 0f, 0, 1);    // short and wide
        check(rng, transA, transB, 7, 4200, 40, 1.5f, 1f, 2, 0);    // more columns than one n block
        check(rng, transA, transB, 1031, 37, 1100, 1f, 0.5f, 1, 3); // more rows than one m block, three k blocks
    }

    @Test
    void betaZeroIgnoresNaNAndInfinityInC() {
        Random rng = new Random(3);
        for (int size : new int[] {1, 7, 16, 17, 100}) {
            float[] a = random(rng, size * size), b = random(rng, size * size);
            float[] c = new float[size * size];
            for (int i = 0; i < c.length; i++) c[i] = i % 2 == 0 ? Float.NaN : Float.POSITIVE_INFINITY;
            float[] expected = new float[size * size];
            REFERENCE.sgemm(false, false, size, size, size, 1f, a, 0, size, b, 0, size, 0f, expected, 0, size);
            candidate().sgemm(false, false, size, size, size, 1f, a, 0, size, b, 0, size, 0f, c, 0, size);
            for (int i = 0; i < c.length; i++) {
                if (!Float.isFinite(c[i]))
                    fail("sgemm " + size + "^3 beta=0: C[" + i + "]=" + c[i] + ", old NaN/Inf leaked into the result");
                assertEquals(expected[i], c[i], 1e-4f * size, "sgemm " + size + "^3 beta=0: C[" + i + "]");
            }
        }
    }

    @Test
    void zeroKScalesCByBeta() {
        float[] c = {1f, 2f, 3f, 4f, 5f, 6f};
        candidate().sgemm(false, false, 2, 3, 0, 1f, new float[0], 0, 0, new float[0], 0, 3, 2f, c, 0, 3);
        float[] expected = {2f, 4f, 6f, 8f, 10f, 12f};
        for (int i = 0; i < c.length; i++) assertEquals(expected[i], c[i], "k=0, beta=2: C[" + i + "]");
        float[] d = {Float.NaN, 1f, 2f, 3f};
        candidate().sgemm(true, true, 2, 2, 0, 1f, new float[0], 0, 2, new float[0], 0, 0, 0f, d, 0, 2);
        for (int i = 0; i < d.length; i++) assertEquals(0f, d[i], "k=0, beta=0: C[" + i + "]");
    }

    @Test
    void repeatedCallsGiveIdenticalResults() {
        Random rng = new Random(5);
        int m = 123, n = 77, k = 300;
        float[] a = random(rng, m * k), b = random(rng, k * n);
        float[] c1 = new float[m * n], c2 = new float[m * n];
        candidate().sgemm(false, true, m, n, k, 1f, a, 0, k, b, 0, k, 0f, c1, 0, n);
        candidate().sgemm(false, true, m, n, k, 1f, a, 0, k, b, 0, k, 0f, c2, 0, n);
        for (int i = 0; i < c1.length; i++)
            assertEquals(Float.floatToRawIntBits(c1[i]), Float.floatToRawIntBits(c2[i]), "C[" + i + "] differs between two calls");
    }

    // ------------------------------------------------------------------ helpers

    /**
     * One case: op(A) [m,k], op(B) [k,n], C [m,n], each stored with leading dimension
     * (row length + pad) after {@code off} guard values, with guard values after it too.
     */
    protected void check(Random rng, boolean transA, boolean transB, int m, int n, int k,
                         float alpha, float beta, int pad, int off) {
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        float[] a = stored(rng, aRows, aCols, lda, off);
        float[] b = stored(rng, bRows, bCols, ldb, off);
        float[] c = stored(rng, m, n, ldc, off);
        if (beta == 0f) fillRegion(c, off, m, n, ldc, Float.NaN); // must be ignored
        float[] aCopy = a.clone(), bCopy = b.clone(), cOld = c.clone();
        float[] expected = c.clone();

        REFERENCE.sgemm(transA, transB, m, n, k, alpha, a, off, lda, b, off, ldb, beta, expected, off, ldc);
        candidate().sgemm(transA, transB, m, n, k, alpha, a, off, lda, b, off, ldb, beta, c, off, ldc);

        String what = "sgemm(transA=" + transA + ", transB=" + transB + ", m=" + m + ", n=" + n + ", k=" + k
                + ", alpha=" + alpha + ", beta=" + beta + ", pad=" + pad + ", off=" + off + ") on " + candidate().name()
                + " with " + candidate().threads() + " thread(s)";
        assertArrayUnchanged(aCopy, a, what + ": A was modified");
        assertArrayUnchanged(bCopy, b, what + ": B was modified");
        double eps = Math.ulp(1f) / 2; // 2^-24
        for (int idx = 0; idx < c.length; idx++) {
            int rel = idx - off;
            boolean inside = rel >= 0 && ldc > 0 && rel / ldc < m && rel % ldc < n;
            if (!inside) {
                if (Float.floatToRawIntBits(c[idx]) != Float.floatToRawIntBits(cOld[idx]))
                    fail(what + ": wrote C[" + idx + "]=" + c[idx] + " outside the m x n region (was " + cOld[idx] + ")");
                continue;
            }
            int i = rel / ldc, j = rel % ldc;
            double mag = 0;
            for (int p = 0; p < k; p++) {
                float av = transA ? a[off + p * lda + i] : a[off + i * lda + p];
                float bv = transB ? b[off + j * ldb + p] : b[off + p * ldb + j];
                mag += Math.abs((double) av * bv);
            }
            double scale = Math.abs(alpha) * mag + (beta == 0f ? 0 : Math.abs(beta * cOld[idx]));
            double tol = 2 * (k + 2) * eps * scale + 1e-30;
            double diff = Math.abs((double) c[idx] - expected[idx]);
            if (!(diff <= tol))
                fail(what + ": C[" + i + "," + j + "] = " + c[idx] + ", reference " + expected[idx]
                        + " (|diff| " + diff + " > tol " + tol + ")");
        }
    }

    /** A [rows, cols] matrix with leading dimension ld after off guards, random in [-1, 1), guards around. */
    protected static float[] stored(Random rng, int rows, int cols, int ld, int off) {
        int len = off + (rows == 0 ? 0 : (rows - 1) * ld + cols) + 3;
        float[] x = new float[len];
        java.util.Arrays.fill(x, GUARD);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) x[off + r * ld + c] = rng.nextFloat() * 2f - 1f;
        return x;
    }

    protected static float[] random(Random rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.nextFloat() * 2f - 1f;
        return x;
    }

    private static void fillRegion(float[] x, int off, int rows, int cols, int ld, float v) {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) x[off + r * ld + c] = v;
    }

    private static void assertArrayUnchanged(float[] before, float[] after, String message) {
        for (int i = 0; i < before.length; i++)
            if (Float.floatToRawIntBits(before[i]) != Float.floatToRawIntBits(after[i]))
                fail(message + " at index " + i);
    }
}
