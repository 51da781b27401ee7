package moelab.app.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import moelab.routing.RoutingRecord;
import moelab.train.EvalMetrics;
import moelab.train.StepMetrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The rows of metrics.jsonl and eval.jsonl (snake_case JSON, one object per line), and how they
 * are computed from the trainer's events. Routing statistics come from the RoutingRecords the
 * MoE layers wrote at dispatch time, summed over the micro-batches of a step. Numbers that are
 * not finite, or not available, are written as null.
 */
public final class Metrics {
    private Metrics() {}

    /**
     * One MoE layer in one step.
     *
     * @param load          share of the requested routes that went to each expert [E] (sums to 1)
     * @param dropRate      share of routes dropped by capacity
     * @param maxVio        (max load - mean load) / mean load over experts, requested routes (0 = balanced)
     * @param routerEntropy mean over tokens of the entropy of the router probabilities (nats), null without probs
     * @param loadEntropy   entropy of the load shares (nats); ln E when perfectly balanced
     */
    public record Layer(int layer, double[] load, double dropRate, double maxVio, Double routerEntropy, double loadEntropy) {}

    /** One optimizer step (a line of metrics.jsonl). */
    public record Step(long step, Double loss, Double lmLoss, Double auxLoss, Double lr, Double gradNorm,
                       Double tokensPerSec, Double elapsedSec, List<Layer> layers) {}

    /**
     * Expert-by-domain routing counts of one MoE layer over a validation run.
     *
     * @param domains column names: the run's domains, plus "unlabeled" when some tokens had no domain
     * @param counts  kept routes [expert][domain]
     */
    public record DomainCounts(int layer, List<String> domains, long[][] counts) {}

    /** One validation run (a line of eval.jsonl). */
    public record Eval(long step, Double loss, Map<String, Double> perDomain, List<DomainCounts> routing,
                       Map<String, Double> scalars) {
        public Eval {
            if (scalars == null) scalars = Map.of();     // rows written before probes existed
        }
    }

    public static final String UNLABELED = "unlabeled";

    /** Writes and reads the rows: snake_case keys; unknown keys are skipped when reading (files from newer versions). */
    static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    public static Step step(StepMetrics m) {
        return new Step(m.step(), fin(m.loss()), fin(m.lmLoss()), fin(m.auxLoss()), fin(m.lr()), fin(m.gradNorm()),
                fin(m.tokensPerSec()), fin(m.elapsedSec()), layers(m.routing()));
    }

    public static Eval eval(EvalMetrics m, List<String> domainNames) {
        Map<String, Double> per = new LinkedHashMap<>();
        m.perDomain().forEach((k, v) -> per.put(k, fin(v)));
        Map<String, Double> scalars = new LinkedHashMap<>();
        m.scalars().forEach((k, v) -> scalars.put(k, fin(v)));
        return new Eval(m.step(), fin(m.loss()), per, domainCounts(m.routing(), domainNames), scalars);
    }

    /** Per-layer statistics, layers in block order, each summed over its records (micro-batches). */
    public static List<Layer> layers(List<RoutingRecord> records) {
        Map<Integer, List<RoutingRecord>> byLayer = group(records);
        List<Layer> out = new ArrayList<>();
        for (Map.Entry<Integer, List<RoutingRecord>> e : byLayer.entrySet()) {
            int experts = e.getValue().getFirst().experts();
            long[] counts = new long[experts];
            long slots = 0, dropped = 0, tokensWithProbs = 0;
            double entropySum = 0;
            for (RoutingRecord r : e.getValue()) {
                if (r.experts() != experts)
                    throw new IllegalArgumentException("routing records of layer " + e.getKey() + " disagree on the expert count: " + experts + " vs " + r.experts());
                long[] c = r.requestedCounts();
                for (int i = 0; i < experts; i++) counts[i] += c[i];
                slots += r.selected().length;
                for (boolean k : r.kept()) if (!k) dropped++;
                if (r.probs() != null) {
                    for (int t = 0; t < r.tokens(); t++) entropySum += entropy(r.probs(), t * experts, experts);
                    tokensWithProbs += r.tokens();
                }
            }
            double[] load = new double[experts];
            double max = 0, loadEntropy = 0;
            for (int i = 0; i < experts; i++) {
                load[i] = slots == 0 ? 0 : (double) counts[i] / slots;
                max = Math.max(max, load[i]);
                if (load[i] > 0) loadEntropy -= load[i] * Math.log(load[i]);
            }
            double mean = 1.0 / experts;
            double maxVio = slots == 0 ? 0 : (max - mean) / mean;
            out.add(new Layer(e.getKey(), load, slots == 0 ? 0 : (double) dropped / slots, maxVio,
                    tokensWithProbs == 0 ? null : fin(entropySum / tokensWithProbs), loadEntropy));
        }
        return out;
    }

    /** Kept routes per expert and domain, per layer; tokens without a known domain go to an extra "unlabeled" column. */
    public static List<DomainCounts> domainCounts(List<RoutingRecord> records, List<String> domainNames) {
        int d = domainNames.size();
        List<DomainCounts> out = new ArrayList<>();
        for (Map.Entry<Integer, List<RoutingRecord>> e : group(records).entrySet()) {
            int experts = e.getValue().getFirst().experts();
            long[][] counts = new long[experts][d + 1];
            boolean unlabeled = false;
            for (RoutingRecord r : e.getValue()) {
                for (int s = 0; s < r.selected().length; s++) {
                    if (!r.kept()[s]) continue;
                    int t = s / r.topK();
                    int dom = r.domains() == null ? -1 : r.domains()[t];
                    int col = dom >= 0 && dom < d ? dom : d;
                    if (col == d) unlabeled = true;
                    counts[r.selected()[s]][col]++;
                }
            }
            List<String> cols = new ArrayList<>(domainNames);
            if (unlabeled) cols.add(UNLABELED);
            long[][] trimmed = new long[experts][];
            for (int i = 0; i < experts; i++) trimmed[i] = java.util.Arrays.copyOf(counts[i], cols.size());
            out.add(new DomainCounts(e.getKey(), List.copyOf(cols), trimmed));
        }
        return out;
    }

    private static Map<Integer, List<RoutingRecord>> group(List<RoutingRecord> records) {
        Map<Integer, List<RoutingRecord>> m = new TreeMap<>();
        for (RoutingRecord r : records) m.computeIfAbsent(r.layer(), k -> new ArrayList<>()).add(r);
        return m;
    }

    // entropy of p[off .. off+n) in nats
    private static double entropy(float[] p, int off, int n) {
        double h = 0;
        for (int i = 0; i < n; i++) {
            double v = p[off + i];
            if (v > 0) h -= v * Math.log(v);
        }
        return h;
    }

    static Double fin(double v) { return Double.isFinite(v) ? v : null; }
}
