package moelab.routing;

/**
 * What one MoE layer did with one micro-batch, read off the dispatch step (never recomputed):
 * the basis of every routing metric.
 *
 * @param layer   block index
 * @param tokens  T
 * @param experts E
 * @param topK    k
 * @param selected expert of slot (t, j) at [t*k + j], requested routes
 * @param kept     whether slot (t, j) survived capacity (all true when dropless)
 * @param probs    router probabilities [T*E], or null
 * @param domains  domain of each token, or null
 */
public record RoutingRecord(int layer, int tokens, int experts, int topK, int[] selected, boolean[] kept,
                            float[] probs, int[] domains) {

    /** Requested routes per expert. */
    public long[] requestedCounts() {
        long[] c = new long[experts];
        for (int e : selected) c[e]++;
        return c;
    }

    /** Share of routes dropped by capacity. */
    public double dropRate() {
        if (kept.length == 0) return 0;
        int dropped = 0;
        for (boolean k : kept) if (!k) dropped++;
        return (double) dropped / kept.length;
    }
}
