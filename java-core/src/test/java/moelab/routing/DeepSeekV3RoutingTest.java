package moelab.routing;

import moelab.nn.MoeConfig;
import moelab.nn.Routers;
import moelab.tensor.GradCheck;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** DSV3: sigmoid scores, TopK(s + b), gates s_sel / sum s_sel times the scale, the sequence-wise loss, bias at eval. */
class DeepSeekV3RoutingTest {
    static final double LN3 = Math.log(3), LN9 = Math.log(9);
    // one token, E = 4: s = sigmoid(z) = [0.5, 0.75, 0.25, 0.9]
    static final Tensor Z = Tensor.of(new float[]{0f, (float) LN3, (float) -LN3, (float) LN9}, 1, 4);

    static TopKRouter dsv3(double seqAux, double scale, boolean biasAtEval) {
        return new TopKRouter(true, 0, new DeepSeekV3Balancing(new ExpertBias(Scope.GLOBAL, 1e-3, 4, biasAtEval), seqAux),
                Scope.GLOBAL, 0, true, scale);
    }

    static Routing route(Router r, Tensor z, int k, TokenInfo info, boolean training) {
        return r.route(new RoutingInput(0, Tensor.zeros(z.dim(0), 1), z, k, info, training));
    }

    @Test
    void gatesAreTheSelectedSigmoidScoresNormalisedToOneTimesTheScale() {
        Routing out = route(dsv3(0, 2.5, true), Z, 2, TokenInfo.of(1, 1), true);
        assertArrayEquals(new int[]{3, 1}, out.experts(), "top-2 of s = experts 3 (0.9) and 1 (0.75)");
        assertArrayEquals(new float[]{2.5f * 0.9f / 1.65f, 2.5f * 0.75f / 1.65f}, out.gates().toArray(), 1e-6f);
        // the probs handed on are s normalised over all experts: s / 2.4
        assertArrayEquals(new float[]{0.5f / 2.4f, 0.75f / 2.4f, 0.25f / 2.4f, 0.9f / 2.4f}, out.probs().toArray(), 1e-6f);
        assertNull(out.auxLoss(), "seq_aux_coef 0: no loss");
    }

    @Test
    void biasPicksTheExpertsButGatesStayUnbiasedAndEvalKeepsTheBias() {
        TopKRouter r = dsv3(0, 1.0, true);
        r.loadState(Map.of(ExpertBias.STATE_KEY, new float[]{0, 0, 0.7f, 0}));
        // s + b = [0.5, 0.75, 0.95, 0.9]: experts 2 and 3; gates from s: 0.25 and 0.9 over 1.15
        for (boolean training : new boolean[]{true, false}) {
            Routing out = route(r, Z, 2, TokenInfo.of(1, 1), training);
            assertArrayEquals(new int[]{2, 3}, out.experts(), "training " + training);
            assertArrayEquals(new float[]{0.25f / 1.15f, 0.9f / 1.15f}, out.gates().toArray(), 1e-6f);
        }
        TopKRouter plainEval = dsv3(0, 1.0, false);
        plainEval.loadState(Map.of(ExpertBias.STATE_KEY, new float[]{0, 0, 0.7f, 0}));
        assertArrayEquals(new int[]{3, 1}, route(plainEval, Z, 2, TokenInfo.of(1, 1), false).experts(), "bias_at_eval false");
    }

    @Test
    void sequenceWiseLossIsLblOfEachSequenceOnTheNormalisedScores() {
        // 2 sequences of 2 tokens, E = 4, k = 1, alpha = 0.5
        Tensor z = Tensor.randn(new Random(3), 1f, 4, 4);
        Routing out = route(dsv3(0.5, 1.0, true), z, 1, TokenInfo.of(2, 2), true);
        float[] zz = z.toArray();
        double expect = 0;
        for (int seq = 0; seq < 2; seq++) {
            double[] f = new double[4], pMean = new double[4];
            for (int t = 2 * seq; t < 2 * seq + 2; t++) {
                double[] s = new double[4];
                double sum = 0;
                for (int i = 0; i < 4; i++) { s[i] = 1 / (1 + Math.exp(-zz[t * 4 + i])); sum += s[i]; }
                int best = 0;
                for (int i = 1; i < 4; i++) if (s[i] > s[best]) best = i;
                f[best] += 4.0 / (1 * 2);                      // E / (k T) per route
                for (int i = 0; i < 4; i++) pMean[i] += s[i] / sum / 2;
            }
            double l = 0;
            for (int i = 0; i < 4; i++) l += f[i] * pMean[i];
            expect += 0.5 * l / 2;                             // alpha, mean over sequences
        }
        assertEquals(expect, out.auxLoss().item(), 1e-6);
    }

    @Test
    void gatesAndLossHaveFiniteDifferenceGradients() {
        // the selection is fixed under small perturbations (no near ties at this seed)
        Tensor z = Tensor.randn(new Random(7), 1f, 6, 4).requiresGrad(true);
        TopKRouter r = dsv3(0.3, 2.0, true);
        GradCheck.check("dsv3 gates", in -> route(r, in[0], 2, TokenInfo.of(2, 3), true).gates(), z);
        GradCheck.check("dsv3 sequence loss", in -> route(r, in[0], 2, TokenInfo.of(2, 3), true).auxLoss(), z);
    }

    @Test
    void configBuildsIt() {
        MoeConfig cfg = MoeConfig.defaults(4, 2, 3).withBalance(new BalanceConfig(Balancing.DSV3, Scope.SEQUENCE));
        Router r = Routers.create(cfg, 0);
        Routing out = route(r, Z, 2, TokenInfo.of(1, 1), true);
        assertArrayEquals(new int[]{3, 1}, out.experts());
        assertEquals(1.0, out.gates().toArray()[0] + out.gates().toArray()[1], 1e-6, "gate_scale 1 by default");
        r.endStep();
        // bias_rate 0.01 relative to sigmoid(0) = 1/2: u = 0.005; sequence counts [0, 1, 0, 1], mean 1/2
        assertArrayEquals(new float[]{0.005f, -0.005f, 0.005f, -0.005f}, r.state().get(ExpertBias.STATE_KEY), 1e-9f);
    }
}
