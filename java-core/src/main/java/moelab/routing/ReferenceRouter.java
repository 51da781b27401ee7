package moelab.routing;

import moelab.ops.Indexing;
import moelab.ops.Softmax;
import moelab.tensor.Tensor;

import java.util.Arrays;

/**
 * The testbed's reference router (an oracle, config name "reference"): domain d owns the block of
 * B = E/D experts {d*B, ..., d*B + B - 1}; each token picks the top-k of its learned logits inside
 * its domain's block (all other experts masked to -inf), at train AND eval, in every MoE layer.
 * Gates: "learned" = softmax over the selected experts' logits (the renormalised gates of the
 * learned runs; with B = k the whole block), or "uniform" = 1/k (no gradient reaches the router).
 * No balancing loss; the MoE layer's capacity setting still applies (the reference runs use dropless).
 * Needs TokenInfo.domains: the data must carry per-token domain labels.
 */
public final class ReferenceRouter implements Router {
    private final int domains;
    private final boolean uniformGates;

    public ReferenceRouter(int domains, boolean uniformGates) {
        this.domains = domains;
        this.uniformGates = uniformGates;
    }

    @Override public String name() { return "reference"; }

    // logits [T, E], domains [T] -> experts [T*k] inside each token's block, gates [T, k]
    @Override
    public Routing route(RoutingInput in) {
        Tensor logits = in.logits();
        int t = in.numTokens(), e = in.numExperts(), k = in.topK();
        int[] dom = in.tokens() == null ? null : in.tokens().domains();
        if (dom == null)
            throw new IllegalArgumentException("reference router: the tokens carry no domain labels (TokenInfo.domains is null); "
                    + "the data must carry per-token domain labels at train and eval");
        if (dom.length != t)
            throw new IllegalArgumentException("reference router: " + dom.length + " domain labels for " + t + " tokens");
        if (e % domains != 0 || k > e / domains)
            throw new IllegalArgumentException("reference router: D=" + domains + " domains must divide E=" + e + " experts and k=" + k + " <= E/D");
        int block = e / domains;
        float[] z = logits.toArray();
        int[] experts = new int[t * k];
        double[] row = new double[e];
        for (int x = 0; x < t; x++) {
            int d = dom[x];
            if (d < 0 || d >= domains)
                throw new IllegalArgumentException("reference router: token " + x + " has domain " + d
                        + ", outside [0, " + domains + ") (model.moe.balance.domains=" + domains + ")");
            Arrays.fill(row, Double.NEGATIVE_INFINITY);
            for (int i = d * block; i < (d + 1) * block; i++) row[i] = z[x * e + i];
            BalancingMethod.topK(row, 0, e, k, experts, x * k);
        }
        Tensor gates;
        if (uniformGates) {
            float[] g = new float[t * k];
            Arrays.fill(g, 1f / k);
            gates = Tensor.of(g, t, k);
        } else {
            gates = Softmax.softmax(Indexing.gather(logits, experts, k), -1);   // [T, k]
        }
        return new Routing(experts, gates, null, Softmax.softmax(logits, -1));
    }
}
