package moelab.train;

import moelab.routing.RoutingRecord;

import java.util.List;
import java.util.Map;

/**
 * A validation run.
 *
 * @param step      optimizer steps done
 * @param loss      mean token cross-entropy over the validation batches
 * @param perDomain mean token cross-entropy per domain name (empty when no labels)
 * @param routing   eval routing records (dropless, plain router), per layer per batch
 * @param scalars   named metrics from the trainer's {@link EvalProbe}s (e.g. "purity", "mar.switch_rate"), in probe order
 */
public record EvalMetrics(long step, double loss, Map<String, Double> perDomain, List<RoutingRecord> routing,
                          Map<String, Double> scalars) {
    public EvalMetrics(long step, double loss, Map<String, Double> perDomain, List<RoutingRecord> routing) {
        this(step, loss, perDomain, routing, Map.of());
    }
}
