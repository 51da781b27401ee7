package moelab.routing.mar;

import moelab.config.ConfigException;

import java.util.List;

/**
 * Memory-Aware Routing settings (YAML section {@code model.moe.mar}). The defaults follow the
 * spec's recommended resolutions (shared/research/mar.md §5).
 *
 * @param enabled        add alpha * cos(x, expert memory mean) to the router logits in training
 * @param alpha          fusion weight of the memory match term
 * @param bufferSize     N, entries each expert remembers
 * @param entry          what one buffer entry is: token (one routed token vector, pushed as it is routed) |
 *                       step_mean (once per optimizer step, the mean of every vector routed to the expert over
 *                       all its micro-batches, so N entries span N steps) | step_sample (once per optimizer step,
 *                       samplesPerStep vectors drawn uniformly, seeded, from everything routed to the expert in the step)
 * @param push           which routes write to the memories: all (every selected expert) | top1
 * @param eviction       which entry a full buffer drops: fifo (the oldest) | random (seeded, uniform)
 * @param detachMatch    stop the gradient through the match term (x gets none from cos(x, p))
 * @param evalWithMemory diagnostic: evaluation also adds the (frozen) memory term; never pushes
 * @param samplesPerStep step_sample: vectors each expert keeps per optimizer step (fewer when it took fewer)
 * @param probeBatches   validation batches the MAR diagnostics (the eval package's MarProbe) run on at every
 *                       evaluation, with or without MAR (pseudo-balance needs the baselines too); 0 = off
 * @param alphaScale     none (z + alpha * m, the paper) | logit_std (z + alpha * (s_z / s_m) * m, s_z and s_m the
 *                       micro-batch's mean over tokens of the std over experts of z and of m, taken without gradient:
 *                       alpha is then the memory term's spread relative to the logits', whatever scale the router learns)
 */
public record MarConfig(boolean enabled, double alpha, int bufferSize, String entry, String push, String eviction,
                        boolean detachMatch, boolean evalWithMemory, int samplesPerStep, int probeBatches, String alphaScale) {
    public static final List<String> ENTRIES = List.of("token", "step_mean", "step_sample");
    public static final List<String> PUSHES = List.of("all", "top1");
    public static final List<String> EVICTIONS = List.of("fifo", "random");
    public static final List<String> ALPHA_SCALES = List.of("none", "logit_std");

    public MarConfig {
        ConfigException.require(alpha >= 0 && Double.isFinite(alpha), "model.moe.mar.alpha", "must be a finite number >= 0, got " + alpha);
        ConfigException.require(bufferSize >= 1, "model.moe.mar.buffer_size", "must be >= 1, got " + bufferSize);
        ConfigException.require(entry != null && ENTRIES.contains(entry), "model.moe.mar.entry",
                "'" + entry + "' is not allowed; allowed values: " + String.join(", ", ENTRIES));
        ConfigException.require(push != null && PUSHES.contains(push), "model.moe.mar.push",
                "'" + push + "' is not allowed; allowed values: " + String.join(", ", PUSHES));
        ConfigException.require(eviction != null && EVICTIONS.contains(eviction), "model.moe.mar.eviction",
                "'" + eviction + "' is not allowed; allowed values: " + String.join(", ", EVICTIONS));
        ConfigException.require(samplesPerStep >= 1, "model.moe.mar.samples_per_step", "must be >= 1, got " + samplesPerStep);
        ConfigException.require(probeBatches >= 0, "model.moe.mar.probe_batches", "must be >= 0 (0 = off), got " + probeBatches);
        ConfigException.require(alphaScale != null && ALPHA_SCALES.contains(alphaScale), "model.moe.mar.alpha_scale",
                "'" + alphaScale + "' is not allowed; allowed values: " + String.join(", ", ALPHA_SCALES));
    }

    /** The paper's fixed alpha (alpha_scale none). */
    public MarConfig(boolean enabled, double alpha, int bufferSize, String entry, String push, String eviction,
                     boolean detachMatch, boolean evalWithMemory, int samplesPerStep, int probeBatches) {
        this(enabled, alpha, bufferSize, entry, push, eviction, detachMatch, evalWithMemory, samplesPerStep, probeBatches, "none");
    }

    /** The same settings with another alpha_scale. */
    public MarConfig withAlphaScale(String scale) {
        return new MarConfig(enabled, alpha, bufferSize, entry, push, eviction, detachMatch, evalWithMemory, samplesPerStep, probeBatches, scale);
    }

    /** All options but the sample count (8), diagnostics on the first validation batch. */
    public MarConfig(boolean enabled, double alpha, int bufferSize, String entry, String push, String eviction,
                     boolean detachMatch, boolean evalWithMemory) {
        this(enabled, alpha, bufferSize, entry, push, eviction, detachMatch, evalWithMemory, 8, 1);
    }

    /** The spec's defaults with the given switch, alpha and N. */
    public MarConfig(boolean enabled, double alpha, int bufferSize) {
        this(enabled, alpha, bufferSize, "token", "all", "fifo", false, false);
    }

    /** Whether entries are written once per optimizer step (at endStep) rather than as tokens are routed. */
    public boolean perStep() { return !entry.equals("token"); }

    /** MAR off (alpha 0.5, N 128 when switched on). */
    public static MarConfig off() { return new MarConfig(false, 0.5, 128); }

    /** MAR on with the spec's defaults (alpha 0.5, N 128, token entries, all k, FIFO). */
    public static MarConfig on() { return new MarConfig(true, 0.5, 128); }
}
