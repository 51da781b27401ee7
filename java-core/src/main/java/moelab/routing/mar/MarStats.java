package moelab.routing.mar;

/**
 * How strongly the memory steered one layer's training routing over one optimizer step
 * (means over the step's tokens).
 *
 * @param memoryStd   std over experts of alpha * cos(x, p_i), per token
 * @param logitStd    std over experts of the router logits z, per token: the scale the memory term competes with
 * @param topkChanged share of top-k choices that differ between TopK(z') and TopK(z) (1 - |overlap| / k)
 * @param tokens      tokens measured (0: no training routing this step; the means are then NaN)
 */
public record MarStats(double memoryStd, double logitStd, double topkChanged, long tokens) {
    static MarStats empty() { return new MarStats(Double.NaN, Double.NaN, Double.NaN, 0); }
}
