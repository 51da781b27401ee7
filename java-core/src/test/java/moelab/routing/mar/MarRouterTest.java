package moelab.routing.mar;

import moelab.ops.Elementwise;
import moelab.ops.Reduce;
import moelab.routing.Router;
import moelab.routing.Routing;
import moelab.routing.RoutingInput;
import moelab.routing.TokenInfo;
import moelab.routing.TopKRouter;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The MAR decorator: fused logits, push timing and order, eval behaviour, state, over TopKRouter. */
class MarRouterTest {

    /** Sends token t to experts (t + j) mod E, gates 1/k; remembers the logits it was given. */
    static final class Fixed implements Router {
        final List<float[]> seen = new ArrayList<>();
        final List<Tensor> seenTensors = new ArrayList<>();
        @Override public String name() { return "fixed"; }
        @Override public Routing route(RoutingInput in) {
            seen.add(in.logits().toArray());
            seenTensors.add(in.logits());
            int t = in.numTokens(), e = in.numExperts(), k = in.topK();
            int[] ex = new int[t * k];
            for (int i = 0; i < t; i++) for (int j = 0; j < k; j++) ex[i * k + j] = (i + j) % e;
            return new Routing(ex, Tensor.full(1f / k, t, k), null, null);
        }
    }

    private static RoutingInput input(Tensor x, Tensor z, int k, boolean training) {
        return new RoutingInput(0, x, z, k, TokenInfo.of(1, x.dim(0)), training);
    }

    private static Tensor randn(Random r, int... shape) {
        int n = 1;
        for (int s : shape) n *= s;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(v, shape);
    }

    private static double cos(float[] a, int aOff, double[] b, int d) {
        double dot = 0, na = 0, nb = 0;
        for (int j = 0; j < d; j++) { dot += a[aOff + j] * b[j]; na += a[aOff + j] * a[aOff + j]; nb += b[j] * b[j]; }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void fusedLogitsUseTheMemoryBeforeThisBatchAndEmptyExpertsScoreZero() {
        int e = 4, d = 3, k = 1;
        Fixed base = new Fixed();
        MarRouter mar = new MarRouter(base, new MarConfig(true, 0.5, 8), 0);
        Random r = new Random(2);
        Tensor x1 = randn(r, 2, d), z1 = randn(r, 2, e);       // tokens 0, 1 -> experts 0, 1
        mar.route(input(x1, z1, k, true));
        assertArrayEquals(z1.toArray(), base.seen.get(0), "empty memories: the base router sees z unchanged");
        assertEquals(1, mar.memory().count(0));
        assertEquals(1, mar.memory().count(1));
        assertEquals(0, mar.memory().count(2));

        Tensor x2 = randn(r, 3, d), z2 = randn(r, 3, e);
        mar.route(input(x2, z2, k, true));
        float[] x1a = x1.toArray(), x2a = x2.toArray(), z2a = z2.toArray(), fused = base.seen.get(1);
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < e; i++) {
                double m = 0;
                if (i < 2) {                                          // memories hold exactly x1[i]
                    double[] p = new double[d];
                    for (int j = 0; j < d; j++) p[j] = x1a[i * d + j];
                    m = cos(x2a, t * d, p, d);
                }
                assertEquals(z2a[t * e + i] + 0.5 * m, fused[t * e + i], 1e-5, "z'[" + t + "," + i + "]");
            }
        // after the second batch: expert 0 holds x1[0], x2[0]; expert 2 holds x2[2]
        assertEquals(2, mar.memory().count(0));
        assertArrayEquals(java.util.Arrays.copyOfRange(x2a, 2 * d, 3 * d), mar.memory().slot(2, 0));
    }

    @Test
    void evalReadsNothingAndPushesNothing() {
        Fixed base = new Fixed();
        MarRouter mar = new MarRouter(base, new MarConfig(true, 0.5, 8), 0);
        Random r = new Random(3);
        mar.route(input(randn(r, 4, 5), randn(r, 4, 3), 2, true));
        Map<String, float[]> before = mar.state();
        Tensor z = randn(r, 4, 3);
        mar.route(input(randn(r, 4, 5), z, 2, false));
        assertSame(z, base.seenTensors.get(1), "eval: the base router gets the plain logits");
        assertStatesEqual(before, mar.state());
    }

