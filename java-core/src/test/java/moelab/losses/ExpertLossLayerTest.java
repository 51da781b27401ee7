package moelab.losses;

import moelab.tensor.Parameters;
import moelab.nn.MoeConfig;
import moelab.nn.MoeFeedForward;
import moelab.nn.Routers;
import moelab.routing.TokenInfo;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The losses inside an MoE layer: what reaches which parameters, and nothing changes when they are off. */
class ExpertLossLayerTest {
    static final int D = 7, T = 11, E = 5, K = 2;

    record Run(double aux, Map<String, float[]> grads, ExpertLosses losses) {}

    /** Forward one layer in training, back-propagate ONLY its aux loss; gradients of x and every parameter. */
    static Run auxOnly(MoeConfig cfg, ExpertLossConfig lc) {
        Parameters params = new Parameters();
        MoeConfig c = cfg.withExpertLosses(lc);
        ExpertLosses losses = new ExpertLosses(lc);
        MoeFeedForward ffn = new MoeFeedForward("moe.", 0, D, c, 0.5, 0.5, params, new Random(3), Routers.create(c, 0), losses);
        Tensor x = Tensor.randn(new Random(9), 1f, T, D).requiresGrad(true);
        MoeFeedForward.Output o = ffn.forward(x, TokenInfo.of(1, T), true);
        Map<String, float[]> g = new LinkedHashMap<>();
        if (o.auxLoss() != null) o.auxLoss().backward();
        g.put("x", x.grad() == null ? new float[x.numel()] : x.grad().clone());
        for (var e : params.asMap().entrySet())
            g.put(e.getKey(), e.getValue().grad() == null ? new float[e.getValue().numel()] : e.getValue().grad().clone());
        return new Run(o.auxLoss() == null ? Double.NaN : o.auxLoss().item(), g, losses);
    }

    static MoeConfig noAux() { return MoeConfig.defaults(E, K, 6).withAuxLossCoef(0.0); }

    static boolean zero(float[] g) { for (float v : g) if (v != 0) return false; return true; }

    @Test
    void orthogonalityLossReachesExpertsAndInputButNotTheRouter() {
        for (String mode : new String[]{"subspace", "pairwise"}) {
            Run r = auxOnly(noAux(), new ExpertLossConfig(1.0, mode, 0, "per_token"));
            assertTrue(zero(r.grads().get("moe.router")), mode + ": router got gradient from L_o");
            for (String w : new String[]{"moe.w1", "moe.w2", "moe.w3", "x"})
                assertFalse(zero(r.grads().get(w)), mode + ": " + w + " got no gradient from L_o");
        }
    }

    /** The layer's whole expert-loss term against finite differences, through the fused experts' slot outputs, k = E. */
    @Test
    void layerTermGradientsMatchFiniteDifferencesWithKEqualToE() {
        for (boolean detach : new boolean[]{false, true})
            for (int t : new int[]{1, 5}) {
                MoeConfig c = MoeConfig.defaults(3, 3, 4).withAuxLossCoef(0.0)
                        .withExpertLosses(new ExpertLossConfig(1.0, "subspace", 1.0, "per_expert", detach, false));
                Parameters params = new Parameters();
                MoeFeedForward ffn = new MoeFeedForward("moe.", 0, 5, c, 0.5, 0.5, params, new Random(4), Routers.create(c, 0));
                Tensor x = Tensor.randn(new Random(6), 1f, t, 5).requiresGrad(true);
                Map<String, Tensor> p = params.asMap();
                if (detach) x.requiresGrad(false); // a stop-gradient: x's true derivative is not what backward gives, by design
                moelab.tensor.GradCheck.check("detach=" + detach + " T=" + t, new moelab.tensor.GradCheck.Tolerance(1e-3, 3e-3, 3e-2),
                        in -> ffn.forward(in[0], TokenInfo.of(1, t), true).auxLoss(),
                        x, p.get("moe.router"), p.get("moe.w1"), p.get("moe.w2"), p.get("moe.w3"));
            }
    }

