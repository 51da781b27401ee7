package moelab.train;

import moelab.tensor.Parameters;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class AdamWTest {

    /** One step against the update written out by hand in double. */
    @Test
    void firstTwoStepsMatchHandComputedUpdate() {
        Parameters ps = new Parameters();
        Tensor w = ps.add("w", Tensor.of(new float[]{1f, -2f, 0.5f, 3f}, 2, 2));
        Tensor b = ps.add("b", Tensor.of(new float[]{0.25f, -0.75f}, 2));
        AdamW opt = new AdamW(ps, 0.9f, 0.95f, 1e-8f, 0.1f);
        assertTrue(opt.decays("w"));
        assertFalse(opt.decays("b"), "vectors (norm gains, biases) must not decay");

        double[] wRef = {1, -2, 0.5, 3}, bRef = {0.25, -0.75};
        double[] mW = new double[4], vW = new double[4], mB = new double[2], vB = new double[2];
        float[][] gradsW = {{0.1f, -0.2f, 0.3f, 0f}, {-0.5f, 0.4f, 0.05f, 1f}};
        float[][] gradsB = {{1f, -1f}, {0.5f, 2f}};
        double lr = 0.01;
        for (int s = 1; s <= 2; s++) {
            System.arraycopy(gradsW[s - 1], 0, w.gradBuffer(), 0, 4);
            System.arraycopy(gradsB[s - 1], 0, b.gradBuffer(), 0, 2);
            opt.step((float) lr);
            ref(wRef, mW, vW, gradsW[s - 1], s, lr, 0.1);
            ref(bRef, mB, vB, gradsB[s - 1], s, lr, 0.0);
        }
        for (int i = 0; i < 4; i++) assertEquals(wRef[i], w.data()[i], 1e-6);
        for (int i = 0; i < 2; i++) assertEquals(bRef[i], b.data()[i], 1e-6);
        assertEquals(2, opt.stepCount());
    }

    private static void ref(double[] p, double[] m, double[] v, float[] g, int step, double lr, double wd) {
        for (int i = 0; i < p.length; i++) {
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.95 * v[i] + 0.05 * g[i] * g[i];
            double mh = m[i] / (1 - Math.pow(0.9, step)), vh = v[i] / (1 - Math.pow(0.95, step));
            p[i] -= lr * (mh / (Math.sqrt(vh) + 1e-8) + wd * p[i]);
        }
    }

    @Test
    void minimizesAQuadratic() {
        Parameters ps = new Parameters();
        Tensor x = ps.add("x", Tensor.of(new float[]{5f, -3f, 0.1f}, 3));
        AdamW opt = new AdamW(ps, 0.9f, 0.999f, 1e-8f, 0f);
        for (int s = 0; s < 2000; s++) {
            float[] g = x.gradBuffer();
            for (int i = 0; i < 3; i++) g[i] = 2 * (x.data()[i] - (i + 1)); // d/dx (x - target)^2
            opt.step(0.05f);
            x.zeroGrad();
        }
        for (int i = 0; i < 3; i++) assertEquals(i + 1, x.data()[i], 1e-2);
    }

    @Test
    void rejectsBadHyperparameters() {
        Parameters ps = new Parameters();
        ps.add("x", Tensor.zeros(2));
        var e = assertThrows(IllegalArgumentException.class, () -> new AdamW(ps, 1f, 0.9f, 1e-8f, 0f));
        assertTrue(e.getMessage().contains("beta1"), e.getMessage());
    }

    @Test
    void clipScalesToMaxNorm() {
        Parameters ps = new Parameters();
        Tensor a = ps.add("a", Tensor.zeros(2));
        Tensor b = ps.add("b", Tensor.zeros(1));
        a.gradBuffer()[0] = 3; a.gradBuffer()[1] = 0; b.gradBuffer()[0] = 4; // norm 5
        double n = GradClip.clipGlobalNorm(ps, 1.0);
        assertEquals(5.0, n, 1e-9);
        double after = Math.sqrt(a.grad()[0] * a.grad()[0] + b.grad()[0] * b.grad()[0]);
        assertEquals(1.0, after, 1e-5);
        assertEquals(0.6, a.grad()[0], 1e-5);
        // below the threshold nothing changes
        assertEquals(1.0, GradClip.clipGlobalNorm(ps, 10.0), 1e-5);
        assertEquals(0.6, a.grad()[0], 1e-5);
    }
}
