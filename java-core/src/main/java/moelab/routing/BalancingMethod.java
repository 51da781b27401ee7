package moelab.routing;

import moelab.tensor.Tensor;

import java.util.Map;

/**
 * How a learned router balances expert load (one class per method: {@link NoBalancing},
 * {@link LoadBalancingLoss}, {@link ExpertBias}, {@link SinkhornBalancing}, {@link BalancedAssignment}).
 * The router ({@link TopKRouter}) computes p = softmax(z), splits the forward pass into the scope's
 * token groups ({@link Scope#groups}) and calls {@link #select} once per group in token order, then
 * {@link #auxLoss} once over the forward pass; gates always come from the unbiased p (or z) at the
 * selected experts. Balancing counts are the REQUESTED routes, before capacity drops.
 */
public interface BalancingMethod {
    /** none | lbl | eb | sh | ba | dsv3 | ec */
    String name();

    /**
     * Training selection for tokens [from, to) of one scope group. z, p: logits and probabilities
     * [T*E] row-major; experts [T*k] arrives holding plain TopK(p) and may be overwritten in
     * [from*k, to*k). Methods with window state (EB) update it here, outside autograd.
     */
    default void select(float[] z, float[] p, int from, int to, int numExperts, int k, int[] experts) {}

    /**
     * The method's auxiliary loss over one training forward pass, already scaled (scalar), or null.
     * probs [T, E] differentiable, experts [T*k] the selection, groups the scope's boundaries.
     */
    default Tensor auxLoss(Tensor probs, int[] experts, int k, int[] groups) { return null; }

    /** {@link #auxLoss(Tensor, int[], int, int[])} for methods that also need the sequences' boundaries (DSV3). */
    default Tensor auxLoss(Tensor probs, int[] experts, int k, int[] groups, int[] sequences) {
        return auxLoss(probs, experts, k, groups);
    }

    /** Eval selection [T*k] from p [T*E], or null for plain greedy TopK(p) (the default for every method). */
    default int[] evalSelect(float[] p, int tokens, int numExperts, int k) { return null; }

    /** The data-parallel ranks whose counts a global scope sums (default: one process; only LBL and EB keep counts). */
    default void useRanks(moelab.dist.Collective ranks) {}

    /** After every optimizer step (global-scope windows end here). */
    default void endStep() {}

    /** Non-trainable state a checkpoint keeps. */
    default Map<String, float[]> state() { return Map.of(); }

    /** Restores {@link #state()}; throws naming an unexpected, missing or mis-sized entry. */
    default void loadState(Map<String, float[]> state) {
        if (!state.isEmpty())
            throw new IllegalArgumentException("balancing method '" + name() + "' keeps no state, got entries " + state.keySet());
    }

    /** Requested routes per expert of tokens [from, to): c_i. */
    static long[] counts(int[] experts, int from, int to, int k, int numExperts) {
        long[] c = new long[numExperts];
        for (int s = from * k; s < to * k; s++) c[experts[s]]++;
        return c;
    }

    /**
     * Writes the k largest of scores[off .. off+E) (descending, ties to the lower index) into
     * out[outOff .. outOff+k). Scores only rank: gates never read them.
     */
    static void topK(double[] scores, int off, int numExperts, int k, int[] out, int outOff) {
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < numExperts; e++) {
                boolean taken = false;
                for (int i = 0; i < j; i++) if (out[outOff + i] == e) { taken = true; break; }
                if (taken) continue;
                if (best < 0 || scores[off + e] > scores[off + best]) best = e;
            }
            out[outOff + j] = best;
        }
    }
}
