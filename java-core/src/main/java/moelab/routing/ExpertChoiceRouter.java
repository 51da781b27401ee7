package moelab.routing;

import moelab.ops.Softmax;
import moelab.tensor.Tensor;

/**
 * Expert-choice routing (Zhou et al. 2022; config method "ec"): p = softmax(z) over experts; at
 * training, in each scope group of T_G tokens every expert takes its C = min(T_G, ceil(cf * k * T_G / E))
 * tokens of highest p_te (ties to the lower token index), so a token may get zero, one or several
 * experts and never the same expert twice; a token no expert took passes through the residual only.
 * Gates are p_te of the taken pairs (no renormalisation, as in the paper). The routing has one slot
 * per (token, expert) pair, slot t*E + e, with {@link Routing#taken} marking the E*C taken ones.
 *
 * <p>Causal leak: whether token t is taken depends on the scores of every token of its group,
 * later positions included, so at training a token's output carries information about the future
 * of its sequence (and of the other sequences of the group). Eval therefore routes token by token,
 * with no look-ahead: token-choice TopK(p) on the same scores, gates as model.moe.norm_top_k says.
 * The comparison with token-choice methods is at that eval rule.
 */
public final class ExpertChoiceRouter implements Router {
    private final double capacityFactor;
    private final double zLossCoef;
    private final Scope scope;
    private final int groupSequences;
    private final TopKRouter evalRouter;

    public ExpertChoiceRouter(double capacityFactor, boolean normTopK, double zLossCoef, Scope scope, int groupSequences) {
        if (!(capacityFactor > 0)) throw new IllegalArgumentException("expert choice: capacity factor must be > 0, got " + capacityFactor);
        this.capacityFactor = capacityFactor;
        this.zLossCoef = zLossCoef;
        this.scope = scope;
        this.groupSequences = groupSequences;
        this.evalRouter = new TopKRouter(normTopK, 0, new NoBalancing(), scope, groupSequences);
    }

    @Override public String name() { return "ec"; }

    /** Tokens each expert takes in a group of T_G tokens: min(T_G, ceil(cf * k * T_G / E)). */
    public static int perExpert(double capacityFactor, int topK, int tokens, int experts) {
        return Math.min(tokens, Capacity.perExpert(capacityFactor, topK, tokens, experts));
    }

    // training: logits [T, E] -> slots [T*E] (slot t*E + e is expert e), taken [T*E], gates = p [T, E]
    // eval: token-choice TopK(p) -> experts [T*k], gates [T, k]
    @Override
    public Routing route(RoutingInput in) {
        if (!in.training()) return evalRouter.route(in);
        Tensor logits = in.logits();
        int t = in.numTokens(), e = in.numExperts(), k = in.topK();
        Tensor probs = Softmax.softmax(logits, -1);                        // [T, E]
        int[] experts = new int[t * e];
        for (int s = 0; s < experts.length; s++) experts[s] = s % e;
        boolean[] taken = t == 0 ? new boolean[0] : take(probs.toArray(), scope.groups(in.tokens(), t, groupSequences), e, k, capacityFactor);
        Tensor aux = zLossCoef > 0 && t > 0 ? TopKRouter.zLoss(logits, zLossCoef) : null;
        return new Routing(experts, probs, aux, probs, taken);
    }

    /** taken [T*E] for p [T*E]: in each group [groups[g], groups[g+1]) each expert's top-C tokens by p. */
    public static boolean[] take(float[] p, int[] groups, int e, int k, double capacityFactor) {
        int t = p.length / e;
        boolean[] taken = new boolean[t * e];
        for (int g = 0; g + 1 < groups.length; g++) {
            int from = groups[g], tg = groups[g + 1] - from;
            if (tg == 0) continue;
            int c = perExpert(capacityFactor, k, tg, e);
            Integer[] order = new Integer[tg];
            for (int x = 0; x < e; x++) {
                final int ex = x;
                for (int i = 0; i < tg; i++) order[i] = from + i;
                // the expert's tokens by descending p, ties to the lower token (a stable sort keeps token order)
                java.util.Arrays.sort(order, (a, b) -> Float.compare(p[b * e + ex], p[a * e + ex]));
                for (int j = 0; j < c; j++) taken[order[j] * e + x] = true;
            }
        }
        return taken;
    }
}
