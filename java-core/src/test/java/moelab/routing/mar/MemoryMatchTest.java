package moelab.routing.mar;

import moelab.tensor.GradCheck;
import moelab.tensor.NoGrad;
import moelab.kernels.ScalarKernels;
import moelab.ops.Elementwise;
import moelab.ops.Reduce;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The memory match op: values are cosines, inactive experts score 0, gradient by finite differences. */
class MemoryMatchTest {

    private static float[] randn(Random r, int n, double sd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * sd);
        return v;
    }

    @Test
    void valuesAreCosinesAndEmptyExpertsScoreZero() {
        Random r = new Random(1);
        int t = 5, d = 7, e = 3;
        float[] x = randn(r, t * d, 2), p = randn(r, e * d, 0.3);
        boolean[] active = {true, false, true};
        float[] m = MemoryMatch.similarity(Tensor.of(x, t, d), p, active).toArray();
        for (int i = 0; i < t; i++)
            for (int k = 0; k < e; k++) {
                double dot = 0, nx = 0, np = 0;
                for (int j = 0; j < d; j++) { dot += x[i * d + j] * p[k * d + j]; nx += x[i * d + j] * x[i * d + j]; np += p[k * d + j] * p[k * d + j]; }
                double want = active[k] ? dot / Math.sqrt(nx * np) : 0;
                assertEquals(want, m[i * e + k], 1e-5, "m[" + i + "," + k + "]");
            }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        int[][] shapes = {{1, 1, 1}, {1, 5, 3}, {3, 9, 1}, {7, 3, 8}, {2, 17, 5}};
        for (int[] s : shapes) {
            int t = s[0], d = s[1], e = s[2];
            Random r = new Random(31L * t + d * 7L + e);
            float[] p = randn(r, e * d, 1);
            boolean[] active = new boolean[e];
            for (int k = 0; k < e; k++) active[k] = e == 1 || k % 3 != 1;
            Tensor x = Tensor.of(randn(r, t * d, 1.5), t, d).requiresGrad(true);
            GradCheck.check("memorySimilarity [T=" + t + ", d=" + d + ", E=" + e + "]",
                    in -> MemoryMatch.similarity(in[0], p, active), x);
        }
    }

    @Test
    void gradientThroughATransposedViewAndAnEmptyBatch() {
        Random r = new Random(4);
        float[] p = randn(r, 2 * 3, 1);
        Tensor xt = Tensor.of(randn(r, 3 * 4, 1), 3, 4).requiresGrad(true);
        GradCheck.check("memorySimilarity of a transposed view", in -> MemoryMatch.similarity(in[0].t(), p, new boolean[]{true, true}), xt);
        Tensor empty = Tensor.zeros(0, 3).requiresGrad(true);
        Tensor m = MemoryMatch.similarity(empty, p, new boolean[]{true, true});
        assertArrayEquals(new int[]{0, 2}, m.shape());
    }

    @Test
    void zeroVectorsHitTheEpsFloorWithoutNaN() {
        float[] p = {0, 0, 1, 0};
        Tensor x = Tensor.of(new float[]{0, 0, 3, 4}, 2, 2).requiresGrad(true);
        Tensor m = MemoryMatch.similarity(x, p, new boolean[]{true, true});
        assertArrayEquals(new float[]{0, 0, 0, 0.6f}, m.toArray(), 1e-6f);
        Reduce.sumAll(m).backward();
        for (float g : x.grad()) assertTrue(Float.isFinite(g));
        // eps branch: dm/dx of the zero token toward p_1 is p_1 / eps
        assertEquals(1f / ScalarKernels.COSINE_EPS, x.grad()[0], 1f);
    }

    @Test
    void pIsSnapshotAtCallTime() {
        float[] p = {1, 0};
        Tensor x = Tensor.of(new float[]{0.6f, 0.8f}, 1, 2).requiresGrad(true);
        Tensor m = MemoryMatch.similarity(x, p, new boolean[]{true});
        p[0] = 0; p[1] = 1;                 // the memory moves on (a push) before backward
        Elementwise.mulScalar(m, 1f).backward();
        // d cos / dx for p = (1,0), x = (0.6, 0.8): (p - m x) / |x| = (1 - 0.36, -0.48)
        assertArrayEquals(new float[]{0.64f, -0.48f}, x.grad(), 1e-5f);
        try (NoGrad ng = NoGrad.enter()) { assertEquals(0.6f, MemoryMatch.similarity(x, new float[]{1, 0}, new boolean[]{true}).item(), 1e-6f); }
    }
}
