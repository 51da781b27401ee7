package moelab.train;

import moelab.data.Batch;
import moelab.nn.Transformer;

import java.util.List;
import java.util.Map;

/**
 * A measurement taken after every validation run: routing metrics, memory-aware routing
 * diagnostics, expert-specialization statistics. Probes run in registration order under no-grad;
 * their results are merged into {@link EvalMetrics#scalars()} (a later probe may not reuse a name).
 */
public interface EvalProbe {
    /**
     * @param model      the model being trained (probes must leave its parameters and router state as they found them)
     * @param validation the validation batches the run evaluated
     * @param base       the validation run's loss and eval routing records
     * @return named values; NaN where a value is undefined
     */
    Map<String, Double> measure(Transformer model, List<Batch> validation, EvalMetrics base);
}
