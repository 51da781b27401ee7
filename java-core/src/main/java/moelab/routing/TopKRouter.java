package moelab.routing;

import moelab.ops.Activations;
import moelab.ops.Elementwise;
import moelab.ops.Indexing;
import moelab.ops.Join;
import moelab.ops.Reduce;
import moelab.ops.Softmax;
import moelab.ops.TopK;
import moelab.tensor.Tensor;

import java.util.Map;

/**
 * The learned token-choice router (config name "topk"): p = softmax(z); training selection by the
 * balancing method over the scope's token groups ({@link BalancingMethod}, {@link Scope}); eval
 * selection greedy TopK(p) (EB may add its bias). Gates always come from the unbiased router at
 * the selected experts: with normTopK softmax over the k selected logits, i.e. p renormalised over
 * the selected set (Mixtral; the testbed's default), else the raw p values (Switch). Adds the
 * method's loss (LBL) and the optional router z-loss over the forward pass.
 *
 * <p>With sigmoid scores (DSV3, {@link Balancing#sigmoid}) s = sigmoid(z) replaces p: selection by the
 * method on s, gates = the selected s normalised to sum 1 times gateScale (normTopK does not apply),
 * and the probs handed on (capacity, statistics, the method's loss) are s normalised over all E.
 *
 * <p>LBL = coef * E * sum_i f_i * P_i, f_i = (routes to i) / (k T) held constant, P_i = mean_t p_ti;
 * equal to coef at perfect balance. z-loss = coef * mean_t logsumexp(z_t)^2.
 */
public final class TopKRouter implements Router {
    private final boolean normTopK;
    private final double zLossCoef;
    private final BalancingMethod method;
    private final Scope scope;
    private final int groupSequences;
    private final boolean sigmoid;
    private final double gateScale;

    /** LBL with coefficient auxLossCoef over the whole forward pass (the plain Switch router). */
    public TopKRouter(boolean normTopK, double auxLossCoef, double zLossCoef) {
        this(normTopK, zLossCoef, new LoadBalancingLoss(auxLossCoef, Scope.MICRO_BATCH), Scope.MICRO_BATCH, 0);
    }

    public TopKRouter(boolean normTopK, double zLossCoef, BalancingMethod method, Scope scope, int groupSequences) {
        this(normTopK, zLossCoef, method, scope, groupSequences, false, 1.0);
    }

    /** sigmoid: score experts with sigmoid(z) and gate with gateScale * s_sel / sum s_sel (DeepSeek-V3). */
    public TopKRouter(boolean normTopK, double zLossCoef, BalancingMethod method, Scope scope, int groupSequences,
                      boolean sigmoid, double gateScale) {
        this.sigmoid = sigmoid;
        this.gateScale = gateScale;
        this.normTopK = normTopK;
        this.zLossCoef = zLossCoef;
        this.method = method;
        this.scope = scope;
        this.groupSequences = groupSequences;
    }

    @Override public String name() { return "topk"; }

    public BalancingMethod method() { return method; }
    public Scope scope() { return scope; }

    // logits [T, E] -> experts [T*k], gates [T, k], aux loss scalar
    @Override
    public Routing route(RoutingInput in) {
        Tensor logits = in.logits();
        int t = in.numTokens(), e = in.numExperts(), k = in.topK();
        Tensor scores = sigmoid ? Activations.sigmoid(logits) : Softmax.softmax(logits, -1);   // [T, E]
        Tensor probs = sigmoid ? Elementwise.div(scores, Reduce.sum(scores, 1, true)) : scores; // [T, E] rows sum to 1
        int[] experts = TopK.topk(scores, k).indices();                    // plain TopK(score)
        int[] groups = scope.groups(in.tokens(), t, groupSequences);
        if (t > 0) {
            float[] p = scores.toArray();
            if (in.training()) {
                float[] z = logits.toArray();
                for (int g = 0; g + 1 < groups.length; g++) method.select(z, p, groups[g], groups[g + 1], e, k, experts);
            } else {
                int[] ev = method.evalSelect(p, t, e, k);
                if (ev != null) experts = ev;
            }
        }
        Tensor gates;
        if (sigmoid) {
            Tensor sel = Indexing.gather(scores, experts, k);                                  // [T, k]
            gates = Elementwise.mulScalar(Elementwise.div(sel, Reduce.sum(sel, 1, true)), (float) gateScale); // [T, k] / [T, 1]
        } else {
            gates = normTopK
                    ? Softmax.softmax(Indexing.gather(logits, experts, k), -1)  // [T, k] p renormalised over the selected set
                    : Indexing.gather(probs, experts, k);                       // [T, k] raw p
        }
        Tensor aux = null;
        if (in.training() && t > 0) {
            aux = method.auxLoss(probs, experts, k, groups, Scope.SEQUENCE.groups(in.tokens(), t, 0));
            if (zLossCoef > 0) aux = add(aux, zLoss(logits, zLossCoef));
        }
        return new Routing(experts, gates, aux, probs);
    }

    @Override public void useRanks(moelab.dist.Collective ranks) { method.useRanks(ranks); }
    @Override public void endStep() { method.endStep(); }
    @Override public Map<String, float[]> state() { return method.state(); }
    @Override public void loadState(Map<String, float[]> state) { method.loadState(state); }

    /** coef * E * sum_i f_i * P_i over the given tokens as one group; probs [T, E], experts [T*k]. */
    public static Tensor loadBalancingLoss(Tensor probs, int[] experts, int k, double coef) {
        return new LoadBalancingLoss(coef, Scope.MICRO_BATCH).auxLoss(probs, experts, k, new int[]{0, probs.dim(0)});
    }

    /** coef * mean_t logsumexp(z_t)^2; logits [T, E]. lse_t = z_t0 - logsoftmax(z_t)_0. */
    public static Tensor zLoss(Tensor logits, double coef) {
        Tensor lse = Elementwise.sub(Join.narrow(logits, 1, 0, 1), Join.narrow(Softmax.logSoftmax(logits, -1), 1, 0, 1));
        return Elementwise.mulScalar(Reduce.meanAll(Elementwise.square(lse)), (float) coef);
    }

    private static Tensor add(Tensor a, Tensor b) { return a == null ? b : Elementwise.add(a, b); }
}
