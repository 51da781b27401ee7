package moelab.nn;

import moelab.tensor.Autograd;
import moelab.tensor.GradCheck;
import moelab.tensor.Parameters;
import moelab.ops.Elementwise;
import moelab.ops.Join;
import moelab.ops.Reduce;
import moelab.routing.DropPolicy;
import moelab.routing.TokenInfo;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The MoE layer with the fused experts against the same layer with the composed reference. */
class MoeFeedForwardTest {

    record Layer(MoeFeedForward ffn, Parameters params) {}

    static Layer layer(MoeConfig cfg, int d, long seed) {
        Parameters params = new Parameters();
        MoeFeedForward ffn = new MoeFeedForward("moe.", 0, d, cfg, 0.5, 0.5, params, new Random(seed), Routers.create(cfg, 0));
        return new Layer(ffn, params);
    }

    /** y, aux and the gradients of x and every parameter for loss = sum(y * w) + aux. */
    static Map<String, float[]> run(Layer l, Tensor x, TokenInfo tokens, boolean training, boolean composed) {
        l.params.asMap().values().forEach(Tensor::clearGrad);
        x.clearGrad();
        MoeFeedForward.Output o = l.ffn.forward(x, tokens, training, composed);
        assertEquals(composed, o.experts() == null);
        Random rng = new Random(5);
        Tensor w = Tensor.randn(rng, 1f, o.y().shape());
        Tensor loss = Reduce.sumAll(Elementwise.mul(o.y(), w));
        if (o.auxLoss() != null) loss = Elementwise.add(loss, o.auxLoss());
        loss.backward();
        Map<String, float[]> r = new java.util.LinkedHashMap<>();
        r.put("y", o.y().toArray());
        r.put("aux", o.auxLoss() == null ? new float[0] : o.auxLoss().toArray());
        r.put("kept", toFloats(o.routing().kept()));
        r.put("dx", x.grad().clone());
        for (var e : l.params.asMap().entrySet())
            r.put("d" + e.getKey(), e.getValue().grad() == null ? new float[e.getValue().numel()] : e.getValue().grad().clone());
        return r;
    }

    static float[] toFloats(boolean[] b) {
        float[] f = new float[b.length];
        for (int i = 0; i < b.length; i++) f[i] = b[i] ? 1 : 0;
        return f;
    }

    static void assertSameLayer(String what, MoeConfig cfg, int d, int t, boolean training) {
        Layer l = layer(cfg, d, 21);
        Tensor x = Tensor.randn(new Random(22), 1f, t, d).requiresGrad(true);
        TokenInfo tokens = TokenInfo.of(1, t);
        Map<String, float[]> fused = run(l, x, tokens, training, false), ref = run(l, x, tokens, training, true);
        assertEquals(ref.keySet(), fused.keySet());
        for (String k : ref.keySet()) MoeExpertsTest.assertClose(ref.get(k), fused.get(k), 2e-5f, what + " " + k);
        assertTrue(fused.containsKey("dmoe.router") && fused.containsKey("dmoe.w1") && fused.containsKey("dmoe.w2"));
    }

    @Test
    void fusedEqualsComposedDropless() {
        assertSameLayer("dropless E4 k2", MoeConfig.defaults(4, 2, 5).withZLossCoef(1e-3), 7, 9, true);
    }

    @Test
    void fusedEqualsComposedWithDropsNormTopKAndSharedExpert() {
        MoeConfig cfg = MoeConfig.defaults(4, 2, 3).withSharedExperts(1).withNormTopK(true).withCapacityFactor(0.5)
                .withZLossCoef(1e-3);
        assertSameLayer("cf 0.5 probs", cfg, 5, 12, true);
        assertSameLayer("cf 0.5 position", MoeConfig.defaults(4, 2, 3).withCapacityFactor(0.5).withDropPolicy(DropPolicy.POSITION), 5, 12, true);
        assertSameLayer("eval", cfg, 5, 12, false);
    }

    @Test
    void fusedEqualsComposedEdgeShapes() {
        assertSameLayer("T=1", MoeConfig.defaults(3, 2, 4), 5, 1, true);
        assertSameLayer("k=E", MoeConfig.defaults(3, 3, 4), 5, 6, true);
        assertSameLayer("k=1 E=8 (some experts idle)", MoeConfig.defaults(8, 1, 3), 3, 4, true);
    }