    @Test
    void evalWithMemoryReadsTheFrozenMemoryAndNeverPushes() {
        Fixed base = new Fixed();
        MarRouter mar = new MarRouter(base, new MarConfig(true, 1.0, 8, "token", "all", "fifo", false, true), 0);
        Random r = new Random(4);
        mar.route(input(randn(r, 4, 5), randn(r, 4, 3), 1, true));
        Map<String, float[]> before = mar.state();
        Tensor z = randn(r, 2, 3);
        mar.route(input(randn(r, 2, 5), z, 1, false));
        assertFalse(java.util.Arrays.equals(z.toArray(), base.seen.get(1)), "frozen memories change the eval logits");
        assertStatesEqual(before, mar.state());
    }

    @Test
    void pushOptionsTop1AndStepMean() {
        Random r = new Random(5);
        Tensor x = randn(r, 3, 2), z = randn(r, 3, 3);
        // k = 2, Fixed: token t -> experts t, t+1 (mod 3)
        MarRouter all = new MarRouter(new Fixed(), new MarConfig(true, 0.5, 8), 0);
        all.route(input(x, z, 2, true));
        assertArrayEquals(new int[]{2, 2, 2}, new int[]{all.memory().count(0), all.memory().count(1), all.memory().count(2)});
        MarRouter top1 = new MarRouter(new Fixed(), new MarConfig(true, 0.5, 8, "token", "top1", "fifo", false, false), 0);
        top1.route(input(x, z, 2, true));
        assertArrayEquals(new int[]{1, 1, 1}, new int[]{top1.memory().count(0), top1.memory().count(1), top1.memory().count(2)});
        // expert 1 got tokens 0 (second pick) and 1 (first pick): token entries in token order
        float[] xa = x.toArray();
        assertArrayEquals(new float[]{xa[0], xa[1]}, all.memory().slot(1, 0));
        assertArrayEquals(new float[]{xa[2], xa[3]}, all.memory().slot(1, 1));
    }

    private static MarRouter perStep(String entry, int samples, int n) {
        return new MarRouter(new Fixed(), new MarConfig(true, 0.5, n, entry, "all", "fifo", false, false, samples, 1), 0);
    }

    @Test
    void stepMeanAddsOneEntryPerOptimizerStepOverAllItsMicroBatches() {
        // k = 1, E = 2, d = 2, Fixed: token t -> expert t mod 2
        MarRouter mar = perStep("step_mean", 8, 2);
        Tensor z = Tensor.zeros(2, 2);
        mar.route(input(Tensor.of(new float[]{1, 2, 10, 20}, 2, 2), z, 1, true));   // micro-batch 1: e0 <- (1,2), e1 <- (10,20)
        assertEquals(0, mar.memory().count(0), "nothing is written before the step ends");
        mar.route(input(Tensor.of(new float[]{3, 4, 30, 40}, 2, 2), z, 1, true));   // micro-batch 2: e0 <- (3,4), e1 <- (30,40)
        mar.endStep();
        assertEquals(1, mar.memory().count(0));
        assertArrayEquals(new float[]{2, 3}, mar.memory().slot(0, 0), "mean over both micro-batches");
        assertArrayEquals(new float[]{20, 30}, mar.memory().slot(1, 0));
        // step 2: only expert 0 gets a token (T = 1); step 3: both. N = 2: the step-1 entry of expert 0 is evicted at step 3
        mar.route(input(Tensor.of(new float[]{5, 6}, 1, 2), Tensor.zeros(1, 2), 1, true));
        mar.endStep();
        assertArrayEquals(new int[]{2, 1}, new int[]{mar.memory().count(0), mar.memory().count(1)});
        assertArrayEquals(new float[]{5, 6}, mar.memory().slot(0, 1));
        mar.route(input(Tensor.of(new float[]{7, 8, 70, 80}, 2, 2), z, 1, true));
        mar.endStep();
        assertArrayEquals(new float[]{7, 8}, mar.memory().slot(0, 0), "FIFO over steps: the oldest step's entry goes");
        assertArrayEquals(new float[]{5, 6}, mar.memory().slot(0, 1));
        assertArrayEquals(new float[]{70, 80}, mar.memory().slot(1, 1));
        assertArrayEquals(new double[]{12, 14}, mar.memory().runningSum(0), 1e-9);
    }

