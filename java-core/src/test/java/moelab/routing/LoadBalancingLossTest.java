package moelab.routing;

import moelab.tensor.GradCheck;
import moelab.ops.Softmax;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** LBL per scope against hand-computed values, its gradient, and the global online-buffered counts. */
class LoadBalancingLossTest {
    static final float LN3 = (float) Math.log(3);
    static final double COEF = 0.01;

    static TopKRouter router(Scope scope, int groupSequences) {
        return new TopKRouter(false, 0, new LoadBalancingLoss(COEF, scope), scope, groupSequences);
    }

    static Routing route(Router r, Tensor z, int k, TokenInfo info, boolean training) {
        return r.route(new RoutingInput(0, Tensor.zeros(z.dim(0), 1), z, k, info, training));
    }

    /** Tokens choosing expert 0 get p = [3/4, 1/4], those choosing expert 1 get [1/4, 3/4] (E = 2, k = 1). */
    static Tensor logits(int... choice) {
        float[] z = new float[choice.length * 2];
        for (int t = 0; t < choice.length; t++) z[t * 2 + choice[t]] = LN3;
        return Tensor.of(z, choice.length, 2);
    }

    // 4 sequences of 2 tokens: seq0 -> expert 0, seq1 -> 1, seq2 -> 0, seq3 -> 0; emulated micro-batches of 2 sequences
    static final Tensor CRAFTED = logits(0, 0, 1, 1, 0, 0, 0, 0);
    static final TokenInfo INFO = TokenInfo.of(4, 2);

    @Test
    void scopesGiveTheHandComputedValuesOnACraftedBatch() {
        // sequence: every sequence has f = one-hot, P = [3/4, 1/4] (or mirrored): E sum f P = 2 * 3/4 = 1.5 each
        assertEquals(COEF * 1.5, route(router(Scope.SEQUENCE, 2), CRAFTED, 1, INFO, true).auxLoss().item(), 1e-8);
        // micro_batch: group {seq0, seq1} f = P = [1/2, 1/2] -> 1; group {seq2, seq3} -> 1.5; mean 1.25
        assertEquals(COEF * 1.25, route(router(Scope.MICRO_BATCH, 2), CRAFTED, 1, INFO, true).auxLoss().item(), 1e-8);
        // global: f = [6/8, 2/8], P = [5/8, 3/8]: 2 * (15/32 + 3/32) = 1.125
        assertEquals(COEF * 1.125, route(router(Scope.GLOBAL, 2), CRAFTED, 1, INFO, true).auxLoss().item(), 1e-8);
        // micro_batch without emulated micro-batches is the whole pass, i.e. the global value here
        assertEquals(COEF * 1.125, route(router(Scope.MICRO_BATCH, 0), CRAFTED, 1, INFO, true).auxLoss().item(), 1e-8);
    }

    @Test
    void scopesPartitionTheTokens() {
        assertArrayEquals(new int[]{0, 2, 4, 6, 8}, Scope.SEQUENCE.groups(INFO, 8, 2));
        assertArrayEquals(new int[]{0, 4, 8}, Scope.MICRO_BATCH.groups(INFO, 8, 2));
        assertArrayEquals(new int[]{0, 8}, Scope.MICRO_BATCH.groups(INFO, 8, 0));
        assertArrayEquals(new int[]{0, 8}, Scope.GLOBAL.groups(INFO, 8, 2));
        assertArrayEquals(new int[]{0, 6, 8}, Scope.MICRO_BATCH.groups(INFO, 8, 3), "the last emulated micro-batch may be shorter");
        assertArrayEquals(new int[]{0, 0}, Scope.SEQUENCE.groups(TokenInfo.of(0, 4), 0, 0), "empty batch: one empty group");
        // the counts each scope balances differ on the crafted batch
        int[] experts = route(router(Scope.SEQUENCE, 2), CRAFTED, 1, INFO, true).experts();
        assertArrayEquals(new long[]{0, 2}, BalancingMethod.counts(experts, 2, 4, 1, 2));
        assertArrayEquals(new long[]{2, 2}, BalancingMethod.counts(experts, 0, 4, 1, 2));
        assertArrayEquals(new long[]{6, 2}, BalancingMethod.counts(experts, 0, 8, 1, 2));
    }

