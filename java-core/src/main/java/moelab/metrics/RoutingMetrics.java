package moelab.metrics;

import moelab.routing.RoutingRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Specialization and balance metrics of MoE routing (testbed spec §5), from the routing records
 * of a validation run (one record per MoE layer per batch). Pure functions; every value is
 * computed per layer, then averaged over layers (plain mean). Undefined values are NaN, never
 * an exception: no routes, no labelled tokens, no layers.
 *
 * <p>Counts n[i][d] are (token, selected expert) pairs: K per token, requested routes (eval
 * routing is dropless, so requested = kept). Tokens without a domain label (domains == null or
 * a label outside [0, D)) count for the load f but not for n[i][d]. Ratios of integer counts are
 * formed as one division of exact integers, so the reference routing scores purity 1 and
 * utilization 1 exactly.
 */
public final class RoutingMetrics {
    private RoutingMetrics() {}

    /**
     * One layer's metrics (NaN where undefined).
     *
     * @param counts        n[expert][domain], labelled routes
     * @param load          f_i = routes to expert i / all routes (labelled or not)
     * @param purity        Σ_i max_d n_id / Σ n_id
     * @param purityNorm    (Pur − 1/D)/(1 − 1/D): 0 for domain-agnostic routing on balanced data, 1 for pure experts
     * @param domainPurity  per domain d: share of d's routes that land on experts whose majority domain is d
     *                      (ties go to the lower domain index); the route-weighted mean over domains is the purity
     * @param utilization   Σ_i min(f_i, 1/E): 1 at perfect balance, k/E when collapsed onto k experts
     * @param expertEntropy −Σ f ln f / ln E (1 = balanced; NaN for E = 1)
     * @param maxVio        E·max_i f_i − 1
     * @param nmi           NMI(domain; expert) over route pairs, normalised by the arithmetic mean of the two entropies
     * @param dropRate      share of routes not kept (0 for dropless eval)
     */
    public record Layer(int layer, long[][] counts, double[] load, double purity, double purityNorm, double[] domainPurity,
                        double utilization, double expertEntropy, double maxVio, double nmi, double dropRate) {}

    /** Per-layer metrics (block order) and their means over layers. */
    public record Summary(List<Layer> layers, double purity, double purityNorm, double[] domainPurity, double utilization,
                          double expertEntropy, double maxVio, double nmi, double dropRate) {}

    /** All metrics of a validation run's records, D = number of domains. */
    public static Summary of(List<RoutingRecord> records, int domains) {
        if (domains < 1) throw new IllegalArgumentException("RoutingMetrics: need at least 1 domain, got " + domains);
        Map<Integer, List<RoutingRecord>> byLayer = new TreeMap<>();
        for (RoutingRecord r : records) byLayer.computeIfAbsent(r.layer(), l -> new ArrayList<>()).add(r);
        List<Layer> layers = new ArrayList<>();
        for (Map.Entry<Integer, List<RoutingRecord>> e : byLayer.entrySet()) layers.add(layer(e.getKey(), e.getValue(), domains));
        double[] dp = new double[domains];
        for (int d = 0; d < domains; d++) {
            int dd = d;
            dp[d] = mean(layers.stream().mapToDouble(l -> l.domainPurity()[dd]).toArray());
        }
        return new Summary(layers, mean(layers.stream().mapToDouble(Layer::purity).toArray()),
                mean(layers.stream().mapToDouble(Layer::purityNorm).toArray()), dp,
                mean(layers.stream().mapToDouble(Layer::utilization).toArray()),
                mean(layers.stream().mapToDouble(Layer::expertEntropy).toArray()),
                mean(layers.stream().mapToDouble(Layer::maxVio).toArray()),
                mean(layers.stream().mapToDouble(Layer::nmi).toArray()),
                mean(layers.stream().mapToDouble(Layer::dropRate).toArray()));
    }

    /** One layer's metrics from its records (all of the same layer and expert count). */
    public static Layer layer(int layer, List<RoutingRecord> records, int domains) {
        int experts = records.isEmpty() ? 0 : records.getFirst().experts();
        long[][] n = new long[experts][domains];
        long[] routes = new long[experts];
        long slots = 0, dropped = 0;
        for (RoutingRecord r : records) {
            if (r.experts() != experts)
                throw new IllegalArgumentException("RoutingMetrics: records of layer " + layer + " disagree on the expert count: "
                        + experts + " vs " + r.experts());
            int k = r.topK();
            for (int s = 0; s < r.selected().length; s++) {
                int e = r.selected()[s];
                routes[e]++;
                int d = r.domains() == null ? -1 : r.domains()[s / k];
                if (d >= 0 && d < domains) n[e][d]++;
            }
            slots += r.kept().length;
            for (boolean kept : r.kept()) if (!kept) dropped++;
        }
        double pur = purity(n);
        return new Layer(layer, n, load(routes), pur, purityNorm(pur, domains), domainPurity(n), utilization(routes),
                expertEntropy(routes), maxVio(routes), nmi(n), slots == 0 ? Double.NaN : (double) dropped / slots);
    }

    // ---------------------------------------------------------------- the formulas

