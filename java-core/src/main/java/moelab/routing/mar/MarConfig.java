package moelab.routing.mar;

import moelab.config.ConfigException;

/**
 * Memory-Aware Routing settings (YAML section {@code model.moe.mar}).
 *
 * @param enabled    add alpha * cos(x, expert memory mean) to the router logits in training
 * @param alpha      fusion weight of the memory match term
 * @param bufferSize N, token vectors each expert remembers (FIFO)
 */
public record MarConfig(boolean enabled, double alpha, int bufferSize) {
    public MarConfig {
        ConfigException.require(alpha >= 0, "model.moe.mar.alpha", "must be >= 0, got " + alpha);
        ConfigException.require(bufferSize >= 1, "model.moe.mar.buffer_size", "must be >= 1, got " + bufferSize);
    }

    /** MAR off (alpha 0.5, N 128 when switched on). */
    public static MarConfig off() { return new MarConfig(false, 0.5, 128); }
}
