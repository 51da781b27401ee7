package moelab.routing;

import java.util.Arrays;
import java.util.Map;

/**
 * EB, auxiliary-loss-free balancing (Wang et al. 2024, DeepSeek-V3): selection TopK(s + b) on the
 * router's scores s (softmax p, or sigmoid for {@link DeepSeekV3Balancing}), gates from the unbiased
 * scores; no loss. The bias moves once per optimizer step, in {@link #endStep}, outside autograd, as
 * DeepSeek-V3 runs it: b_i += u * sign(mean_j c_j - c_i) from the step's requested routes c, so an
 * overloaded expert's bias falls. The scope changes what is counted, not how often:
 * GLOBAL counts every route of every training pass of the step; SEQUENCE / MICRO_BATCH take the sign
 * in each sequence / (emulated) micro-batch and average the signs over the step's groups, so the
 * step's change of b_i is at most u whatever the scope. Every token of a step sees the bias of the
 * previous step. u is in score units: {@link Balancing} passes bias_rate x the score scale (1/E for
 * softmax, 1/2 for sigmoid). The bias b [E] (starts at 0) is
 * checkpointed state ("expert_bias"). Eval routing is TopK(s + b) when biasAtEval, else TopK(s).
 *
 * <p>Data-parallel ranks: before the step's one update, GLOBAL sums the step's counts over the
 * ranks, SEQUENCE / MICRO_BATCH sum the groups' signs and the number of groups, so every rank makes
 * the update one process would make on the whole global batch, and the bias stays identical on
 * every rank.
 */
public final class ExpertBias implements BalancingMethod {
    public static final String STATE_KEY = "expert_bias";
    private final Scope scope;
    private final double rate;
    private final boolean biasAtEval;
    private final float[] bias;
    private final double[] stepSigns;   // sum over the step's groups of sign(mean c - c_i) (SEQUENCE, MICRO_BATCH)
    private final long[] stepCounts;    // requested routes of the whole step (GLOBAL)
    private int stepGroups;
    private int updates;
    private moelab.dist.Collective ranks = moelab.dist.Collective.single();

    public ExpertBias(Scope scope, double rate, int numExperts, boolean biasAtEval) {
        this.scope = scope;
        this.rate = rate;
        this.biasAtEval = biasAtEval;
        this.bias = new float[numExperts];
        this.stepSigns = new double[numExperts];
        this.stepCounts = new long[numExperts];
    }

    @Override public String name() { return "eb"; }

    @Override
    public void select(float[] z, float[] p, int from, int to, int e, int k, int[] experts) {
        if (to == from) return;
        biasedTopK(p, from, to, e, k, experts);
        long[] c = BalancingMethod.counts(experts, from, to, k, e);
        if (scope == Scope.GLOBAL) {
            for (int i = 0; i < e; i++) stepCounts[i] += c[i];
        } else {
            double[] sg = signs(c);
            for (int i = 0; i < e; i++) stepSigns[i] += sg[i];
        }
        stepGroups++;
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

    /** sign(mean c - c_i) per expert. */
    static double[] signs(long[] c) {
        double mean = 0;
        for (long x : c) mean += x;
        mean /= c.length;
        double[] s = new double[c.length];
        for (int i = 0; i < c.length; i++) s[i] = Math.signum(mean - c[i]);
        return s;
    }

    @Override
    public void useRanks(moelab.dist.Collective ranks) { this.ranks = ranks; }

    /** The one update of the step: b_i += u * (global: sign of the step's counts; else the mean sign over its groups). */
    @Override
    public void endStep() {
        if (ranks.size() > 1) {
            // every rank calls this once per step, so the collectives pair up even on a rank without routes
            ranks.sumInPlace(stepCounts);
            ranks.sumInPlace(stepSigns);
            long[] groups = {stepGroups};
            ranks.sumInPlace(groups);
            stepGroups = (int) groups[0];
        }
        if (stepGroups == 0) return;
        double[] step = scope == Scope.GLOBAL ? signs(stepCounts) : stepSigns;
        double over = scope == Scope.GLOBAL ? 1 : stepGroups;
        for (int i = 0; i < bias.length; i++) bias[i] += (float) (rate * step[i] / over);
        Arrays.fill(stepCounts, 0);
        Arrays.fill(stepSigns, 0);
        stepGroups = 0;
        updates++;
    }

    /** A copy of the current bias b [E]. */
    public float[] bias() { return bias.clone(); }

    /** Bias updates so far in this process (one per optimizer step with training routes). */
    public int updates() { return updates; }

    @Override public Map<String, float[]> state() { return Map.of(STATE_KEY, bias.clone()); }

    @Override
    public void loadState(Map<String, float[]> state) {
        float[] b = state.get(STATE_KEY);
        if (b == null || state.size() != 1)
            throw new IllegalArgumentException("balancing method '" + name() + "' expects exactly the state entry '" + STATE_KEY + "', got " + state.keySet());
        if (b.length != bias.length)
            throw new IllegalArgumentException("balancing method '" + name() + "': " + STATE_KEY + " has " + b.length + " values, the layer has " + bias.length + " experts");
        System.arraycopy(b, 0, bias, 0, b.length);
    }
}
