package moelab.nn;

import moelab.tensor.ShapeException;

/**
 * The sort-by-expert plan of one MoE layer call: the kept slots (t, j) ordered by expert into
 * contiguous blocks, token order within each block (a stable counting sort, O(T*k + E)).
 * Packed row p holds slot {@code slotOf[p]} of token {@code tokenOf[p]}; expert e owns packed rows
 * [offsets[e], offsets[e] + counts[e]).
 *
 * @param counts   kept routes per expert [E]
 * @param offsets  first packed row of each expert [E + 1]; offsets[E] = S, the kept routes
 * @param slotOf   slot t*k + j of each packed row [S]
 * @param tokenOf  token t of each packed row [S]
 * @param rowOf    packed row of each slot [T*k], -1 for a dropped slot
 */
public record ExpertDispatch(int[] counts, int[] offsets, int[] slotOf, int[] tokenOf, int[] rowOf) {

    /** Plan for routes experts [T*k] (each in [0, E)) and kept [T*k]. */
    public static ExpertDispatch of(int[] experts, boolean[] kept, int numExperts, int topK) {
        if (experts.length != kept.length)
            throw new ShapeException("moe dispatch: " + experts.length + " routes but " + kept.length + " kept flags (need one per slot)");
        if (topK < 1 || experts.length % topK != 0)
            throw new ShapeException("moe dispatch: " + experts.length + " routes is not T*k for k=" + topK);
        int[] counts = new int[numExperts];
        for (int s = 0; s < experts.length; s++) {
            int e = experts[s];
            if (e < 0 || e >= numExperts)
                throw new ShapeException("moe dispatch: expert " + e + " at slot " + s + " is outside [0, " + numExperts + ")");
            if (kept[s]) counts[e]++;
        }
        int[] offsets = new int[numExperts + 1];
        for (int e = 0; e < numExperts; e++) offsets[e + 1] = offsets[e] + counts[e];
        int rows = offsets[numExperts];
        int[] slotOf = new int[rows], tokenOf = new int[rows], rowOf = new int[experts.length];
        int[] fill = offsets.clone();
        for (int s = 0; s < experts.length; s++) { // slot order = token order: stable within each expert
            if (!kept[s]) { rowOf[s] = -1; continue; }
            int p = fill[experts[s]]++;
            slotOf[p] = s;
            tokenOf[p] = s / topK;
            rowOf[s] = p;
        }
        return new ExpertDispatch(counts, offsets, slotOf, tokenOf, rowOf);
    }

    /** S, the number of kept routes (packed rows). */
    public int rows() { return slotOf.length; }

    /** Largest expert block. */
    public int maxCount() {
        int m = 0;
        for (int c : counts) m = Math.max(m, c);
        return m;
    }
}
