package moelab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The scalar reference checked on its own: hand-computed cases, and the float kernels against
 * the same formulas evaluated in double (finite differences for the backward kernels). Every
 * other back end is compared with this class, so it must be right by itself.
 */
class ScalarKernelsTest {
    private final ScalarKernels k = new ScalarKernels();
    private final Random rnd = new Random(1234);

    private float[] normal(int n, double sd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * sd);
        return a;
    }

    // ------------------------------------------------------------------ softmax family

    @Test
    void softmaxHandComputed() {
        // exp(0) : exp(ln 2) : exp(ln 3) = 1 : 2 : 3
        float[] x = {0f, (float) Math.log(2), (float) Math.log(3), 5f, 5f};
        float[] y = new float[6];
        k.softmaxRows(x, 0, y, 1, 1, 3);
        assertArrayEquals(new float[]{0f, 1f / 6, 2f / 6, 3f / 6, 0f, 0f}, y, 1e-6f);
        // a row of equal values is uniform; the region starts at an offset
        k.softmaxRows(x, 3, y, 0, 1, 2);
        assertArrayEquals(new float[]{0.5f, 0.5f}, Arrays.copyOf(y, 2), 0f);
    }

    @Test
    void softmaxMatchesDoubleFormulaAndSumsToOne() {
        int rows = 6, cols = 37;
        float[] x = normal(rows * cols, 3);
        x[5] = 80f; // without subtracting the max, exp(80) and friends overflow float
        x[cols + 2] = -80f;
        x[2 * cols] = Float.NEGATIVE_INFINITY; // a masked logit gets probability 0
        float[] y = new float[rows * cols];
        k.softmaxRows(x, 0, y, 0, rows, cols);
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0, ysum = 0;
            for (int c = 0; c < cols; c++) max = Math.max(max, x[r * cols + c]);
            for (int c = 0; c < cols; c++) sum += Math.exp(x[r * cols + c] - max);
            for (int c = 0; c < cols; c++) {
                double want = Math.exp(x[r * cols + c] - max) / sum;
                assertEquals(want, y[r * cols + c], 1e-6 * want + 1e-30, "softmax row " + r + " col " + c);
                ysum += y[r * cols + c];
            }
            assertEquals(1.0, ysum, 1e-5, "softmax row " + r + " sums to 1");
        }
        assertEquals(0f, y[2 * cols]);
    }

    @Test
    void logSoftmaxIsLogOfSoftmax() {
        int rows = 5, cols = 33;
        float[] x = normal(rows * cols, 4);
        x[7] = 80f;
        x[cols + 1] = -80f;
        float[] y = new float[rows * cols], ls = new float[rows * cols];
        k.softmaxRows(x, 0, y, 0, rows, cols);
        k.logSoftmaxRows(x, 0, ls, 0, rows, cols);
        for (int i = 0; i < x.length; i++) {
            // log of a float softmax value loses precision only when y underflows; these do not
            assertEquals(Math.log(y[i]), ls[i], 1e-5 * (1 + Math.abs(ls[i])), "logsoftmax " + i);
        }
        // in place gives the same values
        float[] inPlace = x.clone();
        k.logSoftmaxRows(inPlace, 0, inPlace, 0, rows, cols);
        assertArrayEquals(ls, inPlace, 0f);
    }

    @Test
    void softmaxBackwardIsJacobianTransposeTimesDyAndAccumulates() {
        int rows = 3, cols = 11;
        float[] x = normal(rows * cols, 2), y = new float[rows * cols], dy = normal(rows * cols, 1);
        k.softmaxRows(x, 0, y, 0, rows, cols);
        float[] dx0 = normal(rows * cols, 1), dx = dx0.clone();
        k.softmaxBackwardRows(y, 0, dy, 0, dx, 0, rows, cols);
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < cols; i++) {
                // dL/dx_i = sum_j dy_j * dy_j/dx_i, with dy_j/dx_i = y_j (delta_ij - y_i)
                double g = 0;
                for (int j = 0; j < cols; j++) {
                    double yi = y[r * cols + i], yj = y[r * cols + j];
                    g += dy[r * cols + j] * yj * ((i == j ? 1 : 0) - yi);
                }
                assertEquals(dx0[r * cols + i] + g, dx[r * cols + i], 1e-5, "softmax backward row " + r + " col " + i);
            }
    }

    // ------------------------------------------------------------------ RMSNorm

    @Test
    void rmsnormHandComputed() {
        // rms of (3, 4) = sqrt((9 + 16) / 2) = sqrt(12.5)
        float[] x = {3f, 4f}, w = {1f, 2f}, y = new float[2], inv = new float[1];
        k.rmsnormForward(x, 0, w, 0, y, 0, inv, 0, 1, 2, 0f);
        double rms = Math.sqrt(12.5);
        assertEquals(1 / rms, inv[0], 1e-7);
        assertArrayEquals(new float[]{(float) (3 / rms), (float) (8 / rms)}, y, 1e-6f);
    }

    /** sum over r, c of g[r,c] * y[r,c], RMSNorm computed in double. */
    private static double rmsnormObjective(double[] x, double[] w, float[] g, int rows, int cols, double eps) {
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int c = 0; c < cols; c++) ss += x[r * cols + c] * x[r * cols + c];
            double inv = 1 / Math.sqrt(ss / cols + eps);
            for (int c = 0; c < cols; c++) total += g[r * cols + c] * x[r * cols + c] * inv * w[c];
        }
        return total;
    }

    @Test
    void rmsnormForwardMatchesDoubleAndBackwardMatchesFiniteDifferences() {
        int rows = 4, cols = 13;
        float eps = 1e-5f;
        float[] x = normal(rows * cols, 1.5), w = normal(cols, 1), g = normal(rows * cols, 1);
        float[] y = new float[rows * cols], inv = new float[rows];
        k.rmsnormForward(x, 0, w, 0, y, 0, inv, 0, rows, cols, eps);
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int c = 0; c < cols; c++) ss += (double) x[r * cols + c] * x[r * cols + c];
            double iv = 1 / Math.sqrt(ss / cols + eps);
            assertEquals(iv, inv[r], 1e-6 * iv, "invRms row " + r);
            for (int c = 0; c < cols; c++)
                assertEquals(x[r * cols + c] * iv * w[c], y[r * cols + c], 1e-5, "y row " + r + " col " + c);
        }
        float[] dx0 = normal(rows * cols, 1), dw0 = normal(cols, 1);
        float[] dx = dx0.clone(), dw = dw0.clone();
        k.rmsnormBackward(x, 0, w, 0, inv, 0, g, 0, dx, 0, dw, 0, rows, cols);

        double[] xd = new double[x.length], wd = new double[cols];
        for (int i = 0; i < x.length; i++) xd[i] = x[i];
        for (int i = 0; i < cols; i++) wd[i] = w[i];
        double h = 1e-6;
        for (int i = 0; i < x.length; i++) {
            double keep = xd[i];
            xd[i] = keep + h;
            double up = rmsnormObjective(xd, wd, g, rows, cols, eps);
            xd[i] = keep - h;
            double down = rmsnormObjective(xd, wd, g, rows, cols, eps);
            xd[i] = keep;
            double fd = (up - down) / (2 * h);
            assertEquals(dx0[i] + fd, dx[i], 1e-4 * (1 + Math.abs(fd)), "rmsnorm dx " + i);
        }
        for (int c = 0; c < cols; c++) {
            double keep = wd[c];
            wd[c] = keep + h;
            double up = rmsnormObjective(xd, wd, g, rows, cols, eps);
            wd[c] = keep - h;
            double down = rmsnormObjective(xd, wd, g, rows, cols, eps);
            wd[c] = keep;
            double fd = (up - down) / (2 * h);
            assertEquals(dw0[c] + fd, dw[c], 1e-4 * (1 + Math.abs(fd)), "rmsnorm dw " + c);
        }
        // null outputs are skipped, the other one is still computed
        float[] dxOnly = dx0.clone(), dwOnly = dw0.clone();
        k.rmsnormBackward(x, 0, w, 0, inv, 0, g, 0, dxOnly, 0, null, 0, rows, cols);
        k.rmsnormBackward(x, 0, w, 0, inv, 0, g, 0, null, 0, dwOnly, 0, rows, cols);
        assertArrayEquals(dx, dxOnly, 0f);
        assertArrayEquals(dw, dwOnly, 0f);
    }

    // ------------------------------------------------------------------ SwiGLU

    private static double silu(double a) { return a / (1 + Math.exp(-a)); }

    @Test
    void swigluHandComputed() {
        float[] a = {0f, 30f, -30f, 1f}, b = {5f, 2f, 2f, 3f}, h = new float[4];
        k.swigluForward(a, 0, b, 0, h, 0, 4);
        // silu(0) = 0; silu(30) = 30 (sigmoid saturates); silu(-30) ~ -30 e^-30; silu(1) = 1 / (1 + 1/e)
        assertArrayEquals(new float[]{0f, 60f, (float) (-60 * Math.exp(-30)), (float) (3 / (1 + Math.exp(-1)))}, h, 1e-6f);
    }

    @Test
    void swigluBackwardMatchesFiniteDifferencesAndAccumulates() {
        int n = 41;
        float[] a = normal(n, 3), b = normal(n, 1), dh = normal(n, 1);
        a[0] = 0f;
        a[1] = -1.2785f; // near the zero of silu'
        a[2] = 25f;
        a[3] = -25f;
        float[] da0 = normal(n, 1), db0 = normal(n, 1), da = da0.clone(), db = db0.clone();
        k.swigluBackward(a, 0, b, 0, dh, 0, da, 0, db, 0, n);
        double h = 1e-5;
        for (int i = 0; i < n; i++) {
            double fdA = (silu(a[i] + h) - silu(a[i] - h)) / (2 * h) * b[i] * dh[i];
            double fdB = silu(a[i]) * dh[i];
            assertEquals(da0[i] + fdA, da[i], 1e-5 * (1 + Math.abs(fdA) + Math.abs(da0[i])), "swiglu da " + i + " a=" + a[i]);
            assertEquals(db0[i] + fdB, db[i], 1e-5 * (1 + Math.abs(fdB) + Math.abs(db0[i])), "swiglu db " + i + " a=" + a[i]);
        }
        float[] daOnly = da0.clone(), dbOnly = db0.clone();
        k.swigluBackward(a, 0, b, 0, dh, 0, daOnly, 0, null, 0, n);
        k.swigluBackward(a, 0, b, 0, dh, 0, null, 0, dbOnly, 0, n);
        assertArrayEquals(da, daOnly, 0f);
        assertArrayEquals(db, dbOnly, 0f);
    }

    // ------------------------------------------------------------------ top-k

    @Test
    void topkHandComputedWithTies() {
        float[] x = {9f, 1f, 3f, 2f, 3f, Float.NEGATIVE_INFINITY};
        int[] idx = new int[4];
        float[] val = new float[4];
        k.topkRows(x, 1, 1, 5, 3, idx, 1, val, 1);
        // 3 at columns 1 and 3: the lower column comes first
        assertArrayEquals(new int[]{0, 1, 3, 2}, idx);
        assertArrayEquals(new float[]{0f, 3f, 3f, 2f}, val);

        // k = 0 writes nothing; k = cols is a stable descending sort
        int[] none = {-1};
        k.topkRows(x, 0, 1, 6, 0, none, 0, new float[]{-1f}, 0);
        assertEquals(-1, none[0]);
        int[] all = new int[6];
        float[] allVal = new float[6];
        k.topkRows(x, 0, 1, 6, 6, all, 0, allVal, 0);
        assertArrayEquals(new int[]{0, 2, 4, 3, 1, 5}, all);
        assertArrayEquals(new float[]{9f, 3f, 3f, 2f, 1f, Float.NEGATIVE_INFINITY}, allVal);

        assertThrows(IllegalArgumentException.class, () -> k.topkRows(x, 0, 1, 6, 7, new int[7], 0, new float[7], 0));
    }

    @Test
    void topkMatchesStableSortOnRandomRowsWithTies() {
        int rows = 20, cols = 29, kk = 7;
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) x[i] = rnd.nextInt(6) - 2; // many ties
        int[] idx = new int[rows * kk];
        float[] val = new float[rows * kk];
        k.topkRows(x, 0, rows, cols, kk, idx, 0, val, 0);
        for (int r = 0; r < rows; r++) {
            final int row = r;
            Integer[] order = new Integer[cols];
            for (int c = 0; c < cols; c++) order[c] = c;
            // value descending, then column ascending
            Arrays.sort(order, Comparator.<Integer>comparingDouble(c -> -x[row * cols + c]).thenComparingInt(c -> c));
            for (int j = 0; j < kk; j++) {
                assertEquals((int) order[j], idx[r * kk + j], "topk row " + r + " rank " + j);
                assertEquals(x[r * cols + order[j]], val[r * kk + j], "topk value row " + r + " rank " + j);
            }
        }
    }

    // ------------------------------------------------------------------ elementwise

    @Test
    void elementwiseHandComputed() {
        float[] a = {1f, 2f, 3f}, b = {10f, 20f, 30f}, out = new float[3];
        k.add(a, 0, b, 0, out, 0, 3);
        assertArrayEquals(new float[]{11f, 22f, 33f}, out);
        k.mul(a, 1, b, 1, out, 0, 2);
        assertArrayEquals(new float[]{40f, 90f, 33f}, out);
        k.axpy(2f, a, 0, out, 1, 2);
        assertArrayEquals(new float[]{40f, 92f, 37f}, out);
        k.scale(0.5f, out, 0, 3);
        assertArrayEquals(new float[]{20f, 46f, 18.5f}, out);
        assertEquals(84.5f, k.sum(out, 0, 3));
        assertEquals(1 * 10 + 2 * 20 + 3 * 30, k.dot(a, 0, b, 0, 3));
        assertEquals(0f, k.sum(out, 0, 0));
    }

    @Test
    void sumAndDotMatchDouble() {
        int n = 1000;
        float[] a = normal(n, 1), b = normal(n, 1);
        double s = 0, d = 0, absS = 0, absD = 0;
        for (int i = 0; i < n; i++) {
            s += a[i];
            d += (double) a[i] * b[i];
            absS += Math.abs(a[i]);
            absD += Math.abs((double) a[i] * b[i]);
        }
        // recursive float summation is within (n-1) * 2^-24 * sum|terms| of the exact sum
        assertEquals(s, k.sum(a, 0, n), n * 0x1p-24 * absS);
        assertEquals(d, k.dot(a, 0, b, 0, n), (n + 1) * 0x1p-24 * absD);
    }
}
