package moelab.routing;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * BA, balanced top-k assignment (BASE layers, Lewis et al. 2021, in top-k form): in each scope
 * group of T_G tokens every token gets exactly k distinct experts and expert e exactly cap_e slots,
 * cap_e = floor(k T_G / E) + (e < (k T_G mod E) ? 1 : 0) (the first experts take the remainder),
 * maximising sum of the chosen logits z_te. Eval is greedy TopK(p). No loss; no gradient through the
 * assignment; gates as for every method.
 *
 * <p>Solver: an auction over expert slot prices (Bertsekas) with eps-scaling. A token missing a
 * route bids for its best expert e1 by value z_te - (cheapest slot price of e) among the experts it
 * does not hold yet, raising that slot's price by (v1 - v2) + eps (v2 the second-best value) and
 * evicting the slot's holder, who bids again. Prices persist across phases, eps shrinks 5x per phase
 * down to {@code eps}; the final assignment's sum is within k*T_G*eps of the optimum. Queue order is by
 * token index and ties go to the lower expert index, so the result is deterministic.
 */
public final class BalancedAssignment implements BalancingMethod {
    private static final long MAX_BIDS = 200_000_000L;
    private final double eps;

    public BalancedAssignment(double eps) { this.eps = eps; }

    @Override public String name() { return "ba"; }

    @Override
    public void select(float[] z, float[] p, int from, int to, int e, int k, int[] experts) {
        if (to == from) return;
        int[] a = assign(z, from, to, e, k, eps);
        System.arraycopy(a, 0, experts, from * k, a.length);
    }

    /** Slots of expert e for T tokens: floor(kT/E), plus one for the first (kT mod E) experts. */
    public static int capacity(int e, int tokens, int numExperts, int k) {
        long total = (long) k * tokens;
        return (int) (total / numExperts) + (e < total % numExperts ? 1 : 0);
    }

    /** experts [T_G*k] for tokens [from, to) of logits z [T*E]; each token's experts in descending z. */
    public static int[] assign(float[] z, int from, int to, int e, int k, double eps) {
        int tg = to - from;
        if (k < 1 || k > e) throw new IllegalArgumentException("balanced assignment: k=" + k + " must be in [1, E=" + e + "]");
        int[] out = new int[tg * k];
        if (tg == 0) return out;
        double[][] price = new double[e][];
        int[][] owner = new int[e][];
        @SuppressWarnings("unchecked") PriorityQueue<Integer>[] cheapest = new PriorityQueue[e];
        for (int x = 0; x < e; x++) {
            int cap = capacity(x, tg, e, k);
            price[x] = new double[cap];
            owner[x] = new int[cap];
            final double[] px = price[x];
            cheapest[x] = new PriorityQueue<>(Math.max(1, cap), (a, b) -> {
                int c = Double.compare(px[a], px[b]);
                return c != 0 ? c : Integer.compare(a, b);
            });
        }
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (int i = from * e; i < to * e; i++) { lo = Math.min(lo, z[i]); hi = Math.max(hi, z[i]); }
        double phaseEps = Math.max(eps, (hi - lo) / 4);
        boolean[] held = new boolean[tg * e];
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        long bids = 0;
        while (true) {
            Arrays.fill(held, false);
            for (int x = 0; x < e; x++) {
                Arrays.fill(owner[x], -1);
                cheapest[x].clear();
                for (int s = 0; s < owner[x].length; s++) cheapest[x].add(s);
            }
            for (int j = 0; j < k; j++) for (int t = 0; t < tg; t++) queue.add(t);
            while (!queue.isEmpty()) {
                int t = queue.poll();
                int e1 = -1, e2 = -1;
                double v1 = Double.NEGATIVE_INFINITY, v2 = Double.NEGATIVE_INFINITY;
                for (int x = 0; x < e; x++) {
                    if (held[t * e + x] || owner[x].length == 0) continue;
                    double v = z[(from + t) * e + x] - price[x][cheapest[x].peek()];
                    if (v > v1) { v2 = v1; e2 = e1; v1 = v; e1 = x; }
                    else if (v > v2) { v2 = v; e2 = x; }
                }
                if (e1 < 0) throw new IllegalStateException("balanced assignment: token " + t + " has no expert left (k=" + k + ", E=" + e + ")");
                int s = cheapest[e1].poll();
                price[e1][s] += (e2 < 0 ? 0 : v1 - v2) + phaseEps;
                int prev = owner[e1][s];
                if (prev >= 0) { held[prev * e + e1] = false; queue.add(prev); }
                owner[e1][s] = t;
                held[t * e + e1] = true;
                cheapest[e1].add(s);
                if (++bids > MAX_BIDS)
                    throw new IllegalStateException("balanced assignment: no convergence after " + MAX_BIDS + " bids (T=" + tg + ", E=" + e + ", k=" + k
                            + "); raise model.moe.balance.auction_eps");
            }
            if (phaseEps <= eps) break;
            phaseEps = Math.max(eps, phaseEps / 5);
        }
        for (int t = 0; t < tg; t++) {
            double[] row = new double[e];
            for (int x = 0; x < e; x++) row[x] = held[t * e + x] ? z[(from + t) * e + x] : Double.NEGATIVE_INFINITY;
            BalancingMethod.topK(row, 0, e, k, out, t * k);
        }
        return out;
    }
}
