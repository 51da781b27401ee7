package moelab.routing;

/**
 * SH, Sinkhorn routing (Megatron's "sinkhorn" balancing): on each scope group's T_G x E logits,
 * C = exp(z_t - max_j z_tj) in double; iterate d0 = (1/T_G) / (C d1 + eps), d1 = (1/E) / (C^T d0 + eps)
 * until mean |change of d1| < tol (or maxIters); Pi = diag(d0) C diag(d1) has row sums 1/T_G and
 * column sums 1/E; selection TopK(Pi_t). The selection is an integer decision computed outside
 * autograd: no gradient flows through Sinkhorn, and the gates are the router's softmax at the
 * selected experts (renormalised or not as model.moe.norm_top_k says). No loss; eval is plain TopK(p).
 */
public final class SinkhornBalancing implements BalancingMethod {
    public static final double EPS = 1e-8;
    private final double tol;
    private final int maxIters;

    public SinkhornBalancing(double tol, int maxIters) {
        this.tol = tol;
        this.maxIters = maxIters;
    }

    @Override public String name() { return "sh"; }

    @Override
    public void select(float[] z, float[] p, int from, int to, int e, int k, int[] experts) {
        if (to == from) return;
        double[] pi = plan(z, from, to, e, tol, maxIters);
        for (int t = 0; t < to - from; t++) BalancingMethod.topK(pi, t * e, e, k, experts, (from + t) * k);
    }

    /** The balanced plan Pi [T_G*E] for tokens [from, to) of logits z [T*E]. */
    public static double[] plan(float[] z, int from, int to, int e, double tol, int maxIters) {
        int tg = to - from;
        double[] c = new double[tg * e];
        for (int t = 0; t < tg; t++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < e; i++) max = Math.max(max, z[(from + t) * e + i]);
            for (int i = 0; i < e; i++) c[t * e + i] = Math.exp(z[(from + t) * e + i] - max);   // the scaling absorbs the shift
        }
        double[] d0 = new double[tg], d1 = new double[e], next = new double[e];
        java.util.Arrays.fill(d1, 1.0);
        for (int it = 0; it < maxIters; it++) {
            for (int t = 0; t < tg; t++) {
                double s = 0;
                for (int i = 0; i < e; i++) s += c[t * e + i] * d1[i];
                d0[t] = (1.0 / tg) / (s + EPS);
            }
            java.util.Arrays.fill(next, 0);
            for (int t = 0; t < tg; t++)
                for (int i = 0; i < e; i++) next[i] += c[t * e + i] * d0[t];
            double change = 0;
            for (int i = 0; i < e; i++) {
                double v = (1.0 / e) / (next[i] + EPS);
                change += Math.abs(v - d1[i]);
                d1[i] = v;
            }
            if (change / e < tol) break;
        }
        for (int t = 0; t < tg; t++)
            for (int i = 0; i < e; i++) c[t * e + i] *= d0[t] * d1[i];
        return c;
    }
}
