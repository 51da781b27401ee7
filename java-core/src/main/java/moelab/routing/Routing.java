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
 */
public record Routing(int[] experts, Tensor gates, Tensor auxLoss, Tensor probs) {
    /** The probabilities as a flat [T*E] copy, or null. */
    public float[] probsArray() { return probs == null ? null : probs.toArray(); }
}
