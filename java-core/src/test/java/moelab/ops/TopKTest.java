package moelab.ops;

import moelab.tensor.Autograd;
import moelab.tensor.GradCheck;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class TopKTest {

    /** Rows of distinct values at least 0.1 apart (a shuffled 0.1-spaced ladder), so h=1e-2 never reorders them. */
    static Tensor separated(Random rng, int rows, int cols) {
        float[] x = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            List<Integer> perm = new ArrayList<>();
            for (int c = 0; c < cols; c++) perm.add(c);
            Collections.shuffle(perm, rng);
            for (int c = 0; c < cols; c++) x[r * cols + c] = 0.1f * perm.get(c) - 0.3f;
        }
        return Tensor.of(x, rows, cols);
    }

    @Test void matchesNaiveSelection() {
        Random rng = new Random(1);
        Tensor x = Tensor.randn(rng, 1f, 7, 13);
        for (int k : new int[]{0, 1, 3, 13}) {
            TopK top = TopK.topk(x, k);
            assertArrayEquals(new int[]{7, k}, top.values().shape());
            assertEquals(7 * k, top.indices().length);
            assertEquals(k, top.k());
            for (int t = 0; t < 7; t++) {
                // naive: sort column ids by value descending, ties by lower column
                List<Integer> cols = new ArrayList<>();
                for (int c = 0; c < 13; c++) cols.add(c);
                int row = t;
                cols.sort((a, b) -> x.get(row, a) != x.get(row, b) ? Float.compare(x.get(row, b), x.get(row, a)) : a - b);
                for (int j = 0; j < k; j++) {
                    assertEquals(cols.get(j), top.indices()[t * k + j], "row " + t + " rank " + j);
                    assertEquals(x.get(t, cols.get(j)), top.values().get(t, j));
                }
            }
        }
    }

    @Test void tiesGoToLowerColumn() {
        TopK top = TopK.topk(Tensor.of(new float[]{1f, 3f, 3f, 2f, 3f}, 1, 5), 2);
        assertArrayEquals(new int[]{1, 2}, top.indices());
    }

    @Test void gradientGoesToSelectedPositionsOnly() {
        Tensor x = separated(new Random(2), 3, 5).requiresGrad(true);
        TopK top = TopK.topk(x, 2);
        float[] seed = {1f, 2f, 3f, 4f, 5f, 6f};
        Autograd.backward(top.values(), seed);
        float[] want = new float[15];
        for (int t = 0; t < 3; t++) for (int j = 0; j < 2; j++) want[t * 5 + top.indices()[t * 2 + j]] += seed[t * 2 + j];
        assertArrayEquals(want, x.grad());
    }

    @Test void gradientsOnAwkwardShapes() {
        int[][] cases = {{1, 1, 1}, {3, 5, 1}, {3, 5, 5}, {7, 13, 3}, {1, 8, 2}, {4, 3, 0}};
        for (int[] c : cases) {
            int k = c[2];
            Tensor x = separated(new Random(c[0] * 100 + c[1]), c[0], c[1]).requiresGrad(true);
            GradCheck.check("topk [" + c[0] + ", " + c[1] + "] k=" + k, in -> TopK.topk(in[0], k).values(), x);
        }
    }

    @Test void returnedIndicesAreTheCallersToKeep() {
        Tensor x = separated(new Random(3), 2, 4).requiresGrad(true);
        TopK top = TopK.topk(x, 1);
        int[] chosen = top.indices().clone();
        top.indices()[0] = (chosen[0] + 1) % 4; // overwriting must not redirect the gradient
        Autograd.backward(top.values(), new float[]{1f, 1f});
        assertEquals(1f, x.grad()[chosen[0]]);
        assertEquals(1f, x.grad()[4 + chosen[1]]);
    }

    @Test void gradientsAccumulate() {
        Tensor x = separated(new Random(4), 3, 5).requiresGrad(true);
        GradAccumulation.assertAccumulates("topk", t -> TopK.topk(t, 2).values(), x);
    }

    @Test void errorsNameOpAndValues() {
        ShapeException e = assertThrows(ShapeException.class, () -> TopK.topk(Tensor.zeros(3, 4), 5));
        assertTrue(e.getMessage().startsWith("topk") && e.getMessage().contains("k=5") && e.getMessage().contains("[3, 4]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> TopK.topk(Tensor.zeros(3, 4), -1));
        assertTrue(e.getMessage().contains("k=-1"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> TopK.topk(Tensor.zeros(12), 2));
        assertTrue(e.getMessage().startsWith("topk") && e.getMessage().contains("[12]"), e.getMessage());
        IllegalArgumentException ie = assertThrows(IllegalArgumentException.class,
                () -> TopK.topk(Tensor.of(new float[]{1f, 2f, 3f, Float.NaN}, 2, 2), 1));
        assertTrue(ie.getMessage().startsWith("topk") && ie.getMessage().contains("NaN at row 1, column 1"), ie.getMessage());
    }
}
