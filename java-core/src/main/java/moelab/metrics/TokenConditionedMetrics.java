package moelab.metrics;

import moelab.routing.RoutingRecord;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Specialization with token identity held fixed. At byte level the script alone (which bytes a
 * text uses) separates several domains, so plain purity and NMI(domain; expert) credit a router
 * that only reads the token. These metrics ask whether the expert still says something about the
 * domain once the token is known. Counts are (token, expert, domain) over route pairs (k per
 * token, requested routes), tokens without a domain label left out; NaN where undefined.
 *
 * <ul>
 *   <li>{@code condNmi} = I(D; X | T) / ((H(D | T) + H(X | T)) / 2): 0 when, within every token,
 *       the expert is independent of the domain (routing by token identity scores 0); 1 when it
 *       determines it. NaN when H(D | T) + H(X | T) = 0 (no token occurs in two domains and no
 *       token is routed two ways).</li>
 *   <li>Over the routes of shared tokens (tokens that occur in at least two domains in the data
 *       measured): {@code sharedPurity} = Σ_x max_d n_xd / N (plain purity restricted to them),
 *       {@code tokenPurity} = Σ_t Σ_x max_d n_txd / N (each expert's majority domain judged per
 *       token) and {@code tokenPurityBase} = Σ_t max_d n_td / N, what any router that looks only at
 *       the token scores; tokenPurity - tokenPurityBase is what routing adds beyond the token.
 *       {@code sharedShare} = shared tokens' routes / all labelled routes.</li>
 * </ul>
 */
public final class TokenConditionedMetrics {
    private TokenConditionedMetrics() {}

    /** One layer's values. */
    public record Layer(int layer, double condNmi, double sharedPurity, double tokenPurity, double tokenPurityBase, double sharedShare) {}

    /**
     * Per layer (block order), from records and the token ids they routed.
     *
     * @param records  routing records (any layers, any order)
     * @param tokenIds per record, the token id of each of its tokens [r.tokens()]
     * @param domains  D; labels outside [0, D) are left out
     */
    public static List<Layer> of(List<RoutingRecord> records, List<int[]> tokenIds, int domains) {
        if (records.size() != tokenIds.size())
            throw new IllegalArgumentException("TokenConditionedMetrics: " + records.size() + " records but " + tokenIds.size() + " token id arrays");
        Map<Integer, List<Integer>> byLayer = new TreeMap<>();
        for (int i = 0; i < records.size(); i++) byLayer.computeIfAbsent(records.get(i).layer(), l -> new ArrayList<>()).add(i);
        List<Layer> out = new ArrayList<>();
        for (Map.Entry<Integer, List<Integer>> e : byLayer.entrySet()) {
            List<RoutingRecord> rs = new ArrayList<>();
            List<int[]> ids = new ArrayList<>();
            for (int i : e.getValue()) { rs.add(records.get(i)); ids.add(tokenIds.get(i)); }
            out.add(layer(e.getKey(), rs, ids, domains));
        }
        return out;
    }

    /** One layer: n[token][expert][domain] counted, then the formulas. */
    public static Layer layer(int layer, List<RoutingRecord> records, List<int[]> tokenIds, int domains) {
        int experts = records.isEmpty() ? 0 : records.getFirst().experts();
        Map<Integer, long[]> n = new HashMap<>();        // token -> [E*D]
        for (int r = 0; r < records.size(); r++) {
            RoutingRecord rec = records.get(r);
            int[] ids = tokenIds.get(r);
            if (rec.experts() != experts)
                throw new IllegalArgumentException("TokenConditionedMetrics: records of layer " + layer + " disagree on the expert count: " + experts + " vs " + rec.experts());
            if (ids.length != rec.tokens())
                throw new IllegalArgumentException("TokenConditionedMetrics: layer " + layer + " record " + r + " has " + rec.tokens()
                        + " tokens but " + ids.length + " token ids");
            if (rec.domains() == null) continue;
            int k = rec.topK();
            for (int s = 0; s < rec.selected().length; s++) {
                int d = rec.domains()[s / k];
                if (d < 0 || d >= domains) continue;
                n.computeIfAbsent(ids[s / k], t -> new long[experts * domains])[rec.selected()[s] * domains + d]++;
            }
        }
        return formulas(layer, n.values(), experts, domains);
    }

    /** The metrics of joint counts, one [E*D] array per token. */
    static Layer formulas(int layer, Iterable<long[]> perToken, int experts, int domains) {
        long total = 0, shared = 0, sharedPurityHits = 0, tokenHits = 0, tokenBase = 0;
        double mi = 0, hdGivenT = 0, hxGivenT = 0;                 // sums of N_t * (value within t), in nats
        long[][] sharedCounts = new long[experts][domains];
        for (long[] c : perToken) {
            long nt = 0;
            long[] byD = new long[domains], byX = new long[experts];
            for (int x = 0; x < experts; x++)
                for (int d = 0; d < domains; d++) { long v = c[x * domains + d]; byD[d] += v; byX[x] += v; nt += v; }
            if (nt == 0) continue;
            total += nt;
            hdGivenT += nt * entropy(byD, nt);
            hxGivenT += nt * entropy(byX, nt);
            for (int x = 0; x < experts; x++)
                for (int d = 0; d < domains; d++) {
                    long v = c[x * domains + d];
                    if (v > 0) mi += v * Math.log((double) v * nt / ((double) byX[x] * byD[d]));
                }
            int seenIn = 0;
            for (long v : byD) if (v > 0) seenIn++;
            if (seenIn < 2) continue;
            shared += nt;
            long maxD = 0;
            for (long v : byD) maxD = Math.max(maxD, v);
            tokenBase += maxD;
            for (int x = 0; x < experts; x++) {
                long m = 0;
                for (int d = 0; d < domains; d++) { m = Math.max(m, c[x * domains + d]); sharedCounts[x][d] += c[x * domains + d]; }
                tokenHits += m;
            }
        }
        double denom = (hdGivenT + hxGivenT) / 2;
        double condNmi = total == 0 || denom <= 0 ? Double.NaN : Math.max(0, Math.min(1, mi / denom));
        for (long[] row : sharedCounts) {
            long m = 0;
            for (long v : row) m = Math.max(m, v);
            sharedPurityHits += m;
        }
        return new Layer(layer, condNmi,
                shared == 0 ? Double.NaN : (double) sharedPurityHits / shared,
                shared == 0 ? Double.NaN : (double) tokenHits / shared,
                shared == 0 ? Double.NaN : (double) tokenBase / shared,
                total == 0 ? Double.NaN : (double) shared / total);
    }

    private static double entropy(long[] counts, long total) {
        double h = 0;
        for (long c : counts) if (c > 0) { double p = (double) c / total; h -= p * Math.log(p); }
        return h;
    }
}