    @Test
    void stepSampleKeepsEverythingInRoutingOrderWhenAnExpertTookAtMostS() {
        MarRouter mar = perStep("step_sample", 3, 8);
        Tensor z = Tensor.zeros(2, 2);
        mar.route(input(Tensor.of(new float[]{1, 1, 2, 2}, 2, 2), z, 1, true));
        mar.route(input(Tensor.of(new float[]{3, 3, 4, 4}, 2, 2), z, 1, true));
        mar.endStep();
        // expert 0 took (1,1), (3,3); expert 1 took (2,2), (4,4): all kept, in the order they were routed
        assertEquals(2, mar.memory().count(0));
        assertArrayEquals(new float[]{1, 1}, mar.memory().slot(0, 0));
        assertArrayEquals(new float[]{3, 3}, mar.memory().slot(0, 1));
        assertArrayEquals(new float[]{4, 4}, mar.memory().slot(1, 1));
    }

    @Test
    void stepSampleDrawsSEntriesUniformlyAcrossTheWholeBatchSeeded() {
        // E = 1, k = 1: 40 tokens in 4 micro-batches of 10, token value = its index; s = 4 per step
        int[] hits = new int[40];
        MarRouter mar = perStep("step_sample", 4, 4);
        MarRouter twin = perStep("step_sample", 4, 4);
        for (int step = 0; step < 500; step++) {
            for (int micro = 0; micro < 4; micro++) {
                float[] x = new float[10];
                for (int i = 0; i < 10; i++) x[i] = micro * 10 + i + 1;             // d = 1, values 1..40
                mar.route(input(Tensor.of(x, 10, 1), Tensor.zeros(10, 1), 1, true));
                twin.route(input(Tensor.of(x.clone(), 10, 1), Tensor.zeros(10, 1), 1, true));
            }
            mar.endStep();
            twin.endStep();
            assertEquals(4, mar.memory().count(0));
            float prev = 0;
            for (int s = 0; s < 4; s++) {
                float v = mar.memory().slot(0, s)[0];
                assertTrue(v > prev, "entries of one step are written in routing order: " + v + " after " + prev);
                prev = v;
                hits[(int) v - 1]++;
                assertEquals(v, twin.memory().slot(0, s)[0], "the same seed draws the same entries");
            }
        }
        // each token is kept with probability 4/40 per step: 50 of 500 steps expected, binomial std 6.7; ~4.5 std bounds
        int early = 0, late = 0;
        for (int i = 0; i < 40; i++) {
            assertTrue(hits[i] > 20 && hits[i] < 80, "token " + i + " kept " + hits[i] + " times of 500 steps");
            if (i < 10) early += hits[i]; else if (i >= 30) late += hits[i];
        }
        assertTrue(Math.abs(early - late) < 150, "first and last micro-batch are sampled alike: " + early + " vs " + late);
    }

    @Test
    void stepSampleResumesTheSameDrawsFromItsState() {
        MarRouter a = perStep("step_sample", 2, 4), b = perStep("step_sample", 2, 4);
        Random r = new Random(9);
        for (int step = 0; step < 3; step++) {
            a.route(input(randn(r, 12, 3), randn(r, 12, 2), 1, true));
            a.endStep();
        }
        b.loadState(a.state());
        Tensor x = randn(r, 12, 3), z = randn(r, 12, 2);
        a.route(input(x, z, 1, true));
        b.route(input(x, z, 1, true));
        a.endStep();
        b.endStep();
        assertStatesEqual(a.state(), b.state());
    }