    /** Σ_i max_d n_id / Σ_{i,d} n_id; NaN without routes. */
    public static double purity(long[][] n) {
        long max = 0, total = 0;
        for (long[] row : n) {
            long m = 0;
            for (long c : row) { m = Math.max(m, c); total += c; }
            max += m;
        }
        return total == 0 ? Double.NaN : (double) max / total;
    }

    /** (Pur − 1/D)/(1 − 1/D); NaN for D = 1 (every routing is pure). */
    public static double purityNorm(double purity, int domains) {
        if (domains <= 1) return Double.NaN;
        double base = 1.0 / domains;
        return (purity - base) / (1 - base);
    }

    /** Per domain: share of its routes on experts whose majority domain (lowest index on ties) is it; NaN for a domain without routes. */
    public static double[] domainPurity(long[][] n) {
        int domains = n.length == 0 ? 0 : n[0].length;
        long[] own = new long[domains], total = new long[domains];
        for (long[] row : n) {
            int arg = 0;
            for (int d = 0; d < domains; d++) {
                if (row[d] > row[arg]) arg = d;
                total[d] += row[d];
            }
            if (domains > 0) own[arg] += row[arg];
        }
        double[] out = new double[domains];
        for (int d = 0; d < domains; d++) out[d] = total[d] == 0 ? Double.NaN : (double) own[d] / total[d];
        return out;
    }

    /** Load shares f_i = routes_i / Σ routes (all NaN without routes). */
    public static double[] load(long[] routes) {
        long total = sum(routes);
        double[] f = new double[routes.length];
        for (int i = 0; i < f.length; i++) f[i] = total == 0 ? Double.NaN : (double) routes[i] / total;
        return f;
    }

    /** U = Σ_i min(f_i, 1/E), as Σ_i min(E·c_i, N) / (E·N) in integers (exact at balance). */
    public static double utilization(long[] routes) {
        long total = sum(routes), e = routes.length, acc = 0;
        if (total == 0) return Double.NaN;
        for (long c : routes) acc += Math.min(e * c, total);
        return (double) acc / ((double) e * total);
    }

    /** −Σ f ln f / ln E; NaN without routes or for E = 1. */
    public static double expertEntropy(long[] routes) {
        long total = sum(routes);
        if (total == 0 || routes.length < 2) return Double.NaN;
        double h = 0;
        for (long c : routes) if (c > 0) { double f = (double) c / total; h -= f * Math.log(f); }
        return h / Math.log(routes.length);
    }

    /** E·max f − 1 (0 at perfect balance, E − 1 when one expert takes everything). */
    public static double maxVio(long[] routes) {
        long total = sum(routes), max = 0;
        if (total == 0) return Double.NaN;
        for (long c : routes) max = Math.max(max, c);
        return (double) routes.length * max / total - 1;
    }

    /**
     * NMI(domain; expert) = I(D; X) / ((H(D) + H(X)) / 2) over the joint counts n[i][d] (natural
     * log; the arithmetic-mean normalisation of sklearn's normalized_mutual_info_score default).
     * Both labelings constant: 1 (as sklearn); no routes: NaN.
     */
    public static double nmi(long[][] n) {
        int experts = n.length, domains = experts == 0 ? 0 : n[0].length;
        long total = 0;
        long[] rowSum = new long[experts], colSum = new long[domains];
        for (int i = 0; i < experts; i++)
            for (int d = 0; d < domains; d++) { rowSum[i] += n[i][d]; colSum[d] += n[i][d]; total += n[i][d]; }
        if (total == 0) return Double.NaN;
        double hx = entropy(rowSum, total), hd = entropy(colSum, total), mi = 0;
        for (int i = 0; i < experts; i++)
            for (int d = 0; d < domains; d++) {
                if (n[i][d] == 0) continue;
                double p = (double) n[i][d] / total;
                mi += p * Math.log((double) n[i][d] * total / ((double) rowSum[i] * colSum[d]));
            }
        double denom = (hx + hd) / 2;
        if (denom == 0) return 1.0;
        return Math.max(0, Math.min(1, mi / denom));             // clamp rounding noise at the ends
    }

    /**
     * Train-time drop rate of one optimizer step: dropped routes / all routes over the step's
     * records (all layers and micro-batches); NaN without routes.
     */
    public static double stepDropRate(List<RoutingRecord> stepRecords) {
        long slots = 0, dropped = 0;
        for (RoutingRecord r : stepRecords) {
            slots += r.kept().length;
            for (boolean k : r.kept()) if (!k) dropped++;
        }
        return slots == 0 ? Double.NaN : (double) dropped / slots;
    }

    // ---------------------------------------------------------------- helpers

    private static double entropy(long[] counts, long total) {
        double h = 0;
        for (long c : counts) if (c > 0) { double p = (double) c / total; h -= p * Math.log(p); }
        return h;
    }

    private static long sum(long[] a) {
        long s = 0;
        for (long x : a) s += x;
        return s;
    }

    /** Mean of the values; NaN when empty or when any is NaN. */
    static double mean(double[] v) {
        if (v.length == 0) return Double.NaN;
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }
}
