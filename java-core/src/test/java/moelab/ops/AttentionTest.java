package moelab.ops;

import moelab.tensor.GradCheck;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class AttentionTest {

    /** Plain triple loop in double with an explicit causal softmax. */
    static double[] naiveAttention(float[] q, float[] k, float[] v, int bh, int s, int dh) {
        double[] out = new double[q.length];
        double scale = 1 / Math.sqrt(dh);
        for (int h = 0; h < bh; h++) {
            int o = h * s * dh;
            for (int i = 0; i < s; i++) {
                double[] sc = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    double dot = 0;
                    for (int c = 0; c < dh; c++) dot += (double) q[o + i * dh + c] * k[o + j * dh + c];
                    sc[j] = dot * scale;
                    max = Math.max(max, sc[j]);
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) { sc[j] = Math.exp(sc[j] - max); sum += sc[j]; }
                for (int j = 0; j <= i; j++)
                    for (int c = 0; c < dh; c++) out[o + i * dh + c] += sc[j] / sum * v[o + j * dh + c];
            }
        }
        return out;
    }

    static Tensor[] qkv(long seed, int... shape) {
        Random rng = new Random(seed);
        return new Tensor[]{Tensor.randn(rng, 1f, shape), Tensor.randn(rng, 1f, shape), Tensor.randn(rng, 1f, shape)};
    }

    @Test void matchesNaiveLoop() {
        // S up to and past several query blocks (64): 64, 65 and 150 cross block edges
        int[][] shapes = {{2, 3, 5, 4}, {1, 1, 1, 2}, {1, 2, 7, 6}, {1, 1, 13, 3}, {3, 1, 2, 9}, {1, 1, 64, 3}, {1, 2, 65, 5}, {2, 1, 150, 4}};
        for (int[] shape : shapes) {
            Tensor[] t = qkv(Arrays.hashCode(shape), shape);
            float[] got = Attention.causal(t[0], t[1], t[2]).toArray();
            double[] want = naiveAttention(t[0].toArray(), t[1].toArray(), t[2].toArray(), shape[0] * shape[1], shape[2], shape[3]);
            for (int i = 0; i < want.length; i++)
                assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])), Arrays.toString(shape) + " element " + i);
        }
    }

    @Test void firstPositionCopiesItsValue() {
        Tensor[] t = qkv(1, 2, 2, 4, 3);
        Tensor out = Attention.causal(t[0], t[1], t[2]);
        for (int b = 0; b < 2; b++) for (int h = 0; h < 2; h++) for (int c = 0; c < 3; c++)
            assertEquals(t[2].get(b, h, 0, c), out.get(b, h, 0, c), 1e-6);
    }

    @Test void futureKeysAndValuesDoNotLeak() {
        Tensor[] t = qkv(2, 1, 2, 6, 4);
        float[] before = Attention.causal(t[0], t[1], t[2]).toArray();
        for (int h = 0; h < 2; h++) for (int c = 0; c < 4; c++) {
            t[1].set(50f, 0, h, 4, c); t[1].set(-50f, 0, h, 5, c);
            t[2].set(99f, 0, h, 4, c); t[2].set(99f, 0, h, 5, c);
        }
        float[] after = Attention.causal(t[0], t[1], t[2]).toArray();
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < 4; i++)
                for (int c = 0; c < 4; c++) {
                    int p = (h * 6 + i) * 4 + c;
                    assertEquals(before[p], after[p], "head " + h + " position " + i);
                }
        assertNotEquals(before[(5) * 4], after[(5) * 4]);
    }

    @Test void gradientsOnAwkwardShapes() {
        int[][] shapes = {{1, 1, 1, 2}, {1, 1, 5, 4}, {2, 1, 3, 6}, {1, 3, 7, 1}, {1, 2, 4, 5}};
        for (int[] shape : shapes) {
            Tensor[] t = qkv(Arrays.hashCode(shape) + 1, shape);
            for (Tensor x : t) x.requiresGrad(true);
            GradCheck.check("attention " + Arrays.toString(shape), in -> Attention.causal(in[0], in[1], in[2]), t);
        }
    }

    @Test void gradientToSomeInputsOnly() {
        Tensor[] t = qkv(3, 1, 2, 5, 4);
        t[1].requiresGrad(true);
        GradCheck.check("attention dk only", in -> Attention.causal(in[0], in[1], in[2]), t);
        assertNull(t[0].grad());
        assertNull(t[2].grad());
        Tensor[] u = qkv(4, 1, 2, 5, 4);
        u[2].requiresGrad(true);
        GradCheck.check("attention dv only", in -> Attention.causal(in[0], in[1], in[2]), u);
    }

    @Test void gradientWhenQKVAreOneTensor() {
        Tensor x = Tensor.randn(new Random(5), 1f, 1, 2, 5, 4).requiresGrad(true);
        GradCheck.check("attention(x, x, x)", in -> Attention.causal(in[0], in[0], in[0]), x);
    }

    @Test void gradientThroughTransposedViews() {
        // [B, S, H, Dh] activations viewed as [B, H, S, Dh], as a model splitting heads does.
        Tensor[] t = qkv(6, 1, 4, 3, 2);
        for (Tensor x : t) x.requiresGrad(true);
        GradCheck.check("attention(transposed)", in ->
                Attention.causal(in[0].transpose(1, 2), in[1].transpose(1, 2), in[2].transpose(1, 2)), t);
    }

    @Test void gradientsAccumulate() {
        Tensor[] t = qkv(13, 1, 2, 4, 6);
        for (int i = 0; i < 3; i++) {
            int which = i;
            t[i].requiresGrad(true);
            GradAccumulation.assertAccumulates("attention input " + i, x -> {
                Tensor[] in = t.clone();
                in[which] = x;
                return Attention.causal(in[0], in[1], in[2]);
            }, t[i]);
        }
        GradAccumulation.assertAccumulates("rope", x -> Attention.rope(x, 10000), t[0]);
    }

    /** [B, H, S, Dh] -> [B*S, H*Dh], the layout of x·Wq. */
    static Tensor tokenMajor(Tensor x) {
        int[] s = x.shape();
        return x.transpose(1, 2).contiguous().reshape(s[0] * s[2], s[1] * s[3]);
    }

    @Test void tokenMajorLayoutGivesTheSameAttention() {
        int[][] shapes = {{1, 1, 1, 2}, {2, 3, 5, 4}, {1, 4, 64, 6}, {2, 2, 65, 2}, {1, 3, 131, 8}};
        for (int[] shape : shapes) {
            Tensor[] t = qkv(Arrays.hashCode(shape) + 7, shape);
            float[] want = tokenMajor(Attention.causal(t[0], t[1], t[2])).toArray();
            float[] got = Attention.causalHeads(tokenMajor(t[0]), tokenMajor(t[1]), tokenMajor(t[2]), shape[0], shape[1]).toArray();
            // the same products over the same keys: equal up to the order of sums inside a GEMM
            for (int i = 0; i < want.length; i++)
                assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])), Arrays.toString(shape) + " element " + i);
            float[] rw = tokenMajor(Attention.rope(t[0], 10000)).toArray();
            float[] rg = Attention.ropeHeads(tokenMajor(t[0]), shape[0], shape[1], 10000).toArray();
            assertArrayEquals(rw, rg, Arrays.toString(shape) + " rope");
        }
    }

    /**
     * Heads run as tasks of Kernels.forEachTask: with the tasks on three threads in reverse order,
     * outputs and gradients are bit-identical to running them in order on one thread.
     */
    @Test void headsAsConcurrentTasksGiveTheSameBits() {
        int[][] shapes = {{1, 1, 1, 2}, {2, 3, 5, 4}, {3, 5, 70, 6}, {1, 7, 131, 8}};
        for (int[] shape : shapes) {
            float[][] inOrder = attentionAndGrads(shape, new moelab.kernels.ScalarKernels());
            float[][] concurrent = attentionAndGrads(shape, new ConcurrentTasks(3));
            for (int i = 0; i < inOrder.length; i++)
                assertArrayEquals(inOrder[i], concurrent[i], Arrays.toString(shape) + " output/grad " + i);
        }
    }

    /** out, dq, dk, dv of both layouts on kernels k, from fixed inputs. */
    private static float[][] attentionAndGrads(int[] shape, moelab.kernels.Kernels k) {
        moelab.kernels.Kernels previous = moelab.kernels.Backends.get();
        moelab.kernels.Backends.use(k);
        try {
            float[][] r = new float[8][];
            for (int layout = 0; layout < 2; layout++) {
                Tensor[] t = qkv(Arrays.hashCode(shape), shape);
                if (layout == 1) for (int i = 0; i < 3; i++) { Tensor tm = tokenMajor(t[i]); t[i] = Tensor.of(tm.toArray(), tm.shape()); }
                for (Tensor x : t) x.requiresGrad(true);
                Tensor out = layout == 0 ? Attention.causal(t[0], t[1], t[2]) : Attention.causalHeads(t[0], t[1], t[2], shape[0], shape[1]);
                Tensor w = Tensor.randn(new Random(5), 1f, out.shape());
                Reduce.sumAll(Elementwise.mul(out, w)).backward();
                r[layout * 4] = out.toArray();
                for (int i = 0; i < 3; i++) r[layout * 4 + 1 + i] = t[i].grad().clone();
            }
            return r;
        } finally {
            moelab.kernels.Backends.use(previous);
        }
    }

    /** The scalar kernels, with forEachTask running the tasks in reverse order on a few threads at once. */
    private static final class ConcurrentTasks extends moelab.kernels.ForwardingKernels {
        private final int threads;

        ConcurrentTasks(int threads) {
            super(new moelab.kernels.ScalarKernels());
            this.threads = threads;
        }

        @Override
        public void forEachTask(int tasks, java.util.function.IntConsumer task) {
            java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger(tasks - 1);
            Thread[] pool = new Thread[threads];
            Throwable[] failure = new Throwable[1];
            for (int i = 0; i < threads; i++) {
                pool[i] = new Thread(() -> {
                    try {
                        for (int t; (t = next.getAndDecrement()) >= 0; ) task.accept(t);
                    } catch (Throwable e) {
                        failure[0] = e;
                    }
                });
                pool[i].start();
            }
            for (Thread th : pool) {
                try {
                    th.join();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            if (failure[0] != null) throw new AssertionError("a task failed", failure[0]);
        }
    }

    @Test void tokenMajorGradients() {
        int[][] shapes = {{1, 1, 1, 2}, {2, 2, 3, 4}, {1, 3, 5, 2}, {1, 1, 67, 2}};
        for (int[] shape : shapes) {
            int b = shape[0], h = shape[1];
            Random rng = new Random(Arrays.hashCode(shape));
            int rows = b * shape[2], cols = h * shape[3];
            Tensor[] t = {Tensor.randn(rng, 1f, rows, cols).requiresGrad(true), Tensor.randn(rng, 1f, rows, cols).requiresGrad(true),
                    Tensor.randn(rng, 1f, rows, cols).requiresGrad(true)};
            GradCheck.check("causalHeads " + Arrays.toString(shape), in -> Attention.causalHeads(in[0], in[1], in[2], b, h), t);
            GradCheck.check("ropeHeads " + Arrays.toString(shape), in -> Attention.ropeHeads(in[0], b, h, 500), t[0]);
        }
    }

    @Test void tokenMajorShapeErrors() {
        ShapeException e = assertThrows(ShapeException.class,
                () -> Attention.causalHeads(Tensor.zeros(6, 8), Tensor.zeros(6, 8), Tensor.zeros(6, 8), 4, 2));
        assertTrue(e.getMessage().contains("[6, 8]") && e.getMessage().contains("B=4"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Attention.ropeHeads(Tensor.zeros(6, 9), 2, 3, 10000));
        assertTrue(e.getMessage().contains("Dh=3"), e.getMessage());
    }

    @Test void shapeErrorsNameOpAndShapes() {
        ShapeException e = assertThrows(ShapeException.class,
                () -> Attention.causal(Tensor.zeros(1, 2, 3, 4), Tensor.zeros(1, 2, 5, 4), Tensor.zeros(1, 2, 3, 4)));
        String m = e.getMessage();
        assertTrue(m.startsWith("attention") && m.contains("[1, 2, 3, 4]") && m.contains("[1, 2, 5, 4]"), m);
        e = assertThrows(ShapeException.class,
                () -> Attention.causal(Tensor.zeros(2, 3, 4), Tensor.zeros(2, 3, 4), Tensor.zeros(2, 3, 4)));
        assertTrue(e.getMessage().startsWith("attention") && e.getMessage().contains("[2, 3, 4]"), e.getMessage());
    }

    // ---- rope

    static double[] naiveRope(float[] x, int bh, int s, int dh, double base) {
        double[] y = new double[x.length];
        for (int h = 0; h < bh; h++)
            for (int p = 0; p < s; p++)
                for (int i = 0; i < dh / 2; i++) {
                    double ang = p * Math.pow(base, -2.0 * i / dh);
                    int o = (h * s + p) * dh + 2 * i;
                    y[o] = x[o] * Math.cos(ang) - x[o + 1] * Math.sin(ang);
                    y[o + 1] = x[o] * Math.sin(ang) + x[o + 1] * Math.cos(ang);
                }
        return y;
    }

    @Test void ropeMatchesNaive() {
        int[][] shapes = {{2, 3, 5, 4}, {1, 1, 1, 2}, {1, 2, 13, 6}, {1, 1, 300, 8}};
        for (int[] shape : shapes) {
            Tensor x = Tensor.randn(new Random(7), 1f, shape);
            float[] got = Attention.rope(x, 10000).toArray();
            double[] want = naiveRope(x.toArray(), shape[0] * shape[1], shape[2], shape[3], 10000);
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-5, Arrays.toString(shape) + " " + i);
        }
    }

    @Test void ropeKeepsPositionZeroAndPairNorms() {
        Tensor x = Tensor.randn(new Random(8), 1f, 1, 2, 6, 4);
        Tensor y = Attention.rope(x, 100);
        for (int h = 0; h < 2; h++) {
            for (int c = 0; c < 4; c++) assertEquals(x.get(0, h, 0, c), y.get(0, h, 0, c));
            for (int p = 0; p < 6; p++)
                for (int i = 0; i < 2; i++) {
                    double nx = Math.hypot(x.get(0, h, p, 2 * i), x.get(0, h, p, 2 * i + 1));
                    double ny = Math.hypot(y.get(0, h, p, 2 * i), y.get(0, h, p, 2 * i + 1));
                    assertEquals(nx, ny, 1e-5);
                }
        }
    }

    @Test void ropeScoresDependOnRelativePositionOnly() {
        // The same q and k vectors placed at positions (m, n) and (m+3, n+3) give the same dot product.
        Random rng = new Random(9);
        int s = 8, dh = 6;
        float[] qv = new float[dh], kv = new float[dh];
        for (int c = 0; c < dh; c++) { qv[c] = (float) rng.nextGaussian(); kv[c] = (float) rng.nextGaussian(); }
        float[] q = new float[s * dh], k = new float[s * dh];
        for (int p = 0; p < s; p++) { System.arraycopy(qv, 0, q, p * dh, dh); System.arraycopy(kv, 0, k, p * dh, dh); }
        Tensor rq = Attention.rope(Tensor.of(q, 1, 1, s, dh), 10000), rk = Attention.rope(Tensor.of(k, 1, 1, s, dh), 10000);
        double d1 = 0, d2 = 0;
        for (int c = 0; c < dh; c++) {
            d1 += rq.get(0, 0, 4, c) * rk.get(0, 0, 1, c);
            d2 += rq.get(0, 0, 7, c) * rk.get(0, 0, 4, c);
        }
        assertEquals(d1, d2, 1e-4);
    }

    @Test void ropeGradients() {
        int[][] shapes = {{1, 1, 1, 2}, {2, 3, 5, 4}, {1, 1, 13, 6}};
        for (int[] shape : shapes) {
            Tensor x = Tensor.randn(new Random(10), 1f, shape).requiresGrad(true);
            GradCheck.check("rope " + Arrays.toString(shape), in -> Attention.rope(in[0], 10000), x);
        }
        Tensor x = Tensor.randn(new Random(11), 1f, 1, 5, 3, 4).requiresGrad(true);
        GradCheck.check("rope(transposed)", in -> Attention.rope(in[0].transpose(1, 2), 500), x);
    }

    @Test void ropeThenAttentionGradients() {
        Tensor[] t = qkv(12, 1, 2, 5, 4);
        for (Tensor x : t) x.requiresGrad(true);
        GradCheck.check("attention(rope q, rope k, v)", in ->
                Attention.causal(Attention.rope(in[0], 10000), Attention.rope(in[1], 10000), in[2]), t);
    }

    @Test void ropeErrorsNameOpAndShape() {
        ShapeException e = assertThrows(ShapeException.class, () -> Attention.rope(Tensor.zeros(1, 2, 3, 5), 10000));
        assertTrue(e.getMessage().startsWith("rope") && e.getMessage().contains("Dh=5") && e.getMessage().contains("[1, 2, 3, 5]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> Attention.rope(Tensor.zeros(3, 4), 10000));
        assertTrue(e.getMessage().startsWith("rope") && e.getMessage().contains("[3, 4]"), e.getMessage());
        IllegalArgumentException ie = assertThrows(IllegalArgumentException.class, () -> Attention.rope(Tensor.zeros(1, 1, 2, 2), 0));
        assertTrue(ie.getMessage().startsWith("rope") && ie.getMessage().contains("base"), ie.getMessage());
    }
}
