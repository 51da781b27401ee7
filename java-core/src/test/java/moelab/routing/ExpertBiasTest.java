package moelab.routing;

import moelab.nn.MoeConfig;
import moelab.nn.Routers;
import moelab.ops.Indexing;
import moelab.ops.Softmax;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** EB: one bias update per optimizer step at every scope, selection biased but gates unbiased, bias at eval, state round trip. */
class ExpertBiasTest {
    static Routing route(Router r, Tensor z, int k, TokenInfo info, boolean training) {
        return r.route(new RoutingInput(0, Tensor.zeros(z.dim(0), 1), z, k, info, training));
    }

    static TopKRouter eb(Scope scope, int groupSequences, int e) {
        return new TopKRouter(true, 0, new ExpertBias(scope, 1e-3, e, false), scope, groupSequences);
    }

    // 4 tokens, E = 3, k = 1: every token prefers expert 0, then 1
    static final Tensor SKEWED = Tensor.of(new float[]{2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0}, 4, 3);

    @Test
    void overloadedExpertsBiasFallsAndIdleOnesRiseOnlyAtTheStepsEnd() {
        TopKRouter r = eb(Scope.MICRO_BATCH, 0, 3);
        Routing out = route(r, SKEWED, 1, TokenInfo.of(1, 4), true);
        assertNull(out.auxLoss(), "EB adds no loss");
        assertArrayEquals(new float[3], ((ExpertBias) r.method()).bias(), "no update inside the step");
        r.endStep();
        // counts [4, 0, 0], mean 4/3: b = u * sign(mean - c) = [-u, +u, +u]
        assertArrayEquals(new float[]{-1e-3f, 1e-3f, 1e-3f}, ((ExpertBias) r.method()).bias(), 1e-9f);
    }

    // 2 sequences of 2 tokens, E = 3, k = 1: sequence 0 prefers expert 0, sequence 1 expert 1
    static final Tensor TWO_SEQUENCES = Tensor.of(new float[]{2, 1, 0, 2, 1, 0, 1, 2, 0, 1, 2, 0}, 4, 3);

    @Test
    void everyScopeUpdatesOncePerStepAndScopeChangesOnlyWhatIsCounted() {
        // sequence / micro-batch of 1 sequence: signs [-1, +1, +1] and [+1, -1, +1], mean [0, 0, 1];
        // micro-batch of the whole pass and global: counts [2, 2, 0], mean 4/3, signs [-1, -1, +1]
        Object[][] cases = {
                {Scope.SEQUENCE, 0, new float[]{0, 0, 1e-3f}},
                {Scope.MICRO_BATCH, 1, new float[]{0, 0, 1e-3f}},
                {Scope.MICRO_BATCH, 0, new float[]{-1e-3f, -1e-3f, 1e-3f}},
                {Scope.GLOBAL, 0, new float[]{-1e-3f, -1e-3f, 1e-3f}}};
        for (Object[] c : cases) {
            TopKRouter r = eb((Scope) c[0], (int) c[1], 3);
            ExpertBias m = (ExpertBias) r.method();
            for (int pass = 0; pass < 3; pass++) {    // three training passes (grad accumulation) of one optimizer step
                route(r, TWO_SEQUENCES, 1, TokenInfo.of(2, 2), true);
                assertArrayEquals(new float[3], m.bias(), c[0] + ": no update before the step ends");
            }
            r.endStep();
            assertEquals(1, m.updates(), c[0] + ": one update per step");
            assertArrayEquals((float[]) c[2], m.bias(), 1e-9f, c[0] + "/" + c[1]);
            r.endStep();
            assertEquals(1, m.updates(), c[0] + ": a step without training routes does not update");
            assertArrayEquals((float[]) c[2], m.bias(), 1e-9f, c[0] + ": an empty step changes nothing");
        }
    }

    @Test
    void configuredRateIsRelativeToTheScoreScaleAndTheBiasIsKeptAtEval() {
        // bias_rate 0.01 with softmax scores over E = 3: u = 0.01 / 3 per step
        MoeConfig cfg = MoeConfig.defaults(3, 1, 4).withBalance(new BalanceConfig(Balancing.EB, Scope.GLOBAL));
        assertTrue(cfg.balance().biasAtEval(), "DeepSeek-V3 keeps the bias at eval: the default");
        Router r = Routers.create(cfg, 0);
        route(r, SKEWED, 1, TokenInfo.of(1, 4), true);
        r.endStep();
        assertArrayEquals(new float[]{-0.01f / 3, 0.01f / 3, 0.01f / 3}, r.state().get(ExpertBias.STATE_KEY), 1e-9f);
        // a bias that overrides the scores moves eval routing too
        r.loadState(Map.of(ExpertBias.STATE_KEY, new float[]{0, 0, 1f}));
        assertArrayEquals(new int[]{2, 2, 2, 2}, route(r, SKEWED, 1, TokenInfo.of(1, 4), false).experts());
    }

