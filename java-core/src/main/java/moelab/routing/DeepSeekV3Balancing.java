package moelab.routing;

import moelab.tensor.Tensor;

import java.util.Map;

/**
 * DSV3, DeepSeek-V3's auxiliary-loss-free routing on sigmoid scores s = sigmoid(z) (the router,
 * {@link TopKRouter}, computes them because {@link Balancing#sigmoid} says so): selection
 * TopK(s + b) with the once-per-step sign update of {@link ExpertBias} (bias kept at eval by
 * default), gates = the selected s normalised to sum 1 times a scaling factor (the router), and the
 * optional complementary sequence-wise balance loss
 * L = alpha * mean_seq [ sum_i f_i P_i ], f_i = E / (k T_seq) * (routes to i in the sequence),
 * P_i = mean_t s'_ti with s' = s / sum_j s_tj (the normalised scores the router hands over as probs),
 * i.e. LBL over each sequence whatever the bias scope.
 */
public final class DeepSeekV3Balancing implements BalancingMethod {
    private final ExpertBias bias;
    private final LoadBalancingLoss seqLoss;

    public DeepSeekV3Balancing(ExpertBias bias, double seqAuxCoef) {
        this.bias = bias;
        this.seqLoss = seqAuxCoef > 0 ? new LoadBalancingLoss(seqAuxCoef, Scope.SEQUENCE) : null;
    }

    @Override public String name() { return "dsv3"; }

    /** p here holds the raw sigmoid scores s [T*E]. */
    @Override
    public void select(float[] z, float[] p, int from, int to, int e, int k, int[] experts) {
        bias.select(z, p, from, to, e, k, experts);
    }

    @Override public int[] evalSelect(float[] p, int tokens, int e, int k) { return bias.evalSelect(p, tokens, e, k); }

    /** probs: the normalised scores s' [T, E]; groups ignored, the loss is per sequence. */
    @Override
    public Tensor auxLoss(Tensor probs, int[] experts, int k, int[] groups, int[] sequences) {
        return seqLoss == null ? null : seqLoss.auxLoss(probs, experts, k, sequences);
    }

    @Override public void endStep() { bias.endStep(); }
    @Override public void useRanks(moelab.dist.Collective ranks) { bias.useRanks(ranks); }

    /** The bias method inside (tests, diagnostics). */
    public ExpertBias expertBias() { return bias; }

    @Override public Map<String, float[]> state() { return bias.state(); }
    @Override public void loadState(Map<String, float[]> state) { bias.loadState(state); }
}
