package moelab.routing;

import java.util.Arrays;

/**
 * The exact balanced top-k assignment by successive shortest paths (min-cost flow), for few
 * experts and many tokens: maximise the sum of z_te over T_G tokens [from, to) of logits z [T*E],
 * each token k distinct experts, expert e exactly {@link BalancedAssignment#capacity} slots.
 *
 * <p>The flow network is source -> token (k units) -> expert (one unit per pair, cost -z_te) ->
 * sink (cap_e units). Routes are added one at a time, token 0..T_G-1 in k rounds; each is the
 * cheapest path from that token to an expert with a free slot in the residual network, which keeps
 * the partial assignment optimal for the routes placed so far (the standard successive-shortest-path
 * argument), so the last one is optimal. The paths run over the E experts only: an edge a -> b is
 * "some token holding a and not b moves from a to b", costing min over those tokens of z_ta - z_tb,
 * kept per pair (a, b) in a heap. Expert prices p_e (the negated Johnson potentials) keep every
 * reduced edge cost z_ta - z_tb - p_a + p_b >= 0, so each path is a Dijkstra over E nodes that stops
 * at the first expert with a free slot (its price is 0). At the end every token holds its top-k of
 * z_t - p: the prices are the balancing bias that makes greedy routing balanced.
 *
 * <p>Cost per route: O(E^2) heap peeks for the Dijkstra, O(E log T) heap pushes per token moved.
 * Deterministic: ties go to the lower expert index and, within a pair's heap, the lower token.
 */
public final class MinCostFlowAssignment {
    private MinCostFlowAssignment() {}

    /** experts [T_G*k] for tokens [from, to) of z [T*E]; each token's experts in descending z. */
    public static int[] assign(float[] z, int from, int to, int e, int k) {
        int tg = to - from;
        if (k < 1 || k > e) throw new IllegalArgumentException("balanced assignment: k=" + k + " must be in [1, E=" + e + "]");
        int[] out = new int[tg * k];
        if (tg == 0) return out;
        Solver s = new Solver(z, from, tg, e, k);
        for (int round = 0; round < k; round++)
            for (int t = 0; t < tg; t++) s.addRoute(t);
        double[] scores = new double[e];
        for (int t = 0; t < tg; t++) {
            for (int x = 0; x < e; x++) scores[x] = s.held[t * e + x] ? z[(from + t) * e + x] : Double.NEGATIVE_INFINITY;
            BalancingMethod.topK(scores, 0, e, k, out, t * k);
        }
        return out;
    }

    /** The residual network of one scope group: who holds what, expert loads and prices, the move heaps. */
    private static final class Solver {
        final float[] z;
        final int from, tg, e;
        final boolean[] held;            // [T_G*E] token t holds expert x
        final int[] load, cap;           // [E]
        final double[] price;            // [E] p_x >= 0; 0 while x has a free slot
        final MoveHeap[] moves;          // [E*E] pair (a, b): tokens holding a, not b, keyed z_ta - z_tb
        // Dijkstra state, [E] each
        final double[] dist;
        final boolean[] done;
        final int[] fromExpert, viaToken;

        Solver(float[] z, int from, int tg, int e, int k) {
            this.z = z;
            this.from = from;
            this.tg = tg;
            this.e = e;
            held = new boolean[tg * e];
            load = new int[e];
            cap = new int[e];
            for (int x = 0; x < e; x++) cap[x] = BalancedAssignment.capacity(x, tg, e, k);
            price = new double[e];
            moves = new MoveHeap[e * e];
            for (int i = 0; i < moves.length; i++) moves[i] = new MoveHeap();
            dist = new double[e];
            done = new boolean[e];
            fromExpert = new int[e];
            viaToken = new int[e];
        }

        float z(int t, int x) { return z[(from + t) * e + x]; }

        /** One more route for token t along the cheapest path to a free slot; then the prices move. */
        void addRoute(int t0) {
            for (int x = 0; x < e; x++) {
                dist[x] = held[t0 * e + x] ? Double.POSITIVE_INFINITY : price[x] - z(t0, x);
                done[x] = false;
                fromExpert[x] = -1;
                viaToken[x] = t0;
            }
            int end;
            while (true) {
                int a = -1;
                for (int x = 0; x < e; x++) if (!done[x] && (a < 0 || dist[x] < dist[a])) a = x;
                if (a < 0 || dist[a] == Double.POSITIVE_INFINITY)
                    throw new IllegalStateException("balanced assignment: no free slot reachable for token " + t0 + " (E=" + e + ")");
                done[a] = true;
                if (load[a] < cap[a]) { end = a; break; }
                for (int b = 0; b < e; b++) {
                    if (done[b]) continue;
                    MoveHeap h = moves[a * e + b];
                    int t = h.validTop(held, e, a, b);
                    if (t < 0) continue;
                    double d = dist[a] + h.topKey() - price[a] + price[b];
                    if (d < dist[b]) { dist[b] = d; fromExpert[b] = a; viaToken[b] = t; }
                }
            }
            double dEnd = dist[end];
            for (int x = 0; x < e; x++) if (done[x]) price[x] += dEnd - dist[x];
            load[end]++;
            for (int x = end; ; ) {
                int a = fromExpert[x], t = viaToken[x];
                if (a < 0) { gain(t, x); return; }       // the new route t0 -> x
                lose(t, a);                               // t moves from a to x
                gain(t, x);
                x = a;
            }
        }

        void gain(int t, int x) {
            held[t * e + x] = true;
            for (int c = 0; c < e; c++) if (!held[t * e + c]) moves[x * e + c].push(t, (double) z(t, x) - z(t, c));
        }

        void lose(int t, int x) {
            held[t * e + x] = false;
            for (int h = 0; h < e; h++) if (held[t * e + h]) moves[h * e + x].push(t, (double) z(t, h) - z(t, x));
        }
    }

    /**
     * Binary min-heap of (key, token), ties to the lower token. Entries go stale when their token
     * stops holding a or starts holding b; they are dropped when they reach the top.
     */
    private static final class MoveHeap {
        int[] token = new int[4];
        double[] key = new double[4];
        int size;

        void push(int t, double k) {
            if (size == token.length) {
                token = Arrays.copyOf(token, size * 2);
                key = Arrays.copyOf(key, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) / 2;
                if (!less(k, t, key[parent], token[parent])) break;
                token[i] = token[parent];
                key[i] = key[parent];
                i = parent;
            }
            token[i] = t;
            key[i] = k;
        }

        /** The cheapest token still holding a and not b, or -1; drops stale entries on the way. */
        int validTop(boolean[] held, int e, int a, int b) {
            while (size > 0) {
                int t = token[0];
                if (held[t * e + a] && !held[t * e + b]) return t;
                popTop();
            }
            return -1;
        }

        double topKey() { return key[0]; }

        private void popTop() {
            size--;
            int t = token[size];
            double k = key[size];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) break;
                if (c + 1 < size && less(key[c + 1], token[c + 1], key[c], token[c])) c++;
                if (!less(key[c], token[c], k, t)) break;
                token[i] = token[c];
                key[i] = key[c];
                i = c;
            }
            token[i] = t;
            key[i] = k;
        }

        private static boolean less(double k1, int t1, double k2, int t2) { return k1 < k2 || (k1 == k2 && t1 < t2); }
    }
}
