package moelab.routing;

import java.util.Map;

/**
 * Chooses k experts per token from the router logits. {@link TopKRouter} (the learned router,
 * balanced by a {@link BalancingMethod}), {@link ReferenceRouter} and the memory-aware decorator
 * implement this; the MoE layer applies capacity and dispatches.
 */
public interface Router {
    String name();

    Routing route(RoutingInput in);

    /** The data-parallel ranks this router's global-scope statistics are summed over (default: one process). */
    default void useRanks(moelab.dist.Collective ranks) {}

    /** Called after every optimizer step (bias updates, global-scope counters). */
    default void endStep() {}

    /** Non-trainable state that a checkpoint must keep (e.g. expert biases, memory buffers). */
    default Map<String, float[]> state() { return Map.of(); }

    /** Restores what {@link #state()} returned; throws naming a missing or mis-sized entry. */
    default void loadState(Map<String, float[]> state) {}
}
