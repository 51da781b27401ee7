package moelab.ops;

import moelab.tensor.Autograd;
import moelab.tensor.GradCheck;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class EmbeddingTest {

    @Test void looksUpRows() {
        Tensor table = Tensor.randn(new Random(1), 1f, 7, 5);
        int[] ids = {6, 0, 3, 3};
        Tensor out = Embedding.embedding(table, ids);
        assertArrayEquals(new int[]{4, 5}, out.shape());
        for (int i = 0; i < ids.length; i++)
            for (int c = 0; c < 5; c++) assertEquals(table.get(ids[i], c), out.get(i, c));
    }

    @Test void duplicatedIdsSumTheirGradients() {
        Tensor table = Tensor.randn(new Random(2), 1f, 5, 3).requiresGrad(true);
        int[] ids = {1, 4, 1, 1, 0};
        Tensor out = Embedding.embedding(table, ids);
        float[] seed = new float[15];
        for (int i = 0; i < seed.length; i++) seed[i] = i + 1;
        Autograd.backward(out, seed);
        float[] want = new float[15];
        for (int i = 0; i < ids.length; i++)
            for (int c = 0; c < 3; c++) want[ids[i] * 3 + c] += seed[i * 3 + c];
        assertArrayEquals(want, table.grad());
        assertEquals(0f, table.grad()[2 * 3]); // row 2 is never looked up
    }

    @Test void gradientsOnAwkwardShapes() {
        Object[][] cases = {{1, 1, new int[]{0}}, {7, 5, new int[]{3, 3, 3}}, {13, 3, new int[]{12, 0, 5, 12, 7, 0}},
                {3, 8, new int[0]}};
        for (Object[] c : cases) {
            int[] ids = (int[]) c[2];
            Tensor table = Tensor.randn(new Random(3), 1f, (int) c[0], (int) c[1]).requiresGrad(true);
            GradCheck.check("embedding", in -> Embedding.embedding(in[0], ids), table);
        }
    }

    @Test void gradientsAccumulate() {
        Tensor table = Tensor.randn(new Random(4), 1f, 6, 3).requiresGrad(true);
        GradAccumulation.assertAccumulates("embedding", t -> Embedding.embedding(t, new int[]{5, 0, 5}), table);
    }

    @Test void idOutOfRangeNamesPositionAndValue() {
        Tensor table = Tensor.zeros(10, 4);
        ShapeException e = assertThrows(ShapeException.class, () -> Embedding.embedding(table, new int[]{1, 2, 3, 10}));
        String m = e.getMessage();
        assertTrue(m.startsWith("embedding") && m.contains("id 10") && m.contains("position 3") && m.contains("[10, 4]"), m);
        e = assertThrows(ShapeException.class, () -> Embedding.embedding(table, new int[]{-1}));
        assertTrue(e.getMessage().contains("id -1") && e.getMessage().contains("position 0"), e.getMessage());
    }

    @Test void tableMustBeMatrix() {
        ShapeException e = assertThrows(ShapeException.class, () -> Embedding.embedding(Tensor.zeros(10), new int[]{1}));
        assertTrue(e.getMessage().startsWith("embedding") && e.getMessage().contains("[10]"), e.getMessage());
    }
}
