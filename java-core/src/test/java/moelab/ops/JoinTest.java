package moelab.ops;

import moelab.tensor.GradCheck;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static moelab.ops.OpsTesting.param;
import static org.junit.jupiter.api.Assertions.*;

class JoinTest {
    private final Random rng = new Random(5);

    @Test void concatMatchesLoops() {
        Tensor a = Tensor.randn(rng, 1f, 2, 3, 5), b = Tensor.randn(rng, 1f, 2, 4, 5), c = Tensor.randn(rng, 1f, 2, 1, 5);
        Tensor y = Join.concat(1, a, b, c);
        assertArrayEquals(new int[]{2, 8, 5}, y.shape());
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 8; j++)
                for (int k = 0; k < 5; k++) {
                    float want = j < 3 ? a.get(i, j, k) : j < 7 ? b.get(i, j - 3, k) : c.get(i, 0, k);
                    assertEquals(want, y.get(i, j, k));
                }
        Tensor p = Tensor.randn(rng, 1f, 3, 2), q = Tensor.randn(rng, 1f, 10, 3);
        Tensor z = Join.concat(-1, p, Tensor.zeros(3, 0), q.t()); // an empty piece and a transposed view
        assertArrayEquals(new int[]{3, 12}, z.shape());
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 12; j++) assertEquals(j < 2 ? p.get(i, j) : q.get(j - 2, i), z.get(i, j));
    }

    @Test void gradcheckConcat() {
        GradCheck.check("concat axis 0", in -> Join.concat(0, in[0], in[1]), param(rng, 1, 3), param(rng, 5, 3));
        GradCheck.check("concat axis 1 with an empty piece", in -> Join.concat(1, in[0], in[1], in[2]),
                param(rng, 2, 3, 5), param(rng, 2, 0, 5), param(rng, 2, 7, 5));
        GradCheck.check("concat axis -1", in -> Join.concat(-1, in[0], in[1]), param(rng, 3, 2), param(rng, 3, 13));
        GradCheck.check("concat of transposed views", in -> Join.concat(0, in[0].t(), in[1]), param(rng, 5, 3), param(rng, 2, 5));
        GradCheck.check("concat x with itself", in -> Join.concat(1, in[0], in[0]), param(rng, 3, 5));
    }

    @Test void splitReturnsViewsInOrder() {
        Tensor x = Tensor.randn(rng, 1f, 3, 10);
        Tensor[] p = Join.split(x, -1, 2, 0, 5, 3);
        assertEquals(4, p.length);
        int[] widths = {2, 0, 5, 3}, starts = {0, 2, 2, 7};
        for (int t = 0; t < 4; t++) {
            assertArrayEquals(new int[]{3, widths[t]}, p[t].shape());
            assertSame(x.data(), p[t].data(), "a view, not a copy");
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < widths[t]; j++) assertEquals(x.get(i, starts[t] + j), p[t].get(i, j));
        }
        assertArrayEquals(x.toArray(), Join.concat(1, p).toArray(), "concat undoes split");
        Tensor[] rows = Join.split(x, 0, 1, 2);
        assertTrue(rows[1].isContiguous(), "a split along the outermost axis stays contiguous");
        assertArrayEquals(new int[]{2, 10}, rows[1].shape());
    }

    @Test void gradcheckSplitAndNarrow() {
        // pieces used out of order, one unused (its slice of the gradient stays 0), one used twice
        GradCheck.check("split axis -1", in -> {
            Tensor[] p = Join.split(in[0], -1, 2, 3, 2);
            return Join.concat(-1, p[2], Elementwise.mulScalar(p[0], 3f), p[2]);
        }, param(rng, 3, 7));
        GradCheck.check("split axis 1 of 3-D", in -> {
            Tensor[] p = Join.split(in[0], 1, 1, 4);
            return Elementwise.mul(p[0], p[1]);
        }, param(rng, 2, 5, 3));
        GradCheck.check("split axis 0", in -> Join.split(in[0], 0, 2, 3)[1], param(rng, 5, 2));
        GradCheck.check("narrow", in -> Join.narrow(in[0], 1, 2, 3), param(rng, 3, 7, 2));
        GradCheck.check("narrow of x.t()", in -> Join.narrow(in[0].t(), 0, 1, 2), param(rng, 5, 4));
        GradCheck.check("narrow to nothing", in -> Elementwise.add(Join.narrow(in[0], 0, 3, 0), in[1]), param(rng, 3, 2), param(rng, 2));

        Tensor x = param(rng, 3, 7);
        Tensor[] p = Join.split(x, 1, 2, 5);
        Reduce.sumAll(p[1]).backward();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 7; j++) assertEquals(j < 2 ? 0f : 1f, x.grad()[i * 7 + j], "only p[1]'s slice gets gradient");
    }

    @Test void errorsNameTheOpAndShapes() {
        ShapeException e = assertThrows(ShapeException.class, () -> Join.concat(1, Tensor.zeros(2, 3), Tensor.zeros(4, 3)));
        assertTrue(e.getMessage().startsWith("concat:") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 3]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Join.concat(0, Tensor.zeros(2, 3), Tensor.zeros(2, 3, 1)));
        assertTrue(e.getMessage().startsWith("concat:") && e.getMessage().contains("[2, 3, 1]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Join.concat(0));
        assertTrue(e.getMessage().startsWith("concat:"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Join.split(Tensor.zeros(4, 6), 1, 2, 3));
        assertTrue(e.getMessage().startsWith("split:") && e.getMessage().contains("[4, 6]") && e.getMessage().contains("[2, 3]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Join.narrow(Tensor.zeros(4, 6), 0, 3, 2));
        assertTrue(e.getMessage().startsWith("narrow:") && e.getMessage().contains("[4, 6]"), e.getMessage());
    }
}
