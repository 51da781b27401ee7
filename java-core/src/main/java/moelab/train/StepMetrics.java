package moelab.train;

import moelab.routing.RoutingRecord;

import java.util.List;

/**
 * What one optimizer step did. Steps count optimizer updates done: the first step is 1, and a
 * checkpoint, eval or metrics row at step N comes after N updates.
 *
 * @param step         optimizer steps done including this one (1 for the first)
 * @param loss         total loss (lm + aux), mean over micro-batches
 * @param lmLoss       cross-entropy part
 * @param auxLoss      auxiliary losses (summed over layers), 0 if none
 * @param lr           learning rate used
 * @param gradNorm     global gradient norm before clipping
 * @param tokensPerSec training throughput of this step
 * @param elapsedSec   wall time since training started
 * @param routing      one record per MoE layer per micro-batch of this step
 */
public record StepMetrics(long step, double loss, double lmLoss, double auxLoss, double lr, double gradNorm,
                          double tokensPerSec, double elapsedSec, List<RoutingRecord> routing) {}
