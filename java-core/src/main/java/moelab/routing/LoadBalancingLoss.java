package moelab.routing;

import moelab.ops.Elementwise;
import moelab.ops.Reduce;
import moelab.tensor.Tensor;

import java.util.Arrays;

/**
 * LBL, the Switch/GShard auxiliary load-balancing loss (HF/Megatron convention):
 * L = coef * mean_G [ E * sum_i sg(f_i(G)) * P_i(G) ], f_i(G) = c_i(G) / (k T_G) from the requested
 * routes (a constant: no gradient), P_i(G) = mean_{t in G} p_ti. At perfect balance L = coef.
 * Computed as one weighted sum L = coef * E / |groups| * sum_t sum_i w_ti p_ti with
 * w_ti = f_i(G(t)) / T_G(t), so all groups share one tape node.
 *
 * <p>Scopes: SEQUENCE and MICRO_BATCH average over the forward pass's groups. GLOBAL is "online
 * buffered" (Megatron / Qiu et al.): the counts c_i of every training forward pass of the current
 * optimizer step are summed, including this one, and f_i = sum c_i / (k * sum T) over the passes seen so
 * far, times this pass's own P_i; the sums reset in {@link #endStep}. With train.grad_accum 1 (one
 * pass per step, micro-batches emulated by group_sequences) this is exactly the global-batch LBL.
 * With data-parallel ranks the counts and token totals are summed over the ranks (each rank's own
 * P_i stays local; the gradients, averaged over ranks, then equal one process's on the global batch).
 */
public final class LoadBalancingLoss implements BalancingMethod {
    private final double coef;
    private final Scope scope;
    private long[] stepCounts;     // GLOBAL: requested routes per expert so far in this step
    private long stepTokens;
    private moelab.dist.Collective ranks = moelab.dist.Collective.single();

    public LoadBalancingLoss(double coef, Scope scope) {
        this.coef = coef;
        this.scope = scope;
    }

    @Override public String name() { return "lbl"; }

    // probs [T, E], experts [T*k] -> scalar
    @Override
    public Tensor auxLoss(Tensor probs, int[] experts, int k, int[] groups) {
        int t = probs.dim(0), e = probs.dim(1);
        if (t == 0) return null;
        float[] w = new float[t * e];
        int nGroups = 0;
        if (scope == Scope.GLOBAL) {
            if (stepCounts == null) stepCounts = new long[e];
            long[] c = java.util.Arrays.copyOf(BalancingMethod.counts(experts, 0, t, k, e), e + 1);
            c[e] = t;
            ranks.sumInPlace(c);                                           // counts [E] and tokens over the ranks
            for (int i = 0; i < e; i++) stepCounts[i] += c[i];
            stepTokens += c[e];
            for (int i = 0; i < e; i++) {
                float wi = (float) ((double) stepCounts[i] / ((double) k * stepTokens) / t);
                for (int x = 0; x < t; x++) w[x * e + i] = wi;
            }
            nGroups = 1;
        } else {
            for (int g = 0; g + 1 < groups.length; g++) {
                int from = groups[g], to = groups[g + 1], tg = to - from;
                if (tg == 0) continue;
                long[] c = BalancingMethod.counts(experts, from, to, k, e);
                for (int i = 0; i < e; i++) {
                    float wi = (float) ((double) c[i] / ((double) k * tg) / tg);
                    for (int x = from; x < to; x++) w[x * e + i] = wi;
                }
                nGroups++;
            }
        }
        if (coef == 0 || nGroups == 0) return null;
        Tensor dot = Reduce.sumAll(Elementwise.mul(probs, Tensor.of(w, t, e)));
        return Elementwise.mulScalar(dot, (float) (coef * e / nGroups));
    }

    @Override public void useRanks(moelab.dist.Collective ranks) { this.ranks = ranks; }

    @Override
    public void endStep() {
        if (stepCounts != null) Arrays.fill(stepCounts, 0);
        stepTokens = 0;
    }

    /** GLOBAL scope: requested routes per expert buffered so far in this step (a copy; null before any). */
    public long[] bufferedCounts() { return stepCounts == null ? null : stepCounts.clone(); }
}
