package moelab.losses;

import moelab.tensor.GradCheck;
import moelab.ops.Softmax;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class VarianceLossTest {
    static Tensor softmaxRows(long seed, int t, int e, float scale) {
        Tensor z = Tensor.randn(new Random(seed), scale, t, e);
        return Tensor.of(Softmax.softmax(z, -1).toArray(), t, e);
    }

    @Test
    void gradientsMatchFiniteDifferencesInBothModes() {
        int[][] shapes = {{1, 1}, {1, 5}, {7, 3}, {4, 8}, {3, 2}, {11, 13}};
        for (String mode : new String[]{VarianceLoss.PER_TOKEN, VarianceLoss.PER_EXPERT})
            for (int[] s : shapes) {
                Tensor p = Tensor.randn(new Random(s[0] * 17L + s[1]), 1f, s[0], s[1]).requiresGrad(true);
                GradCheck.check(mode + " " + s[0] + "x" + s[1], in -> VarianceLoss.variance(in[0], mode), p);
                // through the softmax, as the router uses it (logit-space gradient of the spec)
                Tensor z = Tensor.randn(new Random(s[0] * 19L + s[1]), 2f, s[0], s[1]).requiresGrad(true);
                GradCheck.check(mode + " of softmax " + s[0] + "x" + s[1], in -> VarianceLoss.variance(Softmax.softmax(in[0], -1), mode), z);
            }
    }

    @Test
    void perTokenVarianceIsBetweenZeroAtUniformAndOneOverEAtOneHot() {
        for (int e : new int[]{2, 3, 8, 13}) {
            int t = 5;
            float[] onehot = new float[t * e], uniform = new float[t * e];
            for (int i = 0; i < t; i++) onehot[i * e + (i % e)] = 1;
            java.util.Arrays.fill(uniform, 1f / e);
            assertEquals(1.0 / e, VarianceLoss.variance(Tensor.of(onehot, t, e), "per_token").item(), 1e-6, "one-hot E=" + e);
            assertEquals(0.0, VarianceLoss.variance(Tensor.of(uniform, t, e), "per_token").item(), 1e-7, "uniform E=" + e);
            for (float scale : new float[]{0.1f, 1f, 10f}) {
                double v = VarianceLoss.variance(softmaxRows(e * 7L, 20, e, scale), "per_token").item();
                assertTrue(v >= 0 && v <= 1.0 / e + 1e-6, "E=" + e + " scale " + scale + ": " + v);
            }
        }
    }

    @Test
    void rowVarianceIsColumnVariancePlusImbalanceOfTheMeans() {
        int t = 9, e = 6;
        Tensor s = softmaxRows(4, t, e, 1.5f);
        double perToken = VarianceLoss.variance(s, "per_token").item() * (e - 1) / e; // population form
        double perExpert = VarianceLoss.variance(s, "per_expert").item();
        float[] p = s.toArray();
        double imbalance = 0;
        for (int j = 0; j < e; j++) {
            double mean = 0;
            for (int i = 0; i < t; i++) mean += p[i * e + j];
            mean /= t;
            imbalance += (mean - 1.0 / e) * (mean - 1.0 / e);
        }
        assertEquals(perToken, perExpert + imbalance / e, 1e-6);
    }

    @Test
    void perExpertIsTheColumnCentredVariance() {
        // two tokens, two experts: columns (1, 0) and (0, 1) have variance 0.25 each
        float[] s = {1, 0, 0, 1};
        assertEquals(0.25, VarianceLoss.variance(Tensor.of(s, 2, 2), "per_expert").item(), 1e-7);
        // identical rows: no variance across tokens, whatever the rows are
        float[] same = {0.9f, 0.1f, 0.9f, 0.1f};
        assertEquals(0.0, VarianceLoss.variance(Tensor.of(same, 2, 2), "per_expert").item(), 1e-7);
        assertEquals(0.0, VarianceLoss.variance(Tensor.of(new float[0], 0, 4), "per_expert").item());
        assertThrows(IllegalArgumentException.class, () -> VarianceLoss.variance(Tensor.of(same, 2, 2), "rows"));
    }
}
