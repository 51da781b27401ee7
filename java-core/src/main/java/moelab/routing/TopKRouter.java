package moelab.routing;

import moelab.ops.Elementwise;
import moelab.ops.Indexing;
import moelab.ops.Join;
import moelab.ops.Reduce;
import moelab.ops.Softmax;
import moelab.ops.TopK;
import moelab.tensor.Tensor;

/**
 * The plain token-choice router: p = softmax(z), the k largest p per token, gates p at those
 * experts (or softmax over the k selected logits when normTopK, as Mixtral does), with the
 * Switch/GShard load-balancing loss and the router z-loss over the micro-batch.
 *
 * <p>LBL = coef * E * sum_i f_i * P_i, f_i = (routes to i) / (k T) held constant, P_i = mean_t p_ti;
 * equal to coef at perfect balance. z-loss = coef * mean_t logsumexp(z_t)^2.
 */
public final class TopKRouter implements Router {
    private final boolean normTopK;
    private final double auxLossCoef, zLossCoef;

    public TopKRouter(boolean normTopK, double auxLossCoef, double zLossCoef) {
        this.normTopK = normTopK;
        this.auxLossCoef = auxLossCoef;
        this.zLossCoef = zLossCoef;
    }

    @Override public String name() { return "topk"; }

    // logits [T, E] -> experts [T*k], gates [T, k], aux loss scalar
    @Override
    public Routing route(RoutingInput in) {
        Tensor logits = in.logits();
        int t = in.numTokens(), e = in.numExperts(), k = in.topK();
        Tensor probs = Softmax.softmax(logits, -1);                        // [T, E]
        TopK top = TopK.topk(probs, k);
        int[] experts = top.indices();
        Tensor gates = normTopK
                ? Softmax.softmax(Indexing.gather(logits, experts, k), -1)  // [T, k]
                : top.values();                                             // [T, k]
        Tensor aux = null;
        if (in.training()) {
            if (auxLossCoef > 0 && t > 0) aux = add(aux, loadBalancingLoss(probs, experts, k, auxLossCoef));
            if (zLossCoef > 0 && t > 0) aux = add(aux, zLoss(logits, zLossCoef));
        }
        return new Routing(experts, gates, aux, probs);
    }

    /** coef * E * sum_i f_i * P_i over the given tokens; probs [T, E], experts [T*k]. */
    public static Tensor loadBalancingLoss(Tensor probs, int[] experts, int k, double coef) {
        int t = probs.dim(0), e = probs.dim(1);
        float[] f = new float[e];
        for (int x : experts) f[x] += 1f / ((float) k * t);
        Tensor meanProb = Reduce.mean(probs, 0, false);                     // [E]
        Tensor dot = Reduce.sumAll(Elementwise.mul(meanProb, Tensor.of(f, e)));
        return Elementwise.mulScalar(dot, (float) (coef * e));
    }

    /** coef * mean_t logsumexp(z_t)^2; logits [T, E]. lse_t = z_t0 - logsoftmax(z_t)_0. */
    public static Tensor zLoss(Tensor logits, double coef) {
        Tensor lse = Elementwise.sub(Join.narrow(logits, 1, 0, 1), Join.narrow(Softmax.logSoftmax(logits, -1), 1, 0, 1));
        return Elementwise.mulScalar(Reduce.meanAll(Elementwise.square(lse)), (float) coef);
    }

    private static Tensor add(Tensor a, Tensor b) { return a == null ? b : Elementwise.add(a, b); }
}
