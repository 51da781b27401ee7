package moelab.routing;

import moelab.tensor.Tensor;

/**
 * What a router sees in one MoE layer for one micro-batch.
 *
 * @param layer    MoE block index
 * @param hidden   router input x [T, d] (the post-norm hidden state)
 * @param logits   router logits z = x·W_r [T, E], differentiable
 * @param topK     k
 * @param tokens   sequence/domain layout of the T tokens
 * @param training training routing (balancing, memories) or eval routing (plain top-k)
 */
public record RoutingInput(int layer, Tensor hidden, Tensor logits, int topK, TokenInfo tokens, boolean training) {
    public int numTokens() { return logits.dim(0); }
    public int numExperts() { return logits.dim(1); }
}