    @Test
    void biasChangesSelectionButNotGates() {
        // p = [0.5, 0.3, 0.2] style logits; a large bias on expert 2 makes it selected
        ExpertBias m = new ExpertBias(Scope.GLOBAL, 0.5, 3, false);
        m.loadState(Map.of(ExpertBias.STATE_KEY, new float[]{0, 0, 1f}));
        TopKRouter r = new TopKRouter(false, 0, m, Scope.GLOBAL, 0);
        Tensor z = Tensor.of(new float[]{1.0f, 0.5f, 0.1f, 0.2f, 1.5f, 0.3f}, 2, 3);
        Routing out = route(r, z, 2, TokenInfo.of(1, 2), true);
        assertArrayEquals(new int[]{2, 0, 2, 1}, out.experts(), "TopK(p + b)");
        float[] p = Softmax.softmax(z, -1).toArray();
        float[] g = out.gates().toArray();
        assertEquals(p[2], g[0], 1e-7);   // raw unbiased p at the selected experts
        assertEquals(p[0], g[1], 1e-7);
        assertEquals(p[5], g[2], 1e-7);
        // renormalised gates: softmax over the selected logits, bias nowhere
        TopKRouter rn = new TopKRouter(true, 0, m, Scope.GLOBAL, 0);
        Routing outN = route(rn, z, 2, TokenInfo.of(1, 2), true);
        assertArrayEquals(Softmax.softmax(Indexing.gather(z, outN.experts(), 2), -1).toArray(), outN.gates().toArray(), 1e-7f);
        assertEquals(1.0, outN.gates().toArray()[0] + outN.gates().toArray()[1], 1e-6);
        // eval is plain TopK(p) unless bias_at_eval
        assertArrayEquals(new int[]{0, 1, 1, 2}, route(r, z, 2, TokenInfo.of(1, 2), false).experts());
        ExpertBias atEval = new ExpertBias(Scope.GLOBAL, 0.5, 3, true);
        atEval.loadState(Map.of(ExpertBias.STATE_KEY, new float[]{0, 0, 1f}));
        assertArrayEquals(new int[]{2, 0, 2, 1}, route(new TopKRouter(false, 0, atEval, Scope.GLOBAL, 0), z, 2, TokenInfo.of(1, 2), false).experts());
    }

    @Test
    void stateRoundTripsThroughTheRouter() {
        MoeConfig cfg = MoeConfig.defaults(3, 1, 4).withBalance(new BalanceConfig(Balancing.EB, Scope.MICRO_BATCH));
        Router a = Routers.create(cfg, 0);
        route(a, SKEWED, 1, TokenInfo.of(1, 4), true);
        Map<String, float[]> s = a.state();
        Router b = Routers.create(cfg, 0);
        assertArrayEquals(new float[3], b.state().get(ExpertBias.STATE_KEY));
        b.loadState(s);
        assertArrayEquals(s.get(ExpertBias.STATE_KEY), b.state().get(ExpertBias.STATE_KEY));
        s.get(ExpertBias.STATE_KEY)[0] = 42;   // state() returns a copy
        assertNotEquals(42f, a.state().get(ExpertBias.STATE_KEY)[0]);
        var e = assertThrows(IllegalArgumentException.class, () -> b.loadState(Map.of(ExpertBias.STATE_KEY, new float[5])));
        assertTrue(e.getMessage().contains("3 experts"), e.getMessage());
        Router lbl = Routers.create(MoeConfig.defaults(3, 1, 4), 0);
        assertThrows(IllegalArgumentException.class, () -> lbl.loadState(a.state()), "an LBL router has no bias to load");
    }

    @Test
    void repeatedUpdatesBalanceASkewedRouter() {
        // a fixed skewed router: the bias alone must spread the load
        TopKRouter r = new TopKRouter(true, 0, new ExpertBias(Scope.MICRO_BATCH, 0.02, 4, false), Scope.MICRO_BATCH, 0);
        Tensor z = Tensor.randn(new Random(5), 0.3f, 64, 4);
        float[] zz = z.toArray();
        for (int t = 0; t < 64; t++) zz[t * 4] += 1f;   // expert 0 favoured
        Tensor skew = Tensor.of(zz, 64, 4);
        long[] c = null;
        for (int i = 0; i < 200; i++) {
            c = BalancingMethod.counts(route(r, skew, 1, TokenInfo.of(1, 64), true).experts(), 0, 64, 1, 4);
            r.endStep();
        }
        for (long x : c) assertTrue(x >= 8 && x <= 24, "counts near 16 each after 200 updates: " + java.util.Arrays.toString(c));
    }
}
