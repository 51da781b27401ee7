package moelab.losses;

import moelab.tensor.Autograd;
import moelab.tensor.Shape;
import moelab.tensor.Tensor;

/**
 * Routing variance V of the router probabilities s [T, E] (Guo et al., arXiv 2505.22323); the
 * training loss SUBTRACTS gamma * V, i.e. the variance is maximised. One fused tape node.
 *
 * <ul>
 *   <li>{@code per_token} (default, the released code's torch.var(softmax, -1).mean()): per token
 *       the unbiased variance across its E probabilities, mean over tokens:
 *       V = (1/T) Σ_t 1/(E−1) Σ_j (s_tj − m_t)², m_t = mean_j s_tj; ∂V/∂s_tj = 2(s_tj − m_t)/(T(E−1)).
 *       0 <= V <= 1/E for rows that sum to 1 (0 at uniform, 1/E at one-hot).</li>
 *   <li>{@code per_expert} (paper Eq. 7 as a mean over tokens): per expert the variance across the
 *       batch's tokens, columns centred: V = (1/(T E)) Σ_t Σ_j (s_tj − s̄_j)², s̄_j = mean_t s_tj;
 *       ∂V/∂s_tj = 2(s_tj − s̄_j)/(T E). Depends on the whole batch through s̄.</li>
 * </ul>
 * The centring terms drop out of both gradients (deviations from a mean sum to zero). E = 1 gives
 * V = 0; an empty batch gives 0.
 */
public final class VarianceLoss {
    private VarianceLoss() {}

    public static final String PER_TOKEN = "per_token", PER_EXPERT = "per_expert";

    // probs [T, E] -> scalar
    public static Tensor variance(Tensor probs, String mode) {
        Shape.requireRank("variance_loss", probs, 2);
        boolean perToken = switch (mode) {
            case PER_TOKEN -> true;
            case PER_EXPERT -> false;
            default -> throw new IllegalArgumentException("variance_loss: mode '" + mode + "' is not allowed; allowed values: per_token, per_expert");
        };
        Tensor pc = probs.contiguous();
        int t = probs.dim(0), e = probs.dim(1);
        float[] s = pc.data();
        int so = pc.offset();
        double[] centre = perToken ? rowMeans(s, so, t, e) : columnMeans(s, so, t, e);
        double norm = t == 0 || e < 2 ? 0 : perToken ? 1.0 / ((double) t * (e - 1)) : 1.0 / ((double) t * e);
        double v = 0;
        for (int i = 0; i < t; i++)
            for (int j = 0; j < e; j++) {
                double dev = s[so + i * e + j] - (perToken ? centre[i] : centre[j]);
                v += dev * dev;
            }
        float[] out = {(float) (v * norm)};
        return Autograd.record("variance_loss", Tensor.of(out), gout -> {
            if (!probs.requiresGrad()) return;
            float[] g = probs.gradBuffer();   // contiguous [T, E]
            double c = 2 * norm * gout[0];
            for (int i = 0; i < t; i++)
                for (int j = 0; j < e; j++)
                    g[i * e + j] += (float) (c * (s[so + i * e + j] - (perToken ? centre[i] : centre[j])));
        }, probs);
    }

    private static double[] rowMeans(float[] s, int so, int t, int e) {
        double[] m = new double[t];
        for (int i = 0; i < t; i++) {
            double sum = 0;
            for (int j = 0; j < e; j++) sum += s[so + i * e + j];
            m[i] = sum / e;
        }
        return m;
    }

    private static double[] columnMeans(float[] s, int so, int t, int e) {
        double[] m = new double[e];
        for (int i = 0; i < t; i++)
            for (int j = 0; j < e; j++) m[j] += s[so + i * e + j];
        for (int j = 0; j < e; j++) m[j] = t == 0 ? 0 : m[j] / t;
        return m;
    }
}
