package moelab.train;

import moelab.config.ConfigException;

/**
 * Training settings (YAML section {@code train}, snake_case keys).
 *
 * @param seed            seeds model init, data order and every random choice
 * @param steps           optimizer steps
 * @param microBatch      sequences per micro-batch
 * @param gradAccum       micro-batches per optimizer step
 * @param seqLen          tokens per sequence
 * @param lr              peak learning rate
 * @param minLr           floor of the cosine decay
 * @param warmupSteps     linear warm-up steps
 * @param weightDecay     AdamW decoupled weight decay (matrices only)
 * @param beta1           AdamW beta1
 * @param beta2           AdamW beta2
 * @param gradClip        max global gradient norm (0 = off)
 * @param evalEvery       steps between validation runs (0 = only at the end)
 * @param evalBatches     validation micro-batches per evaluation
 * @param checkpointEvery steps between checkpoints (0 = only at the end)
 * @param logEvery        steps between metric lines
 * @param probeEvery      steps between routing-stability probes (training routing of a fixed batch with every
 *                        domain, and the training routing's expert x domain counts; 0 = off)
 * @param probeSequences  validation sequences per domain in that probe batch
 */
public record TrainConfig(long seed, int steps, int microBatch, int gradAccum, int seqLen, float lr, float minLr,
                          int warmupSteps, float weightDecay, float beta1, float beta2, float gradClip,
                          int evalEvery, int evalBatches, int checkpointEvery, int logEvery, int probeEvery, int probeSequences) {
    public TrainConfig {
        ConfigException.require(steps >= 1, "train.steps", "must be >= 1, got " + steps);
        ConfigException.require(microBatch >= 1, "train.micro_batch", "must be >= 1, got " + microBatch);
        ConfigException.require(gradAccum >= 1, "train.grad_accum", "must be >= 1, got " + gradAccum);
        ConfigException.require(seqLen >= 1, "train.seq_len", "must be >= 1, got " + seqLen);
        ConfigException.require(lr > 0, "train.lr", "must be > 0, got " + lr);
        ConfigException.require(minLr >= 0 && minLr <= lr, "train.min_lr", "must be in [0, train.lr=" + lr + "], got " + minLr);
        ConfigException.require(warmupSteps >= 0 && warmupSteps <= steps, "train.warmup_steps", "must be in [0, train.steps=" + steps + "], got " + warmupSteps);
        ConfigException.require(weightDecay >= 0, "train.weight_decay", "must be >= 0, got " + weightDecay);
        ConfigException.require(beta1 >= 0 && beta1 < 1, "train.beta1", "must be in [0, 1), got " + beta1);
        ConfigException.require(beta2 >= 0 && beta2 < 1, "train.beta2", "must be in [0, 1), got " + beta2);
        ConfigException.require(gradClip >= 0, "train.grad_clip", "must be >= 0 (0 = off), got " + gradClip);
        ConfigException.require(evalEvery >= 0, "train.eval_every", "must be >= 0, got " + evalEvery);
        ConfigException.require(evalBatches >= 1, "train.eval_batches", "must be >= 1, got " + evalBatches);
        ConfigException.require(checkpointEvery >= 0, "train.checkpoint_every", "must be >= 0, got " + checkpointEvery);
        ConfigException.require(logEvery >= 1, "train.log_every", "must be >= 1, got " + logEvery);
        ConfigException.require(probeEvery >= 0, "train.probe_every", "must be >= 0 (0 = off), got " + probeEvery);
        ConfigException.require(probeSequences >= 1, "train.probe_sequences", "must be >= 1, got " + probeSequences);
    }

    /** Without the routing-stability probe. */
    public TrainConfig(long seed, int steps, int microBatch, int gradAccum, int seqLen, float lr, float minLr,
                       int warmupSteps, float weightDecay, float beta1, float beta2, float gradClip,
                       int evalEvery, int evalBatches, int checkpointEvery, int logEvery) {
        this(seed, steps, microBatch, gradAccum, seqLen, lr, minLr, warmupSteps, weightDecay, beta1, beta2, gradClip,
                evalEvery, evalBatches, checkpointEvery, logEvery, 0, 1);
    }
}