    @Test
    void droppedTokenKeepsOnlyTheResidual() {
        // cf so small that most routes drop: any token with all routes dropped gets exactly 0 from the layer
        MoeConfig cfg = MoeConfig.defaults(4, 2, 3).withCapacityFactor(0.25).withDropPolicy(DropPolicy.POSITION).withAuxLossCoef(0);
        Layer l = layer(cfg, 5, 31);
        int t = 16, d = 5;
        Tensor x = Tensor.randn(new Random(32), 1f, t, d);
        MoeFeedForward.Output o = l.ffn.forward(x, TokenInfo.of(2, 8), true);
        boolean[] kept = o.routing().kept();
        float[] y = o.y().toArray();
        int fullyDropped = 0;
        for (int tok = 0; tok < t; tok++) {
            if (kept[2 * tok] || kept[2 * tok + 1]) continue;
            fullyDropped++;
            for (int i = 0; i < d; i++) assertEquals(0f, y[tok * d + i]);
        }
        assertTrue(fullyDropped > 0, "the case must drop some token entirely");
    }

    /**
     * Finite differences through the whole layer (router, top-k gates, LBL and z-loss, capacity,
     * experts, shared expert). Routing is piecewise constant, so the case is checked first to
     * have a clear margin (0.1) between the k-th and (k+1)-th logit of every token: a perturbation
     * of h = 1e-2 moves a logit by about 0.03 at most here, so it cannot flip a choice.
     */
    @Test
    void gradCheckWholeLayer() {
        for (boolean normTopK : new boolean[]{false, true}) {
            MoeConfig cfg = MoeConfig.defaults(4, 2, 3).withSharedExperts(1).withNormTopK(normTopK).withCapacityFactor(0.75)
                    .withDropPolicy(DropPolicy.POSITION).withAuxLossCoef(0.1).withZLossCoef(0.05);
            int d = 4, t = 6;
            Layer l = layer(cfg, d, 41);
            Tensor x = tokensWithRoutingMargin(new Random(42), t, d, l.params.get("moe.router"), 2, 0.1f).requiresGrad(true);
            List<Tensor> inputs = new ArrayList<>();
            inputs.add(x);
            inputs.addAll(l.params.asMap().values());
            boolean[] sawDrop = {false};
            GradCheck.check("MoeFeedForward normTopK=" + normTopK, in -> {
                MoeFeedForward.Output o = l.ffn.forward(in[0], TokenInfo.of(1, t), true);
                for (boolean k : o.routing().kept()) sawDrop[0] |= !k;
                return Join.concat(0, o.y().reshape(t * d), o.auxLoss().reshape(1));
            }, inputs.toArray(new Tensor[0]));
            assertTrue(sawDrop[0], "capacity should drop routes in this case");
        }
    }

    /**
     * x [t, d] with N(0,1) rows drawn until each row's k-th largest router logit exceeds its
     * (k+1)-th by at least margin (rows too close to a routing tie are redrawn).
     */
    static Tensor tokensWithRoutingMargin(Random rng, int t, int d, Tensor router, int k, float margin) {
        Tensor x = Tensor.zeros(t, d);
        int e = router.dim(1);
        float[] w = router.toArray();
        for (int row = 0; row < t; ) {
            float[] v = new float[d];
            for (int i = 0; i < d; i++) v[i] = (float) rng.nextGaussian();
            float[] z = new float[e];
            for (int j = 0; j < e; j++) for (int i = 0; i < d; i++) z[j] += v[i] * w[i * e + j];
            Arrays.sort(z);
            if (z[e - k] - z[e - k - 1] < margin) continue;
            System.arraycopy(v, 0, x.data(), row * d, d);
            row++;
        }
        return x;
    }

    @Test
    void slotOutputsReachTheCaller() {
        Layer l = layer(MoeConfig.defaults(4, 2, 3), 5, 51);
        MoeFeedForward.Output o = l.ffn.forward(Tensor.randn(new Random(52), 1f, 3, 5), TokenInfo.of(1, 3), true);
        Tensor ys = o.experts().slotOutputs();
        assertArrayEquals(new int[]{6, 5}, ys.shape());
        Autograd.backward(Reduce.sumAll(Elementwise.square(ys)));
        assertNotNull(l.params.get("moe.w1").grad());
        assertNull(l.params.get("moe.router").grad(), "slot outputs do not depend on the gates");
    }
}
