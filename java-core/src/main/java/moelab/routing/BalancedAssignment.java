package moelab.routing;

import java.util.Arrays;

/**
 * BA, balanced top-k assignment (BASE layers, Lewis et al. 2021, in top-k form): in each scope
 * group of T_G tokens every token gets exactly k distinct experts and expert e exactly cap_e slots,
 * cap_e = floor(k T_G / E) + (e < (k T_G mod E) ? 1 : 0) (the first experts take the remainder),
 * maximising sum of the chosen logits z_te. Eval is greedy TopK(p). No loss; no gradient through the
 * assignment; gates as for every method.
 *
 * <p>Two solvers ({@link BaSolver}): {@code flow}, the exact min-cost flow of
 * {@link MinCostFlowAssignment} (the default), and {@code auction}, below, kept as the
 * independent second solver the tests hold the flow to.
 *
 * <p>Auction: over expert slot prices (Bertsekas) with eps-scaling. A token missing a
 * route bids for its best expert e1 by value z_te - (cheapest slot price of e) among the experts it
 * does not hold yet, raising that slot's price by (v1 - v2) + eps (v2 the second-best value) and
 * evicting the slot's holder, who bids again. Prices persist across phases, eps shrinks 5x per phase
 * down to {@code eps}; the final assignment's sum is within k*T_G*eps of the optimum. Queue order is by
 * token index and ties go to the lower expert index, so the result is deterministic. It restarts the
 * assignment in every phase and its bid count grows with contention (12-66 bids per slot measured on
 * the study model), which is why it is not the default.
 */
public final class BalancedAssignment implements BalancingMethod {
    private static final long MAX_BIDS = 200_000_000L;
    private final BaSolver solver;
    private final double eps;

    /** eps: the auction's final bid increment (unused by the flow solver). */
    public BalancedAssignment(BaSolver solver, double eps) {
        this.solver = solver;
        this.eps = eps;
    }

    @Override public String name() { return "ba"; }

    @Override
    public void select(float[] z, float[] p, int from, int to, int e, int k, int[] experts) {
        if (to == from) return;
        int[] a = solver == BaSolver.FLOW ? MinCostFlowAssignment.assign(z, from, to, e, k) : assign(z, from, to, e, k, eps);
        System.arraycopy(a, 0, experts, from * k, a.length);
    }

    /** Slots of expert e for T tokens: floor(kT/E), plus one for the first (kT mod E) experts. */
    public static int capacity(int e, int tokens, int numExperts, int k) {
        long total = (long) k * tokens;
        return (int) (total / numExperts) + (e < total % numExperts ? 1 : 0);
    }

    /** The auction: experts [T_G*k] for tokens [from, to) of logits z [T*E]; each token's experts in descending z. */
    public static int[] assign(float[] z, int from, int to, int e, int k, double eps) {
        int tg = to - from;
        if (k < 1 || k > e) throw new IllegalArgumentException("balanced assignment: k=" + k + " must be in [1, E=" + e + "]");
        int[] out = new int[tg * k];
        if (tg == 0) return out;
        // per expert, its slots as a binary min-heap on price: price[x][0] is the cheapest slot, owner[x][i] its token or -1
        double[][] price = new double[e][];
        int[][] owner = new int[e][];
        for (int x = 0; x < e; x++) {
            price[x] = new double[capacity(x, tg, e, k)];
            owner[x] = new int[price[x].length];
        }
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (int i = from * e; i < to * e; i++) { lo = Math.min(lo, z[i]); hi = Math.max(hi, z[i]); }
        double phaseEps = Math.max(eps, (hi - lo) / 4);
        boolean[] held = new boolean[tg * e];
        int[] queue = new int[tg * k];            // ring buffer of tokens missing a route (at most k*T_G at once)
        long bids = 0;
        while (true) {
            Arrays.fill(held, false);
            for (int x = 0; x < e; x++) Arrays.fill(owner[x], -1);
            int head = 0, size = 0;
            for (int j = 0; j < k; j++) for (int t = 0; t < tg; t++) queue[size++] = t;
            while (size > 0) {
                int t = queue[head];
                head = (head + 1) % queue.length;
                size--;
                int e1 = -1, e2 = -1, row = (from + t) * e;
                double v1 = Double.NEGATIVE_INFINITY, v2 = Double.NEGATIVE_INFINITY;
                for (int x = 0; x < e; x++) {
                    if (held[t * e + x] || price[x].length == 0) continue;
                    double v = z[row + x] - price[x][0];
                    if (v > v1) { v2 = v1; e2 = e1; v1 = v; e1 = x; }
                    else if (v > v2) { v2 = v; e2 = x; }
                }
                if (e1 < 0) throw new IllegalStateException("balanced assignment: token " + t + " has no expert left (k=" + k + ", E=" + e + ")");
                int prev = owner[e1][0];
                if (prev >= 0) { held[prev * e + e1] = false; queue[(head + size) % queue.length] = prev; size++; }
                owner[e1][0] = t;
                held[t * e + e1] = true;
                price[e1][0] += (e2 < 0 ? 0 : v1 - v2) + phaseEps;
                siftDown(price[e1], owner[e1]);
                if (++bids > MAX_BIDS)
                    throw new IllegalStateException("balanced assignment: no convergence after " + MAX_BIDS + " bids (T=" + tg + ", E=" + e + ", k=" + k
                            + "); raise model.moe.balance.auction_eps");
            }
            if (phaseEps <= eps) break;
            phaseEps = Math.max(eps, phaseEps / 5);
        }
        double[] scores = new double[e];
        for (int t = 0; t < tg; t++) {
            for (int x = 0; x < e; x++) scores[x] = held[t * e + x] ? z[(from + t) * e + x] : Double.NEGATIVE_INFINITY;
            BalancingMethod.topK(scores, 0, e, k, out, t * k);
        }
        return out;
    }

    /** Restores the min-heap after the root's price rose. */
    private static void siftDown(double[] price, int[] owner) {
        int n = price.length, i = 0;
        while (true) {
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < n && price[l] < price[m]) m = l;
            if (r < n && price[r] < price[m]) m = r;
            if (m == i) return;
            double p = price[i]; price[i] = price[m]; price[m] = p;
            int o = owner[i]; owner[i] = owner[m]; owner[m] = o;
            i = m;
        }
    }
}
