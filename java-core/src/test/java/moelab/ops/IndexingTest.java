package moelab.ops;

import moelab.tensor.Autograd;
import moelab.tensor.GradCheck;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class IndexingTest {

    static float[] seed(int n) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) s[i] = 0.5f * i - 3f;
        return s;
    }

    // ---- indexSelect

    @Test void indexSelectPicksRows() {
        Tensor x = Tensor.randn(new Random(1), 1f, 5, 3);
        int[] rows = {4, 4, 0, 2};
        Tensor y = Indexing.indexSelect(x, rows);
        assertArrayEquals(new int[]{4, 3}, y.shape());
        for (int i = 0; i < rows.length; i++)
            for (int c = 0; c < 3; c++) assertEquals(x.get(rows[i], c), y.get(i, c));
    }

    @Test void indexSelectDuplicatesAccumulate() {
        Tensor x = Tensor.randn(new Random(2), 1f, 5, 3).requiresGrad(true);
        int[] rows = {4, 1, 4, 4};
        float[] s = seed(12);
        Autograd.backward(Indexing.indexSelect(x, rows), s);
        float[] want = new float[15];
        for (int i = 0; i < rows.length; i++) for (int c = 0; c < 3; c++) want[rows[i] * 3 + c] += s[i * 3 + c];
        assertArrayEquals(want, x.grad(), 1e-6f);
    }

    @Test void indexSelectGradients() {
        int[][] rowSets = {{0}, {2, 2, 2}, {6, 0, 3, 6, 1}, {}};
        for (int[] rows : rowSets) {
            Tensor x = Tensor.randn(new Random(3), 1f, 7, 5).requiresGrad(true);
            GradCheck.check("indexSelect", in -> Indexing.indexSelect(in[0], rows), x);
        }
        Tensor one = Tensor.randn(new Random(4), 1f, 1, 1).requiresGrad(true);
        GradCheck.check("indexSelect [1,1]", in -> Indexing.indexSelect(in[0], new int[]{0, 0}), one);
    }

    @Test void indexSelectErrors() {
        ShapeException e = assertThrows(ShapeException.class, () -> Indexing.indexSelect(Tensor.zeros(5, 3), new int[]{0, 5}));
        String m = e.getMessage();
        assertTrue(m.startsWith("indexSelect") && m.contains("5 at position 1") && m.contains("[5, 3]"), m);
        e = assertThrows(ShapeException.class, () -> Indexing.indexSelect(Tensor.zeros(5), new int[]{0}));
        assertTrue(e.getMessage().startsWith("indexSelect") && e.getMessage().contains("[5]"), e.getMessage());
    }

    // ---- scatterAdd

    @Test void scatterAddSumsDuplicatesAndLeavesOthersZero() {
        Tensor src = Tensor.randn(new Random(5), 1f, 4, 3);
        int[] rows = {2, 0, 2, 2};
        Tensor y = Indexing.scatterAdd(src, rows, 5);
        assertArrayEquals(new int[]{5, 3}, y.shape());
        float[] want = new float[15];
        for (int i = 0; i < 4; i++) for (int c = 0; c < 3; c++) want[rows[i] * 3 + c] += src.get(i, c);
        assertArrayEquals(want, y.toArray(), 1e-6f);
        for (int c = 0; c < 3; c++) { assertEquals(0f, y.get(1, c)); assertEquals(0f, y.get(4, c)); }
    }

    @Test void scatterAddGradients() {
        int[][] rowSets = {{0}, {3, 3, 3}, {1, 0, 6, 1, 4}};
        for (int[] rows : rowSets) {
            Tensor src = Tensor.randn(new Random(6), 1f, rows.length, 5).requiresGrad(true);
            GradCheck.check("scatterAdd", in -> Indexing.scatterAdd(in[0], rows, 7), src);
        }
    }

    @Test void dispatchThenCombineRoundTrips() {
        // MoE shape: tokens [T, d] -> expert batch [m, d] -> back to [T, d]; a token sent twice counts twice.
        Tensor x = Tensor.randn(new Random(7), 1f, 5, 3).requiresGrad(true);
        int[] rows = {3, 0, 3, 4};
        GradCheck.check("scatterAdd(indexSelect)", in -> Indexing.scatterAdd(Indexing.indexSelect(in[0], rows), rows, 5), x);
        Tensor y = Indexing.scatterAdd(Indexing.indexSelect(x, rows), rows, 5);
        for (int c = 0; c < 3; c++) {
            assertEquals(2 * x.get(3, c), y.get(3, c), 1e-6);
            assertEquals(0f, y.get(1, c));
        }
    }

    @Test void scatterAddErrors() {
        Tensor src = Tensor.zeros(3, 2);
        ShapeException e = assertThrows(ShapeException.class, () -> Indexing.scatterAdd(src, new int[]{0, 1}, 4));
        assertTrue(e.getMessage().startsWith("scatterAdd") && e.getMessage().contains("2 row indices")
                && e.getMessage().contains("[3, 2]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Indexing.scatterAdd(src, new int[]{0, 4, 1}, 4));
        assertTrue(e.getMessage().contains("4 at position 1") && e.getMessage().contains("outRows 4"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Indexing.scatterAdd(src, new int[]{0, 0, 0}, -1));
        assertTrue(e.getMessage().startsWith("scatterAdd") && e.getMessage().contains("-1"), e.getMessage());
    }

    // ---- gather

    @Test void gatherPicksPerRowColumns() {
        Tensor x = Tensor.randn(new Random(8), 1f, 3, 5);
        int[] idx = {4, 0, 2, 2, 1, 3};
        Tensor y = Indexing.gather(x, idx, 2);
        assertArrayEquals(new int[]{3, 2}, y.shape());
        for (int t = 0; t < 3; t++) for (int j = 0; j < 2; j++) assertEquals(x.get(t, idx[t * 2 + j]), y.get(t, j));
    }

    @Test void gatherDuplicatesAccumulate() {
        Tensor x = Tensor.randn(new Random(9), 1f, 2, 3).requiresGrad(true);
        int[] idx = {1, 1, 1, 0, 2, 0};
        float[] s = seed(6);
        Autograd.backward(Indexing.gather(x, idx, 3), s);
        float[] want = new float[6];
        for (int t = 0; t < 2; t++) for (int j = 0; j < 3; j++) want[t * 3 + idx[t * 3 + j]] += s[t * 3 + j];
        assertArrayEquals(want, x.grad(), 1e-6f);
    }

    @Test void gatherGradients() {
        // k = 1, k = E (a permutation per row), duplicates, single token, k = 0.
        Object[][] cases = {
                {3, 5, 1, new int[]{4, 0, 2}},
                {2, 3, 3, new int[]{2, 0, 1, 1, 2, 0}},
                {2, 7, 4, new int[]{6, 6, 0, 6, 1, 1, 1, 1}},
                {1, 13, 2, new int[]{12, 5}},
                {3, 5, 0, new int[0]},
        };
        for (Object[] c : cases) {
            int k = (int) c[2];
            int[] idx = (int[]) c[3];
            Tensor x = Tensor.randn(new Random(10), 1f, (int) c[0], (int) c[1]).requiresGrad(true);
            GradCheck.check("gather k=" + k, in -> Indexing.gather(in[0], idx, k), x);
        }
    }

    @Test void gradientsAccumulate() {
        Tensor x = Tensor.randn(new Random(11), 1f, 4, 3).requiresGrad(true);
        GradAccumulation.assertAccumulates("indexSelect", t -> Indexing.indexSelect(t, new int[]{3, 1}), x);
        GradAccumulation.assertAccumulates("scatterAdd", t -> Indexing.scatterAdd(t, new int[]{0, 6, 2, 6}, 7), x);
        GradAccumulation.assertAccumulates("gather", t -> Indexing.gather(t, new int[]{2, 0, 1, 2}, 1), x);
    }

    @Test void gatherErrors() {
        Tensor x = Tensor.zeros(3, 5);
        ShapeException e = assertThrows(ShapeException.class, () -> Indexing.gather(x, new int[]{0, 1, 2, 3, 4}, 2));
        assertTrue(e.getMessage().startsWith("gather") && e.getMessage().contains("5 indices") && e.getMessage().contains("[3, 5]")
                && e.getMessage().contains("k=2"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Indexing.gather(x, new int[]{0, 1, 5}, 1));
        assertTrue(e.getMessage().contains("column index 5 at position 2"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Indexing.gather(x, new int[0], -1));
        assertTrue(e.getMessage().startsWith("gather") && e.getMessage().contains("-1"), e.getMessage());
    }
}
