package moelab.routing;

import java.util.Arrays;

/**
 * Capacity-based token dropping: each expert keeps at most C = ceil(cf * k * T / E) of the
 * routes it was asked to take in one micro-batch (Megatron's get_capacity with num_tokens * k).
 * Policy "probs" keeps the routes with the highest router probability (ties: earlier slot),
 * "position" the earliest tokens. A dropped route contributes nothing; the token keeps its residual.
 */
public final class Capacity {
    private Capacity() {}

    /** C = ceil(cf * k * T / E). */
    public static int perExpert(double capacityFactor, int topK, int tokens, int experts) {
        return (int) Math.ceil(capacityFactor * topK * tokens / experts - 1e-9);
    }

    /**
     * {@link #apply} on each token range [groups[g], groups[g+1]) separately (capacity is physical: per
     * micro-batch, emulated or real). experts [T*k], probs [T*E] or null -> kept [T*k].
     */
    public static boolean[] applyGroups(int[] experts, float[] probs, int[] groups, int numExperts, int topK,
                                        double capacityFactor, DropPolicy policy) {
        if (groups.length == 2) return apply(experts, probs, groups[1] - groups[0], numExperts, topK, capacityFactor, policy);
        boolean[] kept = new boolean[experts.length];
        for (int g = 0; g + 1 < groups.length; g++) {
            int from = groups[g], to = groups[g + 1];
            int[] ex = Arrays.copyOfRange(experts, from * topK, to * topK);
            float[] pr = probs == null ? null : Arrays.copyOfRange(probs, from * numExperts, to * numExperts);
            boolean[] k = apply(ex, pr, to - from, numExperts, topK, capacityFactor, policy);
            System.arraycopy(k, 0, kept, from * topK, k.length);
        }
        return kept;
    }

    /**
     * kept[t*k + j] for routes experts [T*k]; probs [T*E] needed for policy "probs".
     * capacityFactor 0 = dropless (all kept).
     */
    public static boolean[] apply(int[] experts, float[] probs, int tokens, int numExperts, int topK,
                                  double capacityFactor, DropPolicy policy) {
        boolean[] kept = new boolean[experts.length];
        if (capacityFactor == 0) { Arrays.fill(kept, true); return kept; }
        int cap = perExpert(capacityFactor, topK, tokens, numExperts);
        // slots grouped by expert, in slot (= token) order
        Integer[][] byExpert = new Integer[numExperts][];
        int[] counts = new int[numExperts];
        for (int e : experts) counts[e]++;
        for (int e = 0; e < numExperts; e++) byExpert[e] = new Integer[counts[e]];
        int[] fill = new int[numExperts];
        for (int s = 0; s < experts.length; s++) byExpert[experts[s]][fill[experts[s]]++] = s;
        for (int e = 0; e < numExperts; e++) {
            Integer[] slots = byExpert[e];
            if (policy == DropPolicy.PROBS) {
                final int ex = e;
                Arrays.sort(slots, (a, b) -> {
                    int c = Float.compare(probs[(b / topK) * numExperts + ex], probs[(a / topK) * numExperts + ex]);
                    return c != 0 ? c : Integer.compare(a, b);
                });
            }
            for (int i = 0; i < Math.min(cap, slots.length); i++) kept[slots[i]] = true;
        }
        return kept;
    }
}