    @Test
    void statsMeasureTheMemoryTermAgainstTheLogitsAndTheChangedChoices() {
        // E = 2, k = 1, d = 2. Step 1 fills e0 with (1,0) and e1 with (0,1) (Fixed: token t -> expert t mod 2).
        MarRouter mar = new MarRouter(new Fixed(), new MarConfig(true, 1.0, 4), 0);
        mar.route(input(Tensor.of(new float[]{1, 0, 0, 1}, 2, 2), Tensor.zeros(2, 2), 1, true));
        mar.endStep();
        assertEquals(0.0, mar.lastStepStats().memoryStd(), "empty memories add nothing");
        // Step 2: token (1,0): m = (1, 0) -> alpha*m std over experts 0.5; z = (0, 0.4): std 0.2; TopK(z) = e1, TopK(z') = e0: changed.
        // token (0,1): m = (0, 1): std 0.5; z = (0, 0.4): TopK e1 either way.
        mar.route(input(Tensor.of(new float[]{1, 0, 0, 1}, 2, 2), Tensor.of(new float[]{0, 0.4f, 0, 0.4f}, 2, 2), 1, true));
        mar.endStep();
        MarStats s = mar.lastStepStats();
        assertEquals(2, s.tokens());
        assertEquals(0.5, s.memoryStd(), 1e-6);
        assertEquals(0.2, s.logitStd(), 1e-6);
        assertEquals(0.5, s.topkChanged(), 1e-12);
    }

    @Test
    void logitStdScaleMakesAlphaTheMemoryTermsShareOfTheLogitSpreadAtAnyLogitScale() {
        Random r = new Random(12);
        Tensor warmX = randn(r, 12, 5), warmZ = randn(r, 12, 4), x = randn(r, 9, 5), z = randn(r, 9, 4);
        int[][] picks = new int[2][];
        for (int c = 0; c < 2; c++) {
            float mul = c == 0 ? 1f : 10f;            // the router's logits grow 10x; the cosine stays bounded
            MarRouter mar = new MarRouter(new TopKRouter(false, 0, 0), new MarConfig(true, 0.5, 8).withAlphaScale("logit_std"), 0);
            mar.route(input(warmX, warmZ, 2, true));
            mar.endStep();
            Tensor zc = Elementwise.mulScalar(z, mul);
            picks[c] = mar.route(input(x, zc, 2, true)).experts();
            mar.endStep();
            MarStats s = mar.lastStepStats();
            assertEquals(0.5, s.memoryStd() / s.logitStd(), 1e-5, "memory spread / logit spread = alpha, logits x" + mul);
            // the same, from the formula: z + alpha * (s_z / s_m) * cos(x, p)
            float[] p = new float[4 * 5];
            boolean[] act = new boolean[4];
            MarRouter fresh = new MarRouter(new TopKRouter(false, 0, 0), new MarConfig(true, 0.5, 8).withAlphaScale("logit_std"), 0);
            fresh.route(input(warmX, warmZ, 2, true));
            fresh.endStep();
            fresh.memory().preferences(p, act);
            float[] m = MemoryMatch.similarity(x, p, act).toArray(), zz = zc.toArray(), got = fresh.fusedLogits(x, zc).toArray();
            double ratio = MarRouter.spreadRatio(zz, m, 9, 4);
            for (int i = 0; i < zz.length; i++) assertEquals(zz[i] + 0.5 * ratio * m[i], got[i], 1e-5 * mul, "fused logit " + i);
        }
        assertArrayEquals(picks[0], picks[1], "scaling all logits by 10 leaves the fused top-k unchanged");
        assertEquals(0.0, MarRouter.spreadRatio(new float[]{1, 2, 3, 4}, new float[]{0.5f, 0.5f, 0.5f, 0.5f}, 1, 4), "no memory spread: no term");
    }

    @Test
    void detachMatchStopsTheGradientThroughTheCosine() {
        for (boolean detach : new boolean[]{false, true}) {
            Random r = new Random(6);
            MarRouter mar = new MarRouter(new TopKRouter(false, 0, 0), new MarConfig(true, 0.5, 8, "token", "all", "fifo", detach, false), 0);
            mar.route(input(randn(r, 6, 4), randn(r, 6, 3), 2, true));
            Tensor x = randn(r, 5, 4).requiresGrad(true);
            Routing out = mar.route(input(x, randn(r, 5, 3).requiresGrad(true), 2, true));   // logits do not depend on x
            Reduce.sumAll(Elementwise.square(out.gates())).backward();
            double g = 0;
            if (x.grad() != null) for (float v : x.grad()) g += Math.abs(v);
            if (detach) assertEquals(0.0, g, "detach_match: no gradient into x");
            else assertTrue(g > 0, "the match term passes gradient into x");
        }
    }

