package moelab.routing;

import java.util.Arrays;
import java.util.Map;

/**
 * EB, auxiliary-loss-free balancing (Wang et al. 2024, DeepSeek-V3): selection TopK(p + b), gates
 * from the unbiased p; no loss. At the end of each scope window, outside autograd:
 * b_i += u * sign(mean_j c_j - c_i) from the window's requested routes c, so an overloaded expert's
 * bias falls. Windows: SEQUENCE = each sequence, MICRO_BATCH = each (emulated) micro-batch, both in
 * token order inside the forward pass (later groups see the updated bias); GLOBAL = the counts of
 * every training pass of the optimizer step summed, one update in {@link #endStep}.
 * The bias b [E] (starts at 0) is checkpointed state ("expert_bias"). Eval routing is plain
 * TopK(p) unless biasAtEval.
 *
 * <p>Data-parallel ranks: GLOBAL sums the step's counts over the ranks before its one update.
 * SEQUENCE and MICRO_BATCH windows stay local (each rank updates its copy after each of its own
 * windows, seeing only its own updates during the step); at the step's end the updates of all
 * ranks' windows are summed into every copy, so the bias stays identical on every rank and moves
 * by one update per window of the global batch, as in one process.
 */
public final class ExpertBias implements BalancingMethod {
    public static final String STATE_KEY = "expert_bias";
    private final Scope scope;
    private final double rate;
    private final boolean biasAtEval;
    private final float[] bias;
    private final long[] stepCounts;
    private moelab.dist.Collective ranks = moelab.dist.Collective.single();
    private float[] biasAtStepStart;    // local scopes with ranks: where this step's updates started

    public ExpertBias(Scope scope, double rate, int numExperts, boolean biasAtEval) {
        this.scope = scope;
        this.rate = rate;
        this.biasAtEval = biasAtEval;
        this.bias = new float[numExperts];
        this.stepCounts = new long[numExperts];
    }

    @Override public String name() { return "eb"; }

    @Override
    public void select(float[] z, float[] p, int from, int to, int e, int k, int[] experts) {
        if (to == from) return;
        biasedTopK(p, from, to, e, k, experts);
        long[] c = BalancingMethod.counts(experts, from, to, k, e);
        if (scope == Scope.GLOBAL) for (int i = 0; i < e; i++) stepCounts[i] += c[i];
        else update(c);
    }

    @Override
    public int[] evalSelect(float[] p, int tokens, int e, int k) {
        if (!biasAtEval) return null;
        int[] out = new int[tokens * k];
        biasedTopK(p, 0, tokens, e, k, out);
        return out;
    }

    private void biasedTopK(float[] p, int from, int to, int e, int k, int[] experts) {
        double[] s = new double[e];
        for (int t = from; t < to; t++) {
            for (int i = 0; i < e; i++) s[i] = (double) p[t * e + i] + bias[i];   // scores + bias, not logits
            BalancingMethod.topK(s, 0, e, k, experts, t * k);
        }
    }

    /** b_i += u * sign(mean c - c_i). */
    void update(long[] c) {
        double mean = 0;
        for (long x : c) mean += x;
        mean /= c.length;
        for (int i = 0; i < c.length; i++) bias[i] += (float) (rate * Math.signum(mean - c[i]));
    }

    @Override
    public void useRanks(moelab.dist.Collective ranks) {
        this.ranks = ranks;
        this.biasAtStepStart = ranks.size() > 1 ? bias.clone() : null;
    }

    @Override
    public void endStep() {
        if (scope != Scope.GLOBAL) {
            if (ranks.size() > 1) sumUpdatesOverRanks();
            return;
        }
        ranks.sumInPlace(stepCounts);
        long total = 0;
        for (long x : stepCounts) total += x;
        if (total > 0) update(stepCounts);
        Arrays.fill(stepCounts, 0);
    }

    /** b := b_start + sum over ranks of (b_rank - b_start); in double, so every rank computes the same bits. */
    private void sumUpdatesOverRanks() {
        double[] delta = new double[bias.length];
        for (int i = 0; i < bias.length; i++) delta[i] = (double) bias[i] - biasAtStepStart[i];
        ranks.sumInPlace(delta);
        for (int i = 0; i < bias.length; i++) bias[i] = (float) (biasAtStepStart[i] + delta[i]);
        System.arraycopy(bias, 0, biasAtStepStart, 0, bias.length);
    }

    /** A copy of the current bias b [E]. */
    public float[] bias() { return bias.clone(); }

    @Override public Map<String, float[]> state() { return Map.of(STATE_KEY, bias.clone()); }

    @Override
    public void loadState(Map<String, float[]> state) {
        float[] b = state.get(STATE_KEY);
        if (b == null || state.size() != 1)
            throw new IllegalArgumentException("balancing method 'eb' expects exactly the state entry '" + STATE_KEY + "', got " + state.keySet());
        if (b.length != bias.length)
            throw new IllegalArgumentException("balancing method 'eb': " + STATE_KEY + " has " + b.length + " values, the layer has " + bias.length + " experts");
        System.arraycopy(b, 0, bias, 0, b.length);
        if (biasAtStepStart != null) System.arraycopy(b, 0, biasAtStepStart, 0, b.length);
    }
}
