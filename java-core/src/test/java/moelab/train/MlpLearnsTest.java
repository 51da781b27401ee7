package moelab.train;

import moelab.tensor.NoGrad;
import moelab.tensor.Parameters;
import moelab.ops.Activations;
import moelab.ops.CrossEntropy;
import moelab.ops.Elementwise;
import moelab.ops.MatMul;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * End to end: an MLP built from the engine's ops and trained with AdamW must learn a task no
 * linear model can solve — three interleaved spirals in the plane.
 */
class MlpLearnsTest {
    static final int CLASSES = 3, PER_CLASS = 100, HIDDEN = 48;

    @Test
    void mlpLearnsThreeSpirals() {
        int n = CLASSES * PER_CLASS;
        float[] xs = new float[n * 2];
        int[] ys = new int[n];
        Random rng = new Random(7);
        for (int c = 0; c < CLASSES; c++)
            for (int i = 0; i < PER_CLASS; i++) {
                int row = c * PER_CLASS + i;
                double r = (double) i / PER_CLASS;
                double theta = c * 2 * Math.PI / CLASSES + r * 4 + rng.nextGaussian() * 0.1;
                xs[row * 2] = (float) (r * Math.sin(theta));
                xs[row * 2 + 1] = (float) (r * Math.cos(theta));
                ys[row] = c;
            }
        Tensor x = Tensor.of(xs, n, 2);

        Parameters ps = new Parameters();
        Random init = new Random(1);
        Tensor w1 = ps.add("w1", Tensor.randn(init, 1f, 2, HIDDEN));
        Tensor b1 = ps.add("b1", Tensor.zeros(HIDDEN));
        Tensor w2 = ps.add("w2", Tensor.randn(init, (float) (1 / Math.sqrt(HIDDEN)), HIDDEN, HIDDEN));
        Tensor b2 = ps.add("b2", Tensor.zeros(HIDDEN));
        Tensor w3 = ps.add("w3", Tensor.randn(init, (float) (1 / Math.sqrt(HIDDEN)), HIDDEN, CLASSES));

        AdamW opt = new AdamW(ps, 0.9f, 0.999f, 1e-8f, 0f);
        double firstLoss = 0, loss = 0;
        for (int step = 0; step < 600; step++) {
            Tensor h = Activations.silu(Elementwise.add(MatMul.matmul(x, w1), b1));
            h = Activations.silu(Elementwise.add(MatMul.matmul(h, w2), b2));
            Tensor l = CrossEntropy.crossEntropy(MatMul.matmul(h, w3), ys);
            ps.zeroGrad();
            l.backward();
            opt.step(0.01f);
            loss = l.item();
            if (step == 0) firstLoss = loss;
        }
        assertEquals(Math.log(CLASSES), firstLoss, 0.3, "starts near chance");
        assertTrue(loss < 0.15, "training loss after 600 steps: " + loss);

        int correct = 0;
        try (NoGrad ng = NoGrad.enter()) {
            Tensor h = Activations.silu(Elementwise.add(MatMul.matmul(x, w1), b1));
            h = Activations.silu(Elementwise.add(MatMul.matmul(h, w2), b2));
            Tensor logits = MatMul.matmul(h, w3);
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int c = 1; c < CLASSES; c++) if (logits.get(i, c) > logits.get(i, best)) best = c;
                if (best == ys[i]) correct++;
            }
        }
        assertTrue(correct >= 0.95 * n, "accuracy " + correct + "/" + n);
    }
}
