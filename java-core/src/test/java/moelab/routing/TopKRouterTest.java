package moelab.routing;

import moelab.ops.Softmax;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Top-k router: selection, gates, and the auxiliary losses against hand-computed values. */
class TopKRouterTest {
    static final float LN2 = (float) Math.log(2), LN3 = (float) Math.log(3), LN4 = (float) Math.log(4);

    static Routing route(TopKRouter r, Tensor logits, int k, boolean training) {
        int t = logits.dim(0);
        return r.route(new RoutingInput(0, Tensor.zeros(t, 1), logits, k, TokenInfo.of(1, t), training));
    }

    @Test
    void loadBalancingLossByHand() {
        // token 0: p = [3/4, 1/4]; token 1: p = [2/3, 1/3]; k = 1 sends both to expert 0
        // f = [1, 0], P = [17/24, 7/24]: LBL = coef * E * sum f P = coef * 2 * 17/24
        Tensor z = Tensor.of(new float[]{LN3, 0, LN2, 0}, 2, 2);
        Routing r = route(new TopKRouter(false, 0.01, 0), z, 1, true);
        assertArrayEquals(new int[]{0, 0}, r.experts());
        assertEquals(0.01 * 2 * 17.0 / 24, r.auxLoss().item(), 1e-7);

        // E = 3, k = 2: p0 = [4,2,1]/7 picks {0,1}, p1 = [1,2,4]/7 picks {2,1}
        // f = [1/4, 2/4, 1/4], P = [5/14, 4/14, 5/14]: sum f P = 9/28, LBL = coef * 3 * 9/28
        Tensor z3 = Tensor.of(new float[]{LN4, LN2, 0, 0, LN2, LN4}, 2, 3);
        Routing r3 = route(new TopKRouter(false, 0.5, 0), z3, 2, true);
        assertArrayEquals(new int[]{0, 1, 2, 1}, r3.experts());
        assertEquals(0.5 * 3 * 9.0 / 28, r3.auxLoss().item(), 1e-6);
    }

    @Test
    void loadBalancingLossEqualsCoefAtPerfectBalance() {
        // balanced choices and balanced probabilities: E * sum f P = 2 * (1/2 * 1/2 + 1/2 * 1/2) = 1
        Tensor z = Tensor.of(new float[]{LN3, 0, 0, LN3}, 2, 2);
        assertEquals(0.03, route(new TopKRouter(false, 0.03, 0), z, 1, true).auxLoss().item(), 1e-7);
        // uniform probabilities: P = 1/E whatever f is, so E * sum f P = sum f = 1
        Tensor u = Tensor.zeros(3, 4);
        assertEquals(0.2, route(new TopKRouter(false, 0.2, 0), u, 2, true).auxLoss().item(), 1e-7);
    }

    @Test
    void loadBalancingGradientFlowsOnlyThroughMeanProbabilities() {
        int t = 5, e = 4, k = 2;
        double coef = 0.7;
        Tensor z = Tensor.randn(new Random(3), 1f, t, e).requiresGrad(true);
        Routing r = route(new TopKRouter(false, coef, 0), z, k, true);
        r.auxLoss().backward();
        // f is a constant: dLBL/dP_i = coef * E * f_i, P_i = mean_t p_ti, so
        // dLBL/dz_ti = p_ti * (c_i - sum_j p_tj c_j) with c_i = coef * E * f_i / T
        double[] c = new double[e];
        for (int x : r.experts()) c[x] += coef * e / ((double) k * t) / t;
        float[] p = r.probsArray(), g = z.grad();
        for (int i = 0; i < t; i++) {
            double mean = 0;
            for (int j = 0; j < e; j++) mean += p[i * e + j] * c[j];
            for (int j = 0; j < e; j++)
                assertEquals(p[i * e + j] * (c[j] - mean), g[i * e + j], 1e-6, "dLBL/dz at " + i + "," + j);
        }
    }

    @Test
    void zLossByHand() {
        // lse of [0, 0] is ln 2, of [ln 3, 0] is ln 4 = 2 ln 2: z-loss = coef * (ln2^2 + 4 ln2^2) / 2
        Tensor z = Tensor.of(new float[]{0, 0, LN3, 0}, 2, 2).requiresGrad(true);
        Routing r = route(new TopKRouter(false, 0, 0.1), z, 1, true);
        double ln2 = Math.log(2);
        assertEquals(0.1 * 2.5 * ln2 * ln2, r.auxLoss().item(), 1e-7);
        r.auxLoss().backward();
        // d/dz_ti = coef * 2 lse_t * p_ti / T
        float[] g = z.grad();
        assertEquals(0.1 * 2 * ln2 * 0.5 / 2, g[0], 1e-7);
        assertEquals(0.1 * 2 * (2 * ln2) * 0.75 / 2, g[2], 1e-7);
        assertEquals(0.1 * 2 * (2 * ln2) * 0.25 / 2, g[3], 1e-7);
    }

    @Test
    void bothLossesAddAndEvalHasNone() {
        Tensor z = Tensor.randn(new Random(4), 1f, 6, 4);
        double lbl = TopKRouter.loadBalancingLoss(Softmax.softmax(z, -1), route(new TopKRouter(false, 0, 0), z, 2, true).experts(), 2, 0.01).item();
        double zl = TopKRouter.zLoss(z, 0.001).item();
        assertEquals(lbl + zl, route(new TopKRouter(false, 0.01, 0.001), z, 2, true).auxLoss().item(), 1e-6);
        assertNull(route(new TopKRouter(false, 0.01, 0.001), z, 2, false).auxLoss(), "eval routing computes no aux loss");
        assertNull(route(new TopKRouter(false, 0, 0), z, 2, true).auxLoss(), "zero coefficients give no aux loss");
    }

    @Test
    void gatesAreTopKProbabilitiesOrRenormalized() {
        int t = 7, e = 5, k = 3;
        Tensor z = Tensor.randn(new Random(5), 1f, t, e);
        Routing plain = route(new TopKRouter(false, 0, 0), z, k, true);
        Routing norm = route(new TopKRouter(true, 0, 0), z, k, true);
        assertArrayEquals(plain.experts(), norm.experts());
        float[] p = plain.probsArray(), gp = plain.gates().toArray(), gn = norm.gates().toArray(), zd = z.toArray();
        for (int i = 0; i < t; i++) {
            double sumNorm = 0, denom = 0;
            for (int j = 0; j < k; j++) denom += Math.exp(zd[i * e + plain.experts()[i * k + j]]);
            for (int j = 0; j < k; j++) {
                int ex = plain.experts()[i * k + j];
                assertEquals(p[i * e + ex], gp[i * k + j], 0f, "plain gate = router probability");
                if (j > 0) assertTrue(gp[i * k + j] <= gp[i * k + j - 1], "descending");
                assertEquals(Math.exp(zd[i * e + ex]) / denom, gn[i * k + j], 1e-6, "normTopK gate = softmax over the k");
                sumNorm += gn[i * k + j];
            }
            assertEquals(1.0, sumNorm, 1e-6, "normTopK gates sum to 1");
        }
    }
}