    @Test
    void detachedInputKeepsTheOrthogonalityGradientInTheExperts() {
        Run attached = auxOnly(noAux(), new ExpertLossConfig(1.0, "subspace", 0, "per_token", false, false));
        Run detached = auxOnly(noAux(), new ExpertLossConfig(1.0, "subspace", 0, "per_token", true, false));
        assertTrue(zero(detached.grads().get("x")));
        assertEquals(attached.aux(), detached.aux());
        for (String w : new String[]{"moe.w1", "moe.w2", "moe.w3"})
            assertArrayEquals(attached.grads().get(w), detached.grads().get(w), w);
    }

    @Test
    void varianceAndBalancingLossesReachOnlyTheRouter() {
        MoeConfig lbl = MoeConfig.defaults(E, K, 6).withAuxLossCoef(0.1);
        Run[] runs = {
                auxOnly(noAux(), new ExpertLossConfig(0, "subspace", 1.0, "per_token")),
                auxOnly(noAux(), new ExpertLossConfig(0, "subspace", 1.0, "per_expert")),
                auxOnly(lbl, ExpertLossConfig.off())};
        for (Run r : runs) {
            assertFalse(zero(r.grads().get("moe.router")), "router got no gradient");
            for (String w : new String[]{"moe.w1", "moe.w2", "moe.w3"}) assertTrue(zero(r.grads().get(w)), w + " got gradient");
        }
    }

    @Test
    void theLayerAddsBetaTimesLoMinusGammaTimesLv() {
        MoeConfig lbl = MoeConfig.defaults(E, K, 6).withAuxLossCoef(0.1);
        double base = auxOnly(lbl, ExpertLossConfig.off()).aux();
        Run r = auxOnly(lbl, new ExpertLossConfig(0.5, "subspace", 2.0, "per_token"));
        ExpertLosses.Values v = r.losses().lastValues().get(0);
        assertTrue(v.orth() > 0 && v.var() > 0);
        assertEquals(base + 0.5 * v.orth() - 2.0 * v.var(), r.aux(), 1e-5);
    }

    @Test
    void lossesOffIsBitExactWhateverTheOtherOptions() {
        MoeConfig lbl = MoeConfig.defaults(E, K, 6).withAuxLossCoef(0.1).withZLossCoef(1e-3);
        Run off = auxOnly(lbl, ExpertLossConfig.off());
        Run zeroCoefs = auxOnly(lbl, new ExpertLossConfig(0, "pairwise", 0, "per_expert", true, true));
        assertEquals(Double.doubleToRawLongBits(off.aux()), Double.doubleToRawLongBits(zeroCoefs.aux()));
        for (String n : off.grads().keySet()) assertArrayEquals(off.grads().get(n), zeroCoefs.grads().get(n), n);
        assertTrue(zeroCoefs.losses().lastValues().isEmpty());
    }

    @Test
    void autoScalePicksPowersOfTenOnceAndTheStateRoundTrips() {
        Run r = auxOnly(noAux(), new ExpertLossConfig(1e-4, "subspace", 1e-3, "per_token", false, true));
        ExpertLosses l = r.losses();
        assertTrue(l.resolved());
        ExpertLosses.Values v = l.lastValues().get(0);
        for (double[] cv : new double[][]{{l.orthCoef(), v.orth(), 1e-4}, {l.varCoef(), v.var(), 1e-3}}) {
            double exponent = Math.log10(cv[0]);
            assertEquals(Math.round(exponent), exponent, 1e-9, "not a power of ten: " + cv[0]);
            double ratio = cv[0] * cv[1] / cv[2];   // weighted term over its target
            assertTrue(ratio > 1 / Math.sqrt(10) - 1e-9 && ratio < Math.sqrt(10) + 1e-9, "term " + cv[0] * cv[1] + " vs target " + cv[2]);
        }
        ExpertLosses fresh = new ExpertLosses(l.config());
        assertFalse(fresh.resolved());
        fresh.loadState(l.state());
        assertTrue(fresh.resolved());
        assertEquals((float) l.orthCoef(), (float) fresh.orthCoef());
        assertEquals((float) l.varCoef(), (float) fresh.varCoef());
        assertEquals(1e-2, ExpertLosses.powerOfTen(1e-3, 0.08));
        assertEquals(1e-3, ExpertLosses.powerOfTen(1e-3, 0.0), "no initial value: the target itself");
    }
}