    @Test
    void overTopKRouterAlphaZeroIsTheBaseAndOtherwiseRoutesTheFusedLogits() {
        Random r = new Random(7);
        TopKRouter plain = new TopKRouter(false, 0.01, 0.001);
        MarRouter zero = new MarRouter(new TopKRouter(false, 0.01, 0.001), new MarConfig(true, 0.0, 8), 0);
        MarRouter half = new MarRouter(new TopKRouter(false, 0.01, 0.001), new MarConfig(true, 0.5, 8), 0);
        for (int step = 0; step < 4; step++) {
            Tensor x = randn(r, 9, 6), z = randn(r, 9, 4);
            RoutingInput in = input(x, z, 2, true);
            Routing a = plain.route(in), b = zero.route(in);
            assertArrayEquals(a.experts(), b.experts());
            assertArrayEquals(a.gates().toArray(), b.gates().toArray());
            assertEquals(a.auxLoss().item(), b.auxLoss().item());
            // half: expected = TopKRouter on z + 0.5 * cos(x, memory) computed from the memory before the call
            float[] p = new float[4 * 6];
            boolean[] act = new boolean[4];
            if (half.memory() != null) half.memory().preferences(p, act);
            Tensor fused = half.memory() == null ? z : Elementwise.add(z, Elementwise.mulScalar(MemoryMatch.similarity(x, p, act), 0.5f));
            Routing want = new TopKRouter(false, 0.01, 0.001).route(input(x, fused, 2, true));
            Routing got = half.route(in);
            assertArrayEquals(want.experts(), got.experts(), "step " + step);
            assertArrayEquals(want.gates().toArray(), got.gates().toArray(), "step " + step);
            assertEquals(want.auxLoss().item(), got.auxLoss().item(), "step " + step);
        }
        assertEquals("topk+mar", half.name());
    }

    @Test
    void sameInputsGiveTheSameBuffersAndStateRoundTrips() {
        MarRouter a = new MarRouter(new TopKRouter(false, 0.01, 0), new MarConfig(true, 0.5, 4, "token", "all", "random", false, false), 1);
        MarRouter b = new MarRouter(new TopKRouter(false, 0.01, 0), new MarConfig(true, 0.5, 4, "token", "all", "random", false, false), 1);
        Random ra = new Random(8), rb = new Random(8);
        for (int i = 0; i < 5; i++) {
            a.route(input(randn(ra, 7, 5), randn(ra, 7, 3), 2, true));
            b.route(input(randn(rb, 7, 5), randn(rb, 7, 3), 2, true));
        }
        assertStatesEqual(a.state(), b.state());
        MarRouter c = new MarRouter(new TopKRouter(false, 0.01, 0), new MarConfig(true, 0.5, 4, "token", "all", "random", false, false), 1);
        c.loadState(a.state());
        Tensor x = randn(ra, 7, 5), z = randn(ra, 7, 3);
        Routing ga = a.route(input(x, z, 2, true)), gc = c.route(input(x, z, 2, true));
        assertArrayEquals(ga.experts(), gc.experts());
        assertArrayEquals(ga.gates().toArray(), gc.gates().toArray());
        assertStatesEqual(a.state(), c.state());
        MarRouter wrongN = new MarRouter(new TopKRouter(false, 0.01, 0), new MarConfig(true, 0.5, 5), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> wrongN.loadState(a.state()));
        assertTrue(e.getMessage().contains("buffer_size"), e.getMessage());
    }

    static void assertStatesEqual(Map<String, float[]> a, Map<String, float[]> b) {
        assertEquals(a.keySet(), b.keySet());
        for (String key : a.keySet()) {
            float[] x = a.get(key), y = b.get(key);
            assertEquals(x.length, y.length, key);
            for (int i = 0; i < x.length; i++) assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), key + "[" + i + "]");
        }
    }
}
