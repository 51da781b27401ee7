package moelab.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TensorTest {
    @Test
    void viewsShareStorageAndIndexLogically() {
        Tensor x = Tensor.of(new float[]{0, 1, 2, 3, 4, 5}, 2, 3);
        Tensor t = x.t();
        assertArrayEquals(new int[]{3, 2}, t.shape());
        assertFalse(t.isContiguous());
        assertEquals(5f, t.get(2, 1));
        assertArrayEquals(new float[]{0, 3, 1, 4, 2, 5}, t.toArray());
        Tensor r = x.reshape(3, -1);
        assertArrayEquals(new int[]{3, 2}, r.shape());
        assertSame(x.data(), r.data(), "reshape of a contiguous tensor is a view");
        x.set(9f, 0, 0);
        assertEquals(9f, r.get(0, 0));
    }

    @Test
    void errorsNameTheShapes() {
        Tensor x = Tensor.zeros(2, 3);
        var e = assertThrows(ShapeException.class, () -> x.reshape(4, 2));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 2]"), e.getMessage());
        var e2 = assertThrows(ShapeException.class, () -> x.get(2, 0));
        assertTrue(e2.getMessage().contains("out of bounds"), e2.getMessage());
        var e3 = assertThrows(ShapeException.class, () -> Tensor.of(new float[5], 2, 3));
        assertTrue(e3.getMessage().contains("[2, 3]"), e3.getMessage());
        var e4 = assertThrows(ShapeException.class, () -> Shape.broadcast("add", new int[]{2, 3}, new int[]{4}));
        assertTrue(e4.getMessage().contains("add") && e4.getMessage().contains("[2, 3]") && e4.getMessage().contains("[4]"), e4.getMessage());
    }

    @Test
    void broadcastFollowsNumpyRules() {
        assertArrayEquals(new int[]{3, 4, 5}, Shape.broadcast("t", new int[]{3, 1, 5}, new int[]{4, 1}));
        assertArrayEquals(new int[]{0, 2}, Shape.broadcast("t", new int[]{0, 1}, new int[]{2}));
    }

    @Test
    void parameterRegistryRejectsDuplicatesAndNonLeaves() {
        Parameters ps = new Parameters();
        ps.add("w", Tensor.zeros(2, 2));
        assertTrue(ps.get("w").requiresGrad());
        var e = assertThrows(IllegalArgumentException.class, () -> ps.add("w", Tensor.zeros(1)));
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> ps.get("nope"));
        assertTrue(e2.getMessage().contains("nope") && e2.getMessage().contains("w"), e2.getMessage());
        assertEquals(4, ps.count());
    }
}
