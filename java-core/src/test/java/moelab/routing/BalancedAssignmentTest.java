package moelab.routing;

import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** BA, both solvers: exact balance on awkward sizes, optimality against brute force and against each other, determinism. */
class BalancedAssignmentTest {

    static int[] solve(BaSolver solver, float[] z, int t, int e, int k, double eps) {
        return solver == BaSolver.FLOW ? MinCostFlowAssignment.assign(z, 0, t, e, k) : BalancedAssignment.assign(z, 0, t, e, k, eps);
    }

    static double sum(float[] z, int[] a, int t, int e, int k) {
        double s = 0;
        for (int x = 0; x < t; x++) for (int j = 0; j < k; j++) s += z[x * e + a[x * k + j]];
        return s;
    }

    static void assertBalanced(int[] a, int t, int e, int k) {
        assertEquals(t * k, a.length);
        long[] c = BalancingMethod.counts(a, 0, t, k, e);
        for (int i = 0; i < e; i++) {
            assertEquals(BalancedAssignment.capacity(i, t, e, k), c[i], "expert " + i + " load, T=" + t + " E=" + e + " k=" + k);
            assertTrue(c[i] == (long) k * t / e || c[i] == ((long) k * t + e - 1) / e, "floor/ceil of kT/E");
        }
        for (int x = 0; x < t; x++)
            for (int j = 0; j < k; j++)
                for (int j2 = j + 1; j2 < k; j2++) assertNotEquals(a[x * k + j], a[x * k + j2], "token " + x + " got an expert twice");
    }

    @Test
    void loadsExactlyBalancedOnAwkwardSizes() {
        for (BaSolver solver : BaSolver.values()) {
            for (int[] s : new int[][]{{13, 5, 2}, {31, 8, 3}, {1, 4, 2}, {1, 4, 4}, {1, 1, 1}, {7, 3, 3}, {17, 6, 6}, {64, 32, 4}, {3, 8, 1}, {101, 7, 2}}) {
                int t = s[0], e = s[1], k = s[2];
                float[] z = Tensor.randn(new Random(t * 7L + e), 2f, t, e).toArray();
                for (int x = 0; x < t; x++) z[x * e] += 4f;             // everyone wants expert 0
                int[] a = solve(solver, z, t, e, k, 1e-4);
                assertBalanced(a, t, e, k);
                for (int x = 0; x < t; x++)
                    for (int j = 1; j < k; j++) assertTrue(z[x * e + a[x * k + j - 1]] >= z[x * e + a[x * k + j]], solver + ": token's experts in descending z");
            }
            assertEquals(0, solve(solver, new float[0], 0, 4, 2, 1e-4).length, solver + ": empty batch");
            assertThrows(IllegalArgumentException.class, () -> solve(solver, new float[8], 2, 4, 5, 1e-4), solver + ": k > E");
        }
    }

    @Test
    void optimalOnBruteForceableCases() {
        Random rng = new Random(77);
        for (int trial = 0; trial < 40; trial++) {
            int t = 2 + rng.nextInt(5), e = 2 + rng.nextInt(3), k = 1 + rng.nextInt(Math.min(3, e));
            float[] z = new float[t * e];
            for (int i = 0; i < z.length; i++) z[i] = (float) rng.nextGaussian();
            if (trial % 2 == 1) for (int x = 0; x < t; x++) z[x * e + 1] += 3f;     // contention for one expert
            double best = best(z, t, e, k);
            for (BaSolver solver : BaSolver.values()) {
                int[] a = solve(solver, z, t, e, k, 1e-7);
                assertBalanced(a, t, e, k);
                assertEquals(best, sum(z, a, t, e, k), 1e-5, solver + ", trial " + trial + " T=" + t + " E=" + e + " k=" + k);
            }
        }
    }

    @Test
    void flowMatchesTheAuctionOnLargerContendedCases() {
        // beyond brute force: the exact flow is never below the auction and at most k*T*eps above it
        Random rng = new Random(5);
        for (int[] s : new int[][]{{97, 7, 2}, {256, 16, 3}, {300, 32, 4}, {128, 8, 8}, {211, 13, 1}}) {
            int t = s[0], e = s[1], k = s[2];
            float[] z = new float[t * e];
            for (int x = 0; x < t; x++)
                for (int i = 0; i < e; i++) z[x * e + i] = (float) (rng.nextGaussian() + 0.3 * (e - i) + (i % 4 == x % 4 ? 1 : 0));
            double eps = 1e-5;
            int[] flow = MinCostFlowAssignment.assign(z, 0, t, e, k), auction = BalancedAssignment.assign(z, 0, t, e, k, eps);
            assertBalanced(flow, t, e, k);
            double f = sum(z, flow, t, e, k), a = sum(z, auction, t, e, k);
            assertTrue(f >= a - 1e-6 * Math.abs(a) && f <= a + k * t * eps + 1e-6 * Math.abs(a),
                    "T=" + t + " E=" + e + " k=" + k + ": flow " + f + ", auction " + a);
            assertArrayEquals(flow, MinCostFlowAssignment.assign(z, 0, t, e, k), "deterministic");
            int off = 5 * e;                                    // a group starting at token 5 reads z from there
            float[] shifted = new float[z.length + off];
            System.arraycopy(z, 0, shifted, off, z.length);
            assertArrayEquals(flow, MinCostFlowAssignment.assign(shifted, 5, 5 + t, e, k), "tokens [from, to)");
        }
    }

