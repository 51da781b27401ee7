package moelab.losses;

import moelab.tensor.GradCheck;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class OrthogonalityLossTest {
    private static final GradCheck.Tolerance TOL = new GradCheck.Tolerance(1e-3, 3e-3, 2e-2);

    static Tensor rand(long seed, int rows, int d) {
        return Tensor.randn(new Random(seed), 1f, rows, d).requiresGrad(true);
    }

    static boolean[] dropEvery(int n, int every) {
        boolean[] kept = new boolean[n];
        for (int i = 0; i < n; i++) kept[i] = i % every != every - 1;
        return kept;
    }

    @Test
    void gradientsMatchFiniteDifferencesInBothModesOnAwkwardShapes() {
        int[][] shapes = {{1, 2, 3}, {3, 1, 5}, {4, 2, 7}, {3, 3, 5}, {1, 3, 11}, {2, 4, 3}, {5, 3, 13}, {2, 5, 4}};
        for (String mode : new String[]{OrthogonalityLoss.SUBSPACE, OrthogonalityLoss.PAIRWISE})
            for (int[] s : shapes) {
                int t = s[0], k = s[1], d = s[2];
                Tensor y = rand(31L * t + 7L * k + d, t * k, d);
                GradCheck.check(mode + " T=" + t + " k=" + k + " d=" + d, TOL,
                        in -> OrthogonalityLoss.loss(in[0], k, null, mode), y);
                boolean[] kept = dropEvery(t * k, 3);
                GradCheck.check(mode + " with drops T=" + t + " k=" + k + " d=" + d, TOL,
                        in -> OrthogonalityLoss.loss(in[0], k, kept, mode), y);
            }
    }

    @Test
    void pairwiseEqualsSubspaceAtKTwo() {
        Tensor y = rand(3, 2 * 9, 17);
        double sub = OrthogonalityLoss.loss(y, 2, null, "subspace").item();
        double pair = OrthogonalityLoss.loss(y, 2, null, "pairwise").item();
        assertTrue(sub > 0.01, "random outputs are not orthogonal: " + sub);
        assertEquals(sub, pair, 1e-5 * sub);
        // and they differ at k = 3 (projection on a span vs sum of projections on each vector)
        Tensor y3 = rand(4, 3 * 5, 4);
        assertNotEquals(OrthogonalityLoss.loss(y3, 3, null, "subspace").item(), OrthogonalityLoss.loss(y3, 3, null, "pairwise").item(), 1e-3);
    }

    @Test
    void gramSchmidtFormEqualsTheClosedForm() {
        int k = 4, d = 9;
        Random rng = new Random(8);
        for (int trial = 0; trial < 5; trial++) {
            double[][] v = new double[k][d];
            float[] flat = new float[k * d];
            for (int i = 0; i < k; i++) for (int x = 0; x < d; x++) flat[i * d + x] = (float) (v[i][x] = rng.nextGaussian());
            for (int x = 0; x < d; x++) v[k - 1][x] = flat[(k - 1) * d + x] = (float) (0.7 * v[0][x] - 0.2 * v[1][x] + 0.3 * rng.nextGaussian());
            double gs = 0;
            for (int i = 0; i < k; i++) {
                double[][] others = new double[k - 1][];
                for (int r = 0, o = 0; r < k; r++) if (r != i) others[o++] = v[r];
                gs += OrthogonalityLoss.gramSchmidtProjection(others, v[i]);
            }
            double closed = OrthogonalityLoss.loss(Tensor.of(flat, k, d), k, null, "subspace").item() * k; // mean over k slots
            assertEquals(gs, closed, 1e-4 * gs, "trial " + trial);
        }
    }

    @Test
    void knownValues() {
        // orthogonal outputs: 0; parallel outputs: each projects fully onto the other
        float[] orth = {1, 0, 0, 0, 2, 0};
        assertEquals(0.0, OrthogonalityLoss.loss(Tensor.of(orth, 2, 3), 2, null, "subspace").item(), 1e-9);
        float[] par = {1, 2, 0, 2, 4, 0};  // |y0|² = 5, |y1|² = 20
        assertEquals((5 + 20) / 2.0, OrthogonalityLoss.loss(Tensor.of(par, 2, 3), 2, null, "subspace").item(), 1e-4);
        assertEquals((5 + 20) / 2.0, OrthogonalityLoss.loss(Tensor.of(par, 2, 3), 2, null, "pairwise").item(), 1e-4);
        // k = 1: nothing to be orthogonal to
        assertEquals(0.0, OrthogonalityLoss.loss(rand(1, 5, 3), 1, null, "subspace").item());
        // empty batch
        assertEquals(0.0, OrthogonalityLoss.loss(Tensor.of(new float[0], 0, 4), 2, null, "pairwise").item());
    }

    @Test
    void duplicatingTheBatchLeavesTheLossUnchanged() {
        int t = 6, k = 3, d = 5;
        Tensor y = rand(12, t * k, d);
        float[] a = y.toArray(), twice = new float[2 * a.length];
        System.arraycopy(a, 0, twice, 0, a.length);
        System.arraycopy(a, 0, twice, a.length, a.length);
        for (String mode : new String[]{"subspace", "pairwise"}) {
            double one = OrthogonalityLoss.loss(y, k, null, mode).item();
            double two = OrthogonalityLoss.loss(Tensor.of(twice, 2 * t * k, d), k, null, mode).item();
            assertEquals(one, two, 1e-6 * one, mode);
        }
    }

    @Test
    void groupingIsPerTokenAndDroppedSlotsAreIgnored() {
        // token 0: two parallel outputs; token 1: two orthogonal outputs. Cross-token grouping would mix them.
        float[] v = {1, 0, 2, 0, 0, 1, 1, 0};
        double l = OrthogonalityLoss.loss(Tensor.of(v, 4, 2), 2, null, "subspace").item();
        assertEquals((1 + 4) / 4.0, l, 1e-4);
        // dropping slot 1 of token 0 leaves token 0 alone: only token 1 (orthogonal) counts, over 3 kept slots
        boolean[] kept = {true, false, true, true};
        Tensor y = Tensor.of(v.clone(), 4, 2).requiresGrad(true);
        Tensor loss = OrthogonalityLoss.loss(y, 2, kept, "subspace");
        assertEquals(0.0, loss.item(), 1e-9);
        loss.backward();
        assertEquals(0f, y.grad()[2]);
        assertEquals(0f, y.grad()[3]);
        // the dropped slot's values do not matter
        float[] changed = v.clone();
        changed[2] = 5; changed[3] = -3;
        assertEquals(0.0, OrthogonalityLoss.loss(Tensor.of(changed, 4, 2), 2, kept, "subspace").item(), 1e-9);
    }

    @Test
    void errorsNameTheProblem() {
        Tensor y = rand(1, 5, 3);
        assertTrue(assertThrows(RuntimeException.class, () -> OrthogonalityLoss.loss(y, 2, null, "subspace")).getMessage().contains("k = 2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> OrthogonalityLoss.loss(y, 5, null, "cosine")).getMessage().contains("subspace, pairwise"));
    }
}
