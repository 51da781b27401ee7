package moelab.routing;

import moelab.tensor.Tensor;

/**
 * A router's decision for T tokens and k slots each.
 *
 * @param experts expert of slot (t, j) at [t*k + j]: the REQUESTED routes, before capacity drops
 * @param gates   gate weight of each slot [T, k], differentiable toward the router
 * @param auxLoss the router's auxiliary losses for this layer, already scaled by their coefficients
 *                (a scalar tensor), or null
 * @param probs   router probabilities softmax(z) [T, E] (differentiable: the variance loss and
 *                statistics read it), or null
 * @param taken   null for token-choice routing (k requested routes per token, capacity applies
 *                after); for expert choice the slots' flags [T*k] of which (token, expert) pairs an
 *                expert took: the layer runs exactly these and applies no further capacity
 */
public record Routing(int[] experts, Tensor gates, Tensor auxLoss, Tensor probs, boolean[] taken) {
    /** Token-choice routing. */
    public Routing(int[] experts, Tensor gates, Tensor auxLoss, Tensor probs) { this(experts, gates, auxLoss, probs, null); }

    /** The probabilities as a flat [T*E] copy, or null. */
    public float[] probsArray() { return probs == null ? null : probs.toArray(); }
}
