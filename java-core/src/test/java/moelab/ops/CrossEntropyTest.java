package moelab.ops;

import moelab.tensor.GradCheck;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class CrossEntropyTest {

    /** Mean over counted rows of logsumexp(x[r]) - x[r, t[r]], in double. */
    static double naiveLoss(float[] x, int v, int[] t) {
        double sum = 0;
        int count = 0;
        for (int r = 0; r < t.length; r++) {
            if (t[r] == -1) continue;
            double max = Double.NEGATIVE_INFINITY, s = 0;
            for (int c = 0; c < v; c++) max = Math.max(max, x[r * v + c]);
            for (int c = 0; c < v; c++) s += Math.exp(x[r * v + c] - max);
            sum += max + Math.log(s) - x[r * v + t[r]];
            count++;
        }
        return count == 0 ? 0 : sum / count;
    }

    @Test void uniformLogitsGiveLnV() {
        for (int v : new int[]{1, 2, 7, 13, 1000}) {
            Tensor x = Tensor.full(0.37f, 3, v);
            int[] t = {0, v - 1, v / 2};
            assertEquals(Math.log(v), CrossEntropy.crossEntropy(x, t).item(), 1e-5, "V=" + v);
        }
    }

    @Test void matchesNaiveWithIgnoredRows() {
        Tensor x = Tensor.randn(new Random(1), 3f, 6, 13);
        int[] t = {4, -1, 12, 0, -1, 4};
        Tensor loss = CrossEntropy.crossEntropy(x, t);
        assertArrayEquals(new int[0], loss.shape());
        assertEquals(naiveLoss(x.toArray(), 13, t), loss.item(), 1e-5);
    }

    @Test void gradientIsSoftmaxMinusOnehotOverCount() {
        int n = 5, v = 7;
        Tensor x = Tensor.randn(new Random(2), 2f, n, v).requiresGrad(true);
        int[] t = {3, -1, 3, 6, 0};
        CrossEntropy.crossEntropy(x, t).backward();
        float[] xs = x.toArray(), g = x.grad();
        for (int r = 0; r < n; r++) {
            double max = Double.NEGATIVE_INFINITY, s = 0;
            for (int c = 0; c < v; c++) max = Math.max(max, xs[r * v + c]);
            for (int c = 0; c < v; c++) s += Math.exp(xs[r * v + c] - max);
            for (int c = 0; c < v; c++) {
                double want = t[r] == -1 ? 0 : (Math.exp(xs[r * v + c] - max) / s - (c == t[r] ? 1 : 0)) / 4.0;
                assertEquals(want, g[r * v + c], 1e-6, "row " + r + " col " + c);
            }
        }
    }

    @Test void gradientsOnAwkwardShapes() {
        Object[][] cases = {
                {1, 1, new int[]{0}},
                {1, 5, new int[]{2}},
                {3, 13, new int[]{12, -1, 0}},
                {7, 3, new int[]{1, 1, 1, -1, 2, 0, 1}},
                {5, 7, new int[]{-1, 6, -1, -1, 6}},
        };
        for (Object[] c : cases) {
            int n = (int) c[0], v = (int) c[1];
            int[] t = (int[]) c[2];
            Tensor x = Tensor.randn(new Random(n * 31 + v), 2f, n, v).requiresGrad(true);
            GradCheck.check("crossEntropy [" + n + ", " + v + "]", in -> CrossEntropy.crossEntropy(in[0], t), x);
        }
    }

    @Test void gradientThroughTransposedLogits() {
        Tensor x = Tensor.randn(new Random(3), 1f, 5, 3).requiresGrad(true);
        GradCheck.check("crossEntropy(x^T)", in -> CrossEntropy.crossEntropy(in[0].t(), new int[]{4, 0, -1}), x);
    }

    @Test void chunkedRowsMatchNaive() {
        // V large enough that the scratch holds fewer rows than N (several chunks, one partial).
        int n = 11, v = 60_000;
        Tensor x = Tensor.randn(new Random(4), 1f, n, v).requiresGrad(true);
        int[] t = new int[n];
        for (int r = 0; r < n; r++) t[r] = r == 5 ? -1 : (r * 7919) % v;
        Tensor loss = CrossEntropy.crossEntropy(x, t);
        assertEquals(naiveLoss(x.toArray(), v, t), loss.item(), 1e-4);
        loss.backward();
        float[] g = x.grad();
        for (int r = 0; r < n; r++) {
            double rowSum = 0;
            for (int c = 0; c < v; c++) rowSum += g[r * v + c];
            assertEquals(0.0, rowSum, 1e-4, "softmax - onehot sums to 0 in row " + r);
            if (t[r] >= 0) assertTrue(g[r * v + t[r]] < 0, "target logit is pushed up in row " + r);
        }
        for (int c = 0; c < v; c++) assertEquals(0f, g[5 * v + c]);
    }

    @Test void hugeLogitsStayFinite() {
        Tensor x = Tensor.of(new float[]{1e4f, -1e4f, 0f, 5e3f}, 2, 2).requiresGrad(true);
        Tensor loss = CrossEntropy.crossEntropy(x, new int[]{1, 0});
        assertEquals((2e4 + 5e3) / 2, loss.item(), 1e-1);
        loss.backward();
        for (float g : x.grad()) assertTrue(Float.isFinite(g));
    }

    @Test void allIgnoredGivesZeroLossAndGradient() {
        Tensor x = Tensor.randn(new Random(5), 1f, 3, 4).requiresGrad(true);
        Tensor loss = CrossEntropy.crossEntropy(x, new int[]{-1, -1, -1});
        assertEquals(0f, loss.item());
        loss.backward();
        assertArrayEquals(new float[12], x.grad());
    }

    @Test void targetsAreCopied() {
        Tensor x = Tensor.randn(new Random(6), 1f, 2, 3).requiresGrad(true);
        int[] t = {0, 2};
        Tensor loss = CrossEntropy.crossEntropy(x, t);
        t[0] = 1; // the caller reuses its buffer before backward
        loss.backward();
        assertTrue(x.grad()[0] < 0 && x.grad()[1] > 0);
    }

    @Test void gradientsAccumulate() {
        Tensor x = Tensor.randn(new Random(7), 1f, 4, 6).requiresGrad(true);
        GradAccumulation.assertAccumulates("crossEntropy", t -> CrossEntropy.crossEntropy(t, new int[]{5, -1, 0, 2}), x);
    }

    @Test void targetOutOfRangeNamesRowAndValue() {
        Tensor x = Tensor.zeros(4, 5);
        ShapeException e = assertThrows(ShapeException.class, () -> CrossEntropy.crossEntropy(x, new int[]{0, 1, 7, 2}));
        String m = e.getMessage();
        assertTrue(m.startsWith("crossEntropy") && m.contains("target 7") && m.contains("row 2") && m.contains("[4, 5]"), m);
        e = assertThrows(ShapeException.class, () -> CrossEntropy.crossEntropy(x, new int[]{0, -2, 1, 1}));
        assertTrue(e.getMessage().contains("target -2") && e.getMessage().contains("row 1"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> CrossEntropy.crossEntropy(x, new int[]{0, 5, 1, 1}));
        assertTrue(e.getMessage().contains("target 5") && e.getMessage().contains("[0, 5)"), e.getMessage());
    }

    @Test void badShapesNameOp() {
        ShapeException e = assertThrows(ShapeException.class, () -> CrossEntropy.crossEntropy(Tensor.zeros(4, 5), new int[]{0, 1}));
        assertTrue(e.getMessage().startsWith("crossEntropy") && e.getMessage().contains("2 targets") && e.getMessage().contains("[4, 5]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> CrossEntropy.crossEntropy(Tensor.zeros(2, 4, 5), new int[]{0, 1}));
        assertTrue(e.getMessage().startsWith("crossEntropy") && e.getMessage().contains("[2, 4, 5]"), e.getMessage());
    }
}
