package moelab.ops;

import moelab.tensor.GradCheck;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static moelab.ops.OpsTesting.assertClose;
import static moelab.ops.OpsTesting.param;
import static moelab.ops.OpsTesting.recordGemms;
import static org.junit.jupiter.api.Assertions.*;

class MatMulTest {
    private final Random rng = new Random(7);

    /** c [m,n] = a [m,k] b [k,n] with plain loops over logical indices (any strides). */
    private static float[] reference(Tensor a, Tensor b) {
        int m = a.dim(0), k = a.dim(1), n = b.dim(1);
        float[] c = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double) a.get(i, p) * b.get(p, j);
                c[i * n + j] = (float) s;
            }
        return c;
    }

    private static final int[][] MKN = {{1, 1, 1}, {3, 5, 7}, {13, 7, 5}, {1, 13, 1}, {7, 1, 3}, {9, 17, 11}, {5, 3, 13}};

    @Test void forward2dMatchesLoops() {
        for (int[] s : MKN) {
            Tensor a = Tensor.randn(rng, 1f, s[0], s[1]), b = Tensor.randn(rng, 1f, s[1], s[2]);
            Tensor c = MatMul.matmul(a, b);
            assertArrayEquals(new int[]{s[0], s[2]}, c.shape());
            assertClose(reference(a, b), c.toArray(), 1e-5f, "matmul " + java.util.Arrays.toString(s));
        }
    }

    @Test void gradcheck2d() {
        for (int[] s : MKN) {
            if (s[0] * s[1] * s[2] > 500) continue; // the checker runs two forwards per input element
            GradCheck.check("matmul " + java.util.Arrays.toString(s), in -> MatMul.matmul(in[0], in[1]),
                    param(rng, s[0], s[1]), param(rng, s[1], s[2]));
        }
    }

    @Test void transposedViewsAreReadInPlaceWithTransposeFlags() {
        Tensor a0 = param(rng, 5, 3), b0 = param(rng, 7, 5); // a = a0.t() [3,5], b = b0.t() [5,7]
        Tensor[] out = new Tensor[1];
        List<OpsTesting.Gemm> calls = recordGemms(() -> {
            out[0] = MatMul.matmul(a0.t(), b0.t());
            Reduce.sumAll(out[0]).backward();
        });
        assertClose(reference(a0.t(), b0.t()), out[0].toArray(), 1e-5f, "matmul(a.t(), b.t())");
        // the op's inputs are the transpose views themselves: no contiguous() copy was recorded
        assertEquals("transpose", out[0].node().inputs()[0].node().op());
        assertEquals("transpose", out[0].node().inputs()[1].node().op());
        assertEquals(3, calls.size(), "forward + dA + dB");
        assertEquals(new OpsTesting.Gemm(true, true, 3, 7, 5, 0f), calls.get(0));
        assertEquals(new OpsTesting.Gemm(false, false, 3, 5, 7, 1f), calls.get(1)); // dA = dC · Bᵀ, Bᵀ = b0 plain
        assertEquals(new OpsTesting.Gemm(false, false, 5, 7, 3, 1f), calls.get(2)); // dB = Aᵀ · dC, Aᵀ = a0 plain
        // and the gradients are right: dL/da0[i][j] = (sum_c b[j][c]) for L = sum(a0.t() b)
        float[] ga = a0.grad();
        for (int p = 0; p < 5; p++)
            for (int i = 0; i < 3; i++) {
                float rowSum = 0;
                for (int j = 0; j < 7; j++) rowSum += b0.get(j, p);
                assertEquals(rowSum, ga[p * 3 + i], 1e-4f);
            }
    }

    @Test void gradcheckTransposedInputs() {
        GradCheck.check("matmul(a.t(), b)", in -> MatMul.matmul(in[0].t(), in[1]), param(rng, 5, 3), param(rng, 5, 7));
        GradCheck.check("matmul(a, b.t())", in -> MatMul.matmul(in[0], in[1].t()), param(rng, 3, 5), param(rng, 7, 5));
        GradCheck.check("matmul(a.t(), b.t())", in -> MatMul.matmul(in[0].t(), in[1].t()), param(rng, 13, 1), param(rng, 2, 13));
        GradCheck.check("linear(x, w.t())", in -> MatMul.linear(in[0], in[1].t()), param(rng, 2, 3, 5), param(rng, 7, 5));
    }

    @Test void batchedMatchesPerBatchLoops() {
        int[][] shapes = {{2, 3, 5, 7}, {1, 4, 3, 2}, {3, 1, 13, 1}};
        for (int[] s : shapes) {
            Tensor a = Tensor.randn(rng, 1f, s[0], s[1], s[2]), b = Tensor.randn(rng, 1f, s[0], s[2], s[3]);
            Tensor c = MatMul.matmul(a, b);
            assertArrayEquals(new int[]{s[0], s[1], s[3]}, c.shape());
            for (int bi = 0; bi < s[0]; bi++) {
                Tensor ab = slice(a, bi), bb = slice(b, bi);
                float[] want = reference(ab, bb);
                for (int i = 0; i < want.length; i++) assertEquals(want[i], c.toArray()[bi * want.length + i], 1e-5f);
            }
        }
    }

    @Test void gradcheckBatched() {
        GradCheck.check("bmm [2,3,5]x[2,5,7]", in -> MatMul.matmul(in[0], in[1]), param(rng, 2, 3, 5), param(rng, 2, 5, 7));
        GradCheck.check("bmm batch 1", in -> MatMul.matmul(in[0], in[1]), param(rng, 1, 3, 1), param(rng, 1, 1, 5));
        // K^T style: the second operand is a transposed view of [B,n,k]
        GradCheck.check("bmm (a, b.transpose(1,2))", in -> MatMul.matmul(in[0], in[1].transpose(1, 2)),
                param(rng, 2, 3, 5), param(rng, 2, 7, 5));
        GradCheck.check("bmm (a.transpose(1,2), b)", in -> MatMul.matmul(in[0].transpose(1, 2), in[1]),
                param(rng, 3, 5, 2), param(rng, 3, 5, 3));
        // a batch-interleaved view ([m,B,k] -> [B,m,k]) has no sgemm layout: copied, still right
        GradCheck.check("bmm (a.transpose(0,1), b)", in -> MatMul.matmul(in[0].transpose(0, 1), in[1]),
                param(rng, 3, 2, 5), param(rng, 2, 5, 3));
    }

    @Test void sharedWeightIsOneGemmPerPass() {
        Tensor a = param(rng, 3, 5, 7), w = param(rng, 7, 2);
        Tensor[] out = new Tensor[1];
        List<OpsTesting.Gemm> calls = recordGemms(() -> {
            out[0] = MatMul.matmul(a, w);
            Reduce.sumAll(out[0]).backward();
        });
        assertArrayEquals(new int[]{3, 5, 2}, out[0].shape());
        assertEquals(List.of(
                new OpsTesting.Gemm(false, false, 15, 2, 7, 0f),  // forward on [15,7]
                new OpsTesting.Gemm(false, true, 15, 7, 2, 1f),   // dA = dC · wᵀ
                new OpsTesting.Gemm(true, false, 7, 2, 15, 1f)),  // dW = Aᵀ · dC, summed over all 15 rows at once
                calls);
        for (int bi = 0; bi < 3; bi++) {
            float[] want = reference(slice(a, bi), w);
            for (int i = 0; i < want.length; i++) assertEquals(want[i], out[0].toArray()[bi * want.length + i], 1e-5f);
        }
        GradCheck.check("matmul [3,5,7]x[7,2]", in -> MatMul.matmul(in[0], in[1]), param(rng, 3, 5, 7), param(rng, 7, 2));
        GradCheck.check("matmul [1,1,3]x[3,5]", in -> MatMul.matmul(in[0], in[1]), param(rng, 1, 1, 3), param(rng, 3, 5));
    }

    @Test void linearFlattensAnyLeadingDims() {
        Tensor w = Tensor.randn(rng, 1f, 5, 4);
        Tensor x = Tensor.randn(rng, 1f, 2, 1, 3, 5);
        Tensor y = MatMul.linear(x, w);
        assertArrayEquals(new int[]{2, 1, 3, 4}, y.shape());
        assertClose(reference(x.reshape(6, 5), w), y.toArray(), 1e-5f, "linear 4-D");
        Tensor v = Tensor.randn(rng, 1f, 5);
        Tensor yv = MatMul.linear(v, w);
        assertArrayEquals(new int[]{4}, yv.shape());
        assertClose(reference(v.reshape(1, 5), w), yv.toArray(), 1e-5f, "linear 1-D");
        GradCheck.check("linear [2,1,3,5]", in -> MatMul.linear(in[0], in[1]), param(rng, 2, 1, 3, 5), param(rng, 5, 4));
        GradCheck.check("linear [5]", in -> MatMul.linear(in[0], in[1]), param(rng, 5), param(rng, 5, 3));
    }

    @Test void linearReadsSplitPiecesInPlace() {
        // q, k, v = split(x [2,3,15], -1, 5,5,5): pieces [2,3,5] with row stride 15, read with ld = 15
        Tensor x = param(rng, 2, 3, 15), w = param(rng, 5, 3);
        Tensor piece = Join.split(x, -1, 5, 5, 5)[1];
        Tensor y = MatMul.linear(piece, w);
        assertEquals("narrow", y.node().inputs()[0].node().op(), "no contiguous() copy of the piece");
        assertClose(reference(piece.contiguous().reshape(6, 5), w), y.toArray(), 1e-5f, "linear of a piece");
        GradCheck.check("linear(split piece)", in -> MatMul.linear(Join.split(in[0], -1, 5, 5, 5)[1], in[1]), x, w);
        GradCheck.check("matmul(narrow, w)", in -> MatMul.matmul(Join.narrow(in[0], 1, 2, 3), in[1]),
                param(rng, 4, 7), param(rng, 3, 2));
    }

    @Test void zeroSizedDims() {
        Tensor a = param(rng, 0, 3), b = param(rng, 3, 4);
        Tensor c = MatMul.matmul(a, b);
        assertArrayEquals(new int[]{0, 4}, c.shape());
        Reduce.sumAll(c).backward();
        assertArrayEquals(new float[12], b.grad(), "nothing flows from an empty product");

        Tensor p = param(rng, 2, 0), q = param(rng, 0, 3);
        Tensor r = MatMul.matmul(p, q);
        assertArrayEquals(new int[]{2, 3}, r.shape());
        assertArrayEquals(new float[6], r.toArray(), "an empty inner sum is 0");
        Reduce.sumAll(r).backward();
        assertEquals(0, p.grad().length);

        assertArrayEquals(new int[]{0, 2, 4}, MatMul.matmul(Tensor.zeros(0, 2, 3), Tensor.zeros(0, 3, 4)).shape());
        assertArrayEquals(new int[]{2, 0, 4}, MatMul.linear(Tensor.zeros(2, 0, 3), Tensor.zeros(3, 4)).shape());
        assertArrayEquals(new float[8], MatMul.linear(Tensor.zeros(2, 1, 0), Tensor.zeros(0, 4)).toArray());
    }

    @Test void usedTwiceAccumulates() {
        GradCheck.check("matmul(x, x)", in -> MatMul.matmul(in[0], in[0]), param(rng, 5, 5));
        // L = sum(x·x): dL/dx[i][j] = sum_c x[j][c] + sum_r x[r][i]
        Tensor x = param(rng, 4, 4);
        Reduce.sumAll(MatMul.matmul(x, x)).backward();
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                float want = 0;
                for (int t = 0; t < 4; t++) want += x.get(j, t) + x.get(t, i);
                assertEquals(want, x.grad()[i * 4 + j], 1e-4f);
            }
    }

    @Test void shapeErrorsNameOpAndShapes() {
        ShapeException e = assertThrows(ShapeException.class, () -> MatMul.matmul(Tensor.zeros(2, 3), Tensor.zeros(4, 5)));
        assertTrue(e.getMessage().startsWith("matmul:") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 5]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> MatMul.matmul(Tensor.zeros(2, 3, 4), Tensor.zeros(3, 4, 5)));
        assertTrue(e.getMessage().startsWith("matmul:") && e.getMessage().contains("[2, 3, 4]") && e.getMessage().contains("[3, 4, 5]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> MatMul.matmul(Tensor.zeros(2, 3, 4), Tensor.zeros(2, 5, 6)));
        assertTrue(e.getMessage().startsWith("matmul:") && e.getMessage().contains("[2, 3, 4]") && e.getMessage().contains("[2, 5, 6]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> MatMul.matmul(Tensor.zeros(3), Tensor.zeros(3, 2)));
        assertTrue(e.getMessage().startsWith("matmul:") && e.getMessage().contains("[3]") && e.getMessage().contains("[3, 2]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> MatMul.linear(Tensor.zeros(2, 7, 3), Tensor.zeros(4, 5)));
        assertTrue(e.getMessage().startsWith("linear:") && e.getMessage().contains("[2, 7, 3]") && e.getMessage().contains("[4, 5]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> MatMul.linear(Tensor.zeros(2, 4), Tensor.zeros(4)));
        assertTrue(e.getMessage().startsWith("linear:") && e.getMessage().contains("[2, 4]") && e.getMessage().contains("[4]"), e.getMessage());
    }

    /** The 2-D matrix a[bi] (a copy, via logical indices). */
    private static Tensor slice(Tensor a, int bi) {
        Tensor s = Tensor.zeros(a.dim(1), a.dim(2));
        for (int i = 0; i < a.dim(1); i++)
            for (int j = 0; j < a.dim(2); j++) s.set(a.get(bi, i, j), i, j);
        return s;
    }
}
