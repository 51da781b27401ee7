package moelab.ops;

import moelab.tensor.GradCheck;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static moelab.ops.OpsTesting.param;
import static org.junit.jupiter.api.Assertions.*;

class ReduceTest {
    private final Random rng = new Random(3);

    @Test void sumAndMeanOverEachAxisMatchLoops() {
        Tensor x = Tensor.randn(rng, 1f, 3, 5, 7);
        for (int axis = -3; axis < 3; axis++) {
            int ax = axis < 0 ? axis + 3 : axis;
            for (boolean keep : new boolean[]{false, true}) {
                Tensor s = Reduce.sum(x, axis, keep), m = Reduce.mean(x, axis, keep);
                int[] want = x.shape();
                if (keep) want[ax] = 1;
                else want = remove(want, ax);
                assertArrayEquals(want, s.shape(), "sum axis " + axis + " keepDim " + keep);
                assertArrayEquals(want, m.shape());
                float[] sv = s.toArray(), mv = m.toArray();
                int[] idx = new int[3];
                for (int o = 0; o < sv.length; o++) {
                    // o enumerates the kept axes in row-major order
                    int rest = o;
                    for (int a = 2; a >= 0; a--) {
                        if (a == ax) continue;
                        idx[a] = rest % x.dim(a);
                        rest /= x.dim(a);
                    }
                    double acc = 0;
                    for (int j = 0; j < x.dim(ax); j++) {
                        idx[ax] = j;
                        acc += x.get(idx);
                    }
                    assertEquals(acc, sv[o], 1e-5);
                    assertEquals(acc / x.dim(ax), mv[o], 1e-5);
                }
            }
        }
    }

    @Test void gradcheckAxes() {
        int[][] shapes = {{3, 5, 7}, {1, 13}, {4}, {2, 1, 3}};
        for (int[] shape : shapes)
            for (int axis = -shape.length; axis < shape.length; axis++)
                for (boolean keep : new boolean[]{false, true}) {
                    int a = axis;
                    String what = Arrays.toString(shape) + " axis " + axis + " keepDim " + keep;
                    GradCheck.check("sum " + what, in -> Reduce.sum(in[0], a, keep), param(rng, shape));
                    GradCheck.check("mean " + what, in -> Reduce.mean(in[0], a, keep), param(rng, shape));
                }
        GradCheck.check("sum of x.t()", in -> Reduce.sum(in[0].t(), 1, false), param(rng, 5, 3));
        GradCheck.check("mean of x.transpose(0,2)", in -> Reduce.mean(in[0].transpose(0, 2), 0, true), param(rng, 2, 3, 5));
    }

    @Test void sumAllAndMeanAll() {
        Tensor x = Tensor.randn(rng, 1f, 3, 7);
        double acc = 0;
        for (float v : x.toArray()) acc += v;
        Tensor s = Reduce.sumAll(x), m = Reduce.meanAll(x);
        assertEquals(0, s.rank(), "a scalar tensor");
        assertEquals(acc, s.item(), 1e-5);
        assertEquals(acc / 21, m.item(), 1e-6);
        assertEquals(acc, Reduce.sumAll(x.t()).item(), 1e-5);
        for (int[] shape : new int[][]{{3, 7}, {1}, {}, {2, 1, 13}}) {
            GradCheck.check("sumAll " + Arrays.toString(shape), in -> Reduce.sumAll(in[0]), param(rng, shape));
            GradCheck.check("meanAll " + Arrays.toString(shape), in -> Reduce.meanAll(in[0]), param(rng, shape));
        }
        GradCheck.check("meanAll of x.t()", in -> Reduce.meanAll(in[0].t()), param(rng, 5, 3));
    }

    @Test void usedTwiceAccumulates() {
        Tensor x = param(rng, 3, 4);
        // L = sum(sum(x, 0)) + mean(x): every element gets 1 + 1/12
        Elementwise.add(Reduce.sumAll(Reduce.sum(x, 0, false)), Reduce.meanAll(x)).backward();
        for (float g : x.grad()) assertEquals(1f + 1f / 12, g, 1e-6f);
    }

    @Test void emptyAxes() {
        Tensor x = param(rng, 2, 0, 3);
        Tensor s = Reduce.sum(x, 1, false);
        assertArrayEquals(new int[]{2, 3}, s.shape());
        assertArrayEquals(new float[6], s.toArray(), "a sum over nothing is 0");
        Reduce.sumAll(s).backward();
        assertEquals(0, x.grad().length);
        assertArrayEquals(new int[]{2, 1, 3}, Reduce.sum(x, 1, true).shape());
        assertArrayEquals(new int[]{0, 3}, Reduce.sum(x, 0, false).shape());
        assertEquals(0f, Reduce.sumAll(x).item());

        ShapeException e = assertThrows(ShapeException.class, () -> Reduce.mean(x, 1, false));
        assertTrue(e.getMessage().startsWith("mean:") && e.getMessage().contains("[2, 0, 3]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Reduce.meanAll(x));
        assertTrue(e.getMessage().startsWith("meanAll:") && e.getMessage().contains("[2, 0, 3]"), e.getMessage());
        assertArrayEquals(new int[]{2, 0}, Reduce.mean(x, 2, false).shape(), "mean over a non-empty axis of an empty tensor is fine");
    }

    @Test void badAxisNamesTheOp() {
        ShapeException e = assertThrows(ShapeException.class, () -> Reduce.sum(Tensor.zeros(2, 3), 2, false));
        assertTrue(e.getMessage().startsWith("sum:") && e.getMessage().contains("axis 2"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Reduce.mean(Tensor.zeros(2, 3), -3, true));
        assertTrue(e.getMessage().startsWith("mean:") && e.getMessage().contains("axis -3"), e.getMessage());
    }

    private static int[] remove(int[] s, int ax) {
        int[] r = new int[s.length - 1];
        for (int i = 0, j = 0; i < s.length; i++) if (i != ax) r[j++] = s[i];
        return r;
    }
}