    @Test
    void equalsCoefExactlyAtPerfectBalance() {
        // each sequence balanced (f = P = [1/2, 1/2]) in every scope
        Tensor z = logits(0, 1, 1, 0, 0, 1);
        TokenInfo info = TokenInfo.of(3, 2);
        for (Scope s : Scope.values())
            assertEquals(COEF, route(router(s, 1), z, 1, info, true).auxLoss().item(), 1e-9, s.name());
        // uniform probabilities: P = 1/E whatever f is (E = 5, k = 3, T = 7 prime)
        Tensor u = Tensor.zeros(7, 5);
        for (Scope s : Scope.values())
            assertEquals(COEF, route(router(s, 0), u, 3, TokenInfo.of(7, 1), true).auxLoss().item(), 1e-8, s.name());
    }

    @Test
    void globalScopeBuffersCountsOverTheStepAndResetsAtEndStep() {
        TopKRouter r = router(Scope.GLOBAL, 0);
        Tensor a = logits(0, 0), b = logits(1, 1);
        assertEquals(COEF * 1.5, route(r, a, 1, TokenInfo.of(1, 2), true).auxLoss().item(), 1e-8);
        // second micro-batch: buffered f = [2/4, 2/4], local P = [1/4, 3/4]: 2 * (1/8 + 3/8) = 1
        assertEquals(COEF * 1.0, route(r, b, 1, TokenInfo.of(1, 2), true).auxLoss().item(), 1e-8);
        assertArrayEquals(new long[]{2, 2}, ((LoadBalancingLoss) r.method()).bufferedCounts());
        route(r, a, 1, TokenInfo.of(1, 2), false);   // eval routing does not count
        assertArrayEquals(new long[]{2, 2}, ((LoadBalancingLoss) r.method()).bufferedCounts());
        r.endStep();
        assertEquals(COEF * 1.5, route(r, b, 1, TokenInfo.of(1, 2), true).auxLoss().item(), 1e-8, "fresh counts after endStep");
        // micro_batch scope has no memory across passes
        TopKRouter m = router(Scope.MICRO_BATCH, 0);
        route(m, a, 1, TokenInfo.of(1, 2), true);
        assertEquals(COEF * 1.5, route(m, b, 1, TokenInfo.of(1, 2), true).auxLoss().item(), 1e-8);
    }

    @Test
    void gradientWrtLogitsMatchesFiniteDifferences() {
        for (int[] shape : new int[][]{{7, 5, 2, 1}, {6, 3, 3, 2}, {1, 4, 1, 1}, {13, 8, 3, 1}}) {
            int t = shape[0], e = shape[1], k = shape[2], seqLen = shape[3];
            Tensor z = Tensor.randn(new Random(t * 31L + e), 1f, t, e).requiresGrad(true);
            int[] experts = route(router(Scope.SEQUENCE, 0), z, k, TokenInfo.of(t / seqLen, seqLen), true).experts();
            for (Scope s : Scope.values()) {
                int[] groups = s.groups(TokenInfo.of(t / seqLen, seqLen), t, 2);
                LoadBalancingLoss lbl = new LoadBalancingLoss(0.3, s);
                GradCheck.check("lbl " + s + " T=" + t + " E=" + e + " k=" + k,
                        in -> { lbl.endStep(); return lbl.auxLoss(Softmax.softmax(in[0], -1), experts, k, groups); }, z);
            }
        }
    }

    @Test
    void emptyBatchHasNoLoss() {
        assertNull(route(router(Scope.GLOBAL, 0), Tensor.zeros(0, 4), 2, TokenInfo.of(0, 3), true).auxLoss());
    }
}
