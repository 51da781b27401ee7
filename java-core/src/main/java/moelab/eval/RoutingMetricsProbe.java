package moelab.eval;

import moelab.data.Batch;
import moelab.metrics.RoutingMetrics;
import moelab.nn.Transformer;
import moelab.train.EvalMetrics;
import moelab.train.EvalProbe;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a validation run's eval routing into the testbed's scalars (eval.jsonl {@code scalars}):
 * layer means {@code purity, purity_norm, utilization, expert_entropy, max_vio, nmi, drop_rate},
 * per domain {@code purity.<domain>}, and per MoE layer {@code layer<L>.<metric>} for the seven
 * metrics. Reads only the records the trainer already collected; touches no model state.
 */
public final class RoutingMetricsProbe implements EvalProbe {
    /** The layer-mean scalar names, in the order they are written. */
    public static final List<String> NAMES = List.of("purity", "purity_norm", "utilization", "expert_entropy", "max_vio", "nmi", "drop_rate");

    private final List<String> domainNames;

    /** @param domainNames domain index -> name, as in Batch.domains */
    public RoutingMetricsProbe(List<String> domainNames) {
        if (domainNames.isEmpty()) throw new IllegalArgumentException("RoutingMetricsProbe: need at least one domain name");
        this.domainNames = List.copyOf(domainNames);
    }

    @Override
    public Map<String, Double> measure(Transformer model, List<Batch> validation, EvalMetrics base) {
        return scalars(RoutingMetrics.of(base.routing(), domainNames.size()), domainNames);
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
