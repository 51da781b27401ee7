package moelab.eval;

import moelab.data.Batch;
import moelab.metrics.RoutingMetrics;
import moelab.metrics.TokenConditionedMetrics;
import moelab.routing.RoutingRecord;
import moelab.nn.Transformer;
import moelab.train.EvalMetrics;
import moelab.train.EvalProbe;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a validation run's eval routing into the testbed's scalars (eval.jsonl {@code scalars}):
 * layer means {@code purity, purity_norm, utilization, expert_entropy, max_vio, nmi, drop_rate},
 * per domain {@code purity.<domain>}, and per MoE layer {@code layer<L>.<metric>} for the seven
 * metrics; and, with token identity held fixed ({@link TokenConditionedMetrics}), the layer means and
 * per layer values of {@code cond_nmi, shared_purity, token_purity, token_purity_base, shared_share}.
 * Reads only the records the trainer already collected and the batches' token ids; touches no model state.
 */
public final class RoutingMetricsProbe implements EvalProbe {
    /** The layer-mean scalar names, in the order they are written. */
    public static final List<String> NAMES = List.of("purity", "purity_norm", "utilization", "expert_entropy", "max_vio", "nmi", "drop_rate");
    /** The token-conditioned scalar names. */
    public static final List<String> CONDITIONED = List.of("cond_nmi", "shared_purity", "token_purity", "token_purity_base", "shared_share");

    private final List<String> domainNames;

    /** @param domainNames domain index -> name, as in Batch.domains */
    public RoutingMetricsProbe(List<String> domainNames) {
        if (domainNames.isEmpty()) throw new IllegalArgumentException("RoutingMetricsProbe: need at least one domain name");
        this.domainNames = List.copyOf(domainNames);
    }

    @Override
    public Map<String, Double> measure(Transformer model, List<Batch> validation, EvalMetrics base) {
        Map<String, Double> out = scalars(RoutingMetrics.of(base.routing(), domainNames.size()), domainNames);
        List<int[]> ids = tokenIds(base.routing(), validation);
        if (ids != null) out.putAll(conditioned(TokenConditionedMetrics.of(base.routing(), ids, domainNames.size())));
        return out;
    }

    /** The token ids of each record: the evaluator writes one record per MoE layer per batch, batch by batch; null if they do not line up. */
    public static List<int[]> tokenIds(List<RoutingRecord> records, List<Batch> batches) {
        if (batches.isEmpty() || records.size() % batches.size() != 0) return null;
        int perBatch = records.size() / batches.size();
        List<int[]> ids = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            int[] in = batches.get(i / perBatch).inputs();
            if (in.length != records.get(i).tokens()) return null;
            ids.add(in);
        }
        return ids;
    }

    /** Layer means and per layer {@code layer<L>.<name>} of the token-conditioned metrics. */
    public static Map<String, Double> conditioned(List<TokenConditionedMetrics.Layer> layers) {
        Map<String, Double> out = new LinkedHashMap<>();
        double[] mean = new double[CONDITIONED.size()];
        for (TokenConditionedMetrics.Layer l : layers) {
            double[] v = values(l);
            for (int i = 0; i < v.length; i++) mean[i] += v[i] / layers.size();
        }
        for (int i = 0; i < CONDITIONED.size(); i++) out.put(CONDITIONED.get(i), layers.isEmpty() ? Double.NaN : mean[i]);
        for (TokenConditionedMetrics.Layer l : layers) {
            double[] v = values(l);
            for (int i = 0; i < v.length; i++) out.put("layer" + l.layer() + "." + CONDITIONED.get(i), v[i]);
        }
        return out;
    }

    private static double[] values(TokenConditionedMetrics.Layer l) {
        return new double[]{l.condNmi(), l.sharedPurity(), l.tokenPurity(), l.tokenPurityBase(), l.sharedShare()};
    }

    /** The named scalars of a summary. */
    public static Map<String, Double> scalars(RoutingMetrics.Summary s, List<String> domainNames) {
        Map<String, Double> out = new LinkedHashMap<>();
        put(out, "", s.purity(), s.purityNorm(), s.utilization(), s.expertEntropy(), s.maxVio(), s.nmi(), s.dropRate());
        for (int d = 0; d < domainNames.size(); d++) out.put("purity." + domainNames.get(d), s.domainPurity()[d]);
        for (RoutingMetrics.Layer l : s.layers())
            put(out, "layer" + l.layer() + ".", l.purity(), l.purityNorm(), l.utilization(), l.expertEntropy(), l.maxVio(), l.nmi(), l.dropRate());
        return out;
    }

    private static void put(Map<String, Double> out, String prefix, double... values) {
        for (int i = 0; i < NAMES.size(); i++) out.put(prefix + NAMES.get(i), values[i]);
    }
}