    @Test
    void baseLayersAreTheSolverAtTopOne() {
        // BASE (Lewis et al. 2021): each token one expert, every expert T/E tokens, max total affinity; eval greedy
        Random rng = new Random(91);
        for (int trial = 0; trial < 10; trial++) {
            int e = 2 + rng.nextInt(3), t = e * (1 + rng.nextInt(3));
            float[] z = new float[t * e];
            for (int i = 0; i < z.length; i++) z[i] = (float) rng.nextGaussian();
            for (int x = 0; x < t; x++) z[x * e] += 2f;            // greedy would send everyone to expert 0
            TopKRouter r = new TopKRouter(true, 0, new BalancedAssignment(BaSolver.FLOW, 1e-7), Scope.GLOBAL, 0);
            Tensor logits = Tensor.of(z, t, e);
            int[] a = r.route(new RoutingInput(0, Tensor.zeros(t, 1), logits, 1, TokenInfo.of(1, t), true)).experts();
            long[] load = BalancingMethod.counts(a, 0, t, 1, e);
            for (long c : load) assertEquals(t / e, c, "every expert takes T/E tokens: " + java.util.Arrays.toString(load));
            double got = 0;
            for (int x = 0; x < t; x++) got += z[x * e + a[x]];
            assertEquals(best(z, t, e, 1), got, 1e-5, "optimal top-1 assignment, trial " + trial);
            int[] ev = r.route(new RoutingInput(0, Tensor.zeros(t, 1), logits, 1, TokenInfo.of(1, t), false)).experts();
            for (int x = 0; x < t; x++) {
                int arg = 0;
                for (int i = 1; i < e; i++) if (z[x * e + i] > z[x * e + arg]) arg = i;
                assertEquals(arg, ev[x], "eval is greedy argmax, token " + x);
            }
        }
    }

    /** Max sum over all assignments of k distinct experts per token with loads equal to the capacities. */
    static double best(float[] z, int t, int e, int k) {
        int[] subsets = java.util.stream.IntStream.range(0, 1 << e).filter(m -> Integer.bitCount(m) == k).toArray();
        return search(z, t, e, subsets, 0, new int[e], k);
    }

    static double search(float[] z, int t, int e, int[] subsets, int x, int[] load, int k) {
        if (x == t) {
            for (int i = 0; i < e; i++) if (load[i] != BalancedAssignment.capacity(i, t, e, k)) return Double.NEGATIVE_INFINITY;
            return 0;
        }
        double best = Double.NEGATIVE_INFINITY;
        for (int m : subsets) {
            double v = 0;
            for (int i = 0; i < e; i++) if ((m >> i & 1) != 0) { load[i]++; v += z[x * e + i]; }
            best = Math.max(best, v + search(z, t, e, subsets, x + 1, load, k));
            for (int i = 0; i < e; i++) if ((m >> i & 1) != 0) load[i]--;
        }
        return best;
    }

    @Test
    void routerBalancesPerScopeGroupDeterministicallyAndEvalIsGreedy() {
        int seqs = 4, len = 9, e = 4, k = 2, t = seqs * len;
        float[] zz = Tensor.randn(new Random(8), 1f, t, e).toArray();
        for (int x = 0; x < t; x++) zz[x * e + 1] += 3f;
        Tensor z = Tensor.of(zz, t, e);
        TokenInfo info = TokenInfo.of(seqs, len);
        for (BaSolver solver : BaSolver.values()) {
            TopKRouter ba = new TopKRouter(true, 0, new BalancedAssignment(solver, 1e-4), Scope.SEQUENCE, 0);
            int[] a = ba.route(new RoutingInput(0, Tensor.zeros(t, 1), z, k, info, true)).experts();
            for (int s = 0; s < seqs; s++) {
                long[] c = BalancingMethod.counts(a, s * len, (s + 1) * len, k, e);
                for (int i = 0; i < e; i++) assertEquals(BalancedAssignment.capacity(i, len, e, k), c[i], solver + ": sequence " + s);
            }
            assertArrayEquals(a, ba.route(new RoutingInput(0, Tensor.zeros(t, 1), z, k, info, true)).experts(), solver + ": deterministic");
            int[] ev = ba.route(new RoutingInput(0, Tensor.zeros(t, 1), z, k, info, false)).experts();
            assertEquals(t, BalancingMethod.counts(ev, 0, t, k, e)[1], "eval is greedy: expert 1 in every token's top 2");
        }
    }
}
