package moelab.nn;

import moelab.tensor.Autograd;
import moelab.tensor.GradCheck;
import moelab.kernels.Backends;
import moelab.kernels.ExpertLoop;
import moelab.kernels.Kernels;
import moelab.kernels.ScalarKernels;
import moelab.ops.Join;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The fused experts node against the composed reference, on awkward routings. */
class MoeExpertsTest {

    /** One set of inputs: x [T,d], gates [T,k], w1, w3 [E,d,f], w2 [E,f,d] and fixed routes. */
    record Case(Tensor x, Tensor gates, Tensor w1, Tensor w3, Tensor w2, int[] experts, boolean[] kept) {
        Tensor[] inputs() { return new Tensor[]{x, gates, w1, w3, w2}; }
        int t() { return x.dim(0); }
        int k() { return gates.dim(1); }
        int d() { return x.dim(1); }
    }

    static Case randomCase(long seed, int t, int d, int f, int e, int k, int[] experts, boolean[] kept) {
        Random rng = new Random(seed);
        Tensor x = Tensor.randn(rng, 1f, t, d).requiresGrad(true);
        Tensor gates = Tensor.rand(rng, 0.05f, 1f, t, k).requiresGrad(true);
        Tensor w1 = Tensor.randn(rng, 0.5f, e, d, f).requiresGrad(true);
        Tensor w3 = Tensor.randn(rng, 0.5f, e, d, f).requiresGrad(true);
        Tensor w2 = Tensor.randn(rng, 0.5f, e, f, d).requiresGrad(true);
        if (experts == null) experts = distinctRoutes(rng, t, e, k, e);
        if (kept == null) { kept = new boolean[t * k]; Arrays.fill(kept, true); }
        return new Case(x, gates, w1, w3, w2, experts, kept);
    }

    /** k distinct experts per token (as top-k gives), drawn from the first {@code use} experts. */
    static int[] distinctRoutes(Random rng, int t, int e, int k, int use) {
        int[] r = new int[t * k];
        for (int i = 0; i < t; i++) {
            List<Integer> perm = new ArrayList<>();
            for (int x = 0; x < use; x++) perm.add(x);
            java.util.Collections.shuffle(perm, rng);
            for (int j = 0; j < k; j++) r[i * k + j] = perm.get(j);
        }
        return r;
    }

    /** Forward values and the gradients of all five inputs, from backward seeded with a fixed dout. */
    static float[][] run(Case c, boolean fused) {
        for (Tensor in : c.inputs()) in.clearGrad();
        Tensor out = fused
                ? MoeExperts.forward(c.x, c.gates, c.w1, c.w3, c.w2, c.experts, c.kept).out()
                : MoeFeedForward.composedExperts(c.x, c.gates, c.w1, c.w3, c.w2, c.experts, c.kept);
        assertArrayEquals(new int[]{c.t(), c.d()}, out.shape());
        return backwardAndGrads(c, out);
    }

    /** out's values and the five inputs' gradients after backward from a fixed dout; gradients cleared after. */
    static float[][] backwardAndGrads(Case c, Tensor out) {
        Random rng = new Random(99);
        float[] seed = new float[out.numel()];
        for (int i = 0; i < seed.length; i++) seed[i] = (float) rng.nextGaussian();
        Autograd.backward(out, seed);
        float[][] r = new float[6][];
        r[0] = out.toArray();
        Tensor[] ins = c.inputs();
        for (int i = 0; i < ins.length; i++) r[i + 1] = ins[i].grad() == null ? new float[ins[i].numel()] : ins[i].grad().clone();
        for (Tensor in : ins) in.clearGrad();
        return r;
    }

    static void assertFusedMatchesComposed(String what, Case c) {
        float[][] fused = run(c, true), ref = run(c, false);
        String[] names = {"out", "dx", "dgates", "dw1", "dw3", "dw2"};
        for (int i = 0; i < names.length; i++) assertClose(ref[i], fused[i], 2e-5f, what + " " + names[i]);
    }

    static void assertClose(float[] expected, float[] actual, float tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < expected.length; i++)
            if (!(Math.abs(expected[i] - actual[i]) <= tol * (1 + scale)))
                fail(what + ": element " + i + ": expected " + expected[i] + " but got " + actual[i]);
    }

    @Test
    void singleToken() {
        assertFusedMatchesComposed("T=1", randomCase(1, 1, 5, 3, 4, 2, null, null));
    }

    @Test
    void everyTokenToEveryExpert() { // k = E
        assertFusedMatchesComposed("k=E", randomCase(2, 6, 4, 3, 3, 3, null, null));
    }

    @Test
    void topOne() {
        assertFusedMatchesComposed("k=1", randomCase(3, 7, 6, 4, 4, 1, null, null));
    }

    @Test
    void expertsWithoutTokens() {
        Random rng = new Random(4);
        int[] routes = distinctRoutes(rng, 5, 6, 2, 3); // only experts 0..2 of 6 get routes
        Case c = randomCase(4, 5, 4, 3, 6, 2, routes, null);
        ExpertDispatch plan = MoeExperts.forward(c.x, c.gates, c.w1, c.w3, c.w2, c.experts, c.kept).dispatch();
        assertArrayEquals(new int[]{0, 0, 0}, Arrays.copyOfRange(plan.counts(), 3, 6));
        assertFusedMatchesComposed("empty experts", c);
        // and the unused experts' weights get exactly zero gradient
        float[][] g = run(c, true);
        for (int w = 3; w <= 5; w++)
            for (int i = 3 * 4 * 3; i < 6 * 4 * 3; i++) assertEquals(0f, g[w][i], "unused expert weight gradient");
    }

    @Test
    void primeWidths() {
        assertFusedMatchesComposed("d=11 f=7", randomCase(5, 13, 11, 7, 5, 2, null, null));
    }

    @Test
    void capacityDropsAndAFullyDroppedToken() {
        int t = 6, k = 2, e = 3;
        Random rng = new Random(6);
        int[] routes = distinctRoutes(rng, t, e, k, e);
        boolean[] kept = new boolean[t * k];
        Arrays.fill(kept, true);
        kept[1] = false;                 // token 0 loses one route
        kept[4] = false; kept[5] = false; // token 2 loses both: only the residual is left
        kept[11] = false;
        Case c = randomCase(6, t, 5, 4, e, k, routes, kept);
        assertFusedMatchesComposed("drops", c);

        float[][] g = run(c, true);
        for (int i = 2 * 5; i < 3 * 5; i++) {
            assertEquals(0f, g[0][i], "fully dropped token's output");
            assertEquals(0f, g[1][i], "fully dropped token's dx");
        }
        for (int s : new int[]{1, 4, 5, 11}) assertEquals(0f, g[2][s], "dropped slot's gate gradient");
        assertNotEquals(0f, g[2][0], "kept slot's gate gradient");
    }

    @Test
    void everythingDropped() {
        int t = 3, k = 2, e = 4;
        Case c = randomCase(7, t, 4, 3, e, k, distinctRoutes(new Random(7), t, e, k, e), new boolean[t * k]);
        float[][] g = run(c, true);
        for (float[] v : g) for (float x : v) assertEquals(0f, x);
        assertFusedMatchesComposed("nothing kept", c);
    }

    @Test
    void repeatedTokens() {
        // the same token content at several positions, and each token in k expert blocks
        Case c = randomCase(8, 8, 6, 5, 4, 3, null, null);
        float[] xd = c.x.data();
        System.arraycopy(xd, 0, xd, 3 * 6, 6);
        System.arraycopy(xd, 0, xd, 7 * 6, 6);
        int[] routes = c.experts;
        System.arraycopy(routes, 0, routes, 3 * 3, 3); // token 3 also routed like token 0
        assertFusedMatchesComposed("repeated tokens", c);
    }

    @Test
    void slotOutputsAreTheUnweightedExpertOutputs() {
        int t = 5, k = 2, e = 3, d = 4;
        boolean[] kept = {true, true, false, true, true, true, true, false, false, false};
        Case c = randomCase(9, t, d, 3, e, k, distinctRoutes(new Random(9), t, e, k, e), kept);
        MoeExperts.Result r = MoeExperts.forward(c.x, c.gates, c.w1, c.w3, c.w2, c.experts, c.kept);
        float[] ys = r.slotOutputs().toArray(), out = r.out().toArray(), g = c.gates.toArray();
        assertSame(r.slotOutputs(), r.slotOutputs());
        assertArrayEquals(new int[]{t * k, d}, r.slotOutputs().shape());
        for (int tok = 0; tok < t; tok++)
            for (int i = 0; i < d; i++) {
                double sum = 0;
                for (int j = 0; j < k; j++) sum += g[tok * k + j] * ys[(tok * k + j) * d + i];
                assertEquals(sum, out[tok * d + i], 1e-5, "out = sum of gate * slot output");
            }
        for (int s = 0; s < t * k; s++)
            if (!kept[s]) for (int i = 0; i < d; i++) assertEquals(0f, ys[s * d + i], "dropped slot output");
        // one expert's output for one kept slot, by hand: swiglu(x·W1_e, x·W3_e)·W2_e
        int slot = 3, ex = c.experts[slot], tok = slot / k, f = 3;
        float[] x = c.x.toArray(), w1 = c.w1.toArray(), w3 = c.w3.toArray(), w2 = c.w2.toArray();
        for (int i = 0; i < d; i++) {
            double acc = 0;
            for (int h = 0; h < f; h++) {
                double a = 0, b = 0;
                for (int p = 0; p < d; p++) {
                    a += x[tok * d + p] * w1[(ex * d + p) * f + h];
                    b += x[tok * d + p] * w3[(ex * d + p) * f + h];
                }
                acc += a / (1 + Math.exp(-a)) * b * w2[(ex * f + h) * d + i];
            }
            assertEquals(acc, ys[slot * d + i], 1e-5, "slot output by hand");
        }
    }

    @Test
    void gradCheckOfOutputAndSlotOutputsTogether() {
        int t = 4, k = 2, e = 3;
        boolean[] kept = {true, true, true, false, true, true, false, false};
        Case c = randomCase(10, t, 3, 2, e, k, distinctRoutes(new Random(10), t, e, k, e), kept);
        GradCheck.check("moe_experts out + slot outputs", in -> {
            MoeExperts.Result r = MoeExperts.forward(in[0], in[1], in[2], in[3], in[4], c.experts, c.kept);
            return Join.concat(0, r.out(), r.slotOutputs());
        }, c.inputs());
    }

    @Test
    void skipsGradientWorkForInputsThatDoNotNeedIt() {
        int t = 6, k = 2, e = 3;
        Case all = randomCase(11, t, 4, 3, e, k, distinctRoutes(new Random(11), t, e, k, e), null);
        // only the gates: no GEMM in backward at all
        for (Tensor w : new Tensor[]{all.x, all.w1, all.w3, all.w2}) w.requiresGrad(false);
        List<int[]> calls = new ArrayList<>();
        MoeExperts.Result r = withGemmSpy(calls, () -> MoeExperts.forward(all.x, all.gates, all.w1, all.w3, all.w2, all.experts, all.kept));
        assertEquals(3 * e, calls.size(), "forward: one GEMM pair + one down-projection per expert block");
        for (int[] call : calls) assertTrue(call[0] == r.dispatch().counts()[0] || call[0] == r.dispatch().counts()[1]
                || call[0] == r.dispatch().counts()[2], "GEMM rows are a whole expert block");
        calls.clear();
        withGemmSpy(calls, () -> { Autograd.backward(r.out(), new float[t * 4]); return null; });
        assertEquals(0, calls.size(), "backward with only gates requiring grad");
        assertNull(all.x.grad());
        assertNotNull(all.gates.grad());

        // only w2: one GEMM per block
        all.gates.requiresGrad(false);
        all.w2.requiresGrad(true);
        MoeExperts.Result r2 = withGemmSpy(calls, () -> MoeExperts.forward(all.x, all.gates, all.w1, all.w3, all.w2, all.experts, all.kept));
        calls.clear();
        withGemmSpy(calls, () -> { Autograd.backward(r2.out(), new float[t * 4]); return null; });
        assertEquals(e, calls.size(), "backward with only w2 requiring grad");
        assertNull(all.w1.grad());

        // everything: six per block, all transposes through flags, weight gradients with beta = 1
        for (Tensor w : all.inputs()) { w.requiresGrad(true); w.clearGrad(); }
        MoeExperts.Result r3 = withGemmSpy(calls, () -> MoeExperts.forward(all.x, all.gates, all.w1, all.w3, all.w2, all.experts, all.kept));
        calls.clear();
        withGemmSpy(calls, () -> { Autograd.backward(r3.out(), new float[t * 4]); return null; });
        assertEquals(6 * e, calls.size());
        long accumulating = calls.stream().filter(cl -> cl[3] == 1).count();
        assertEquals(3 * e + e, accumulating, "dW1, dW2, dW3 and the second half of dX accumulate");
    }

    /** Forward and backward through the layer's pooled buffers: out and the five gradients. */
    private static float[][] runPooled(Case c, ExpertBuffers buffers) {
        for (Tensor in : c.inputs()) in.clearGrad();
        return backwardAndGrads(c, MoeExperts.forward(c.x, c.gates, c.w1, c.w3, c.w2, c.experts, c.kept, buffers).out());
    }

    @Test
    void pooledBuffersGiveTheBitsOfFreshOnesStepAfterStep() {
        ExpertBuffers buffers = new ExpertBuffers();
        // the kept rows change from step to step (more, then fewer, then more than ever): stale rows must not leak in
        boolean[][] keeps = new boolean[4][];
        int t = 11, k = 2;
        Random rng = new Random(21);
        for (int step = 0; step < keeps.length; step++) {
            keeps[step] = new boolean[t * k];
            for (int i = 0; i < t * k; i++) keeps[step][i] = step == 3 || rng.nextInt(3) > 0;
        }
        for (int step = 0; step < keeps.length; step++) {
            Case c = randomCase(30 + step, t, 6, 5, 4, k, null, keeps[step]);
            float[][] want = run(c, true), got = runPooled(c, buffers);
            for (int i = 0; i < want.length; i++) assertArrayEquals(want[i], got[i], "step " + step + " output " + i);
        }
    }

    @Test
    void aSecondForwardBeforeTheFirstBackwardGetsItsOwnBuffers() {
        ExpertBuffers buffers = new ExpertBuffers();
        Case c1 = randomCase(40, 7, 5, 4, 3, 2, null, null), c2 = randomCase(41, 7, 5, 4, 3, 2, null, null);
        float[][] want1 = run(c1, true), want2 = run(c2, true);
        MoeExperts.Result r1 = MoeExperts.forward(c1.x, c1.gates, c1.w1, c1.w3, c1.w2, c1.experts, c1.kept, buffers);
        MoeExperts.Result r2 = MoeExperts.forward(c2.x, c2.gates, c2.w1, c2.w3, c2.w2, c2.experts, c2.kept, buffers);
        Random rng = new Random(99);
        float[] seed = new float[r1.out().numel()];
        for (int i = 0; i < seed.length; i++) seed[i] = (float) rng.nextGaussian();
        Autograd.backward(r2.out(), seed.clone());
        Autograd.backward(r1.out(), seed.clone());
        assertArrayEquals(want1[1], c1.x.grad(), "first forward's dx");
        assertArrayEquals(want2[1], c2.x.grad(), "second forward's dx");
        assertArrayEquals(want1[3], c1.w1.grad(), "first forward's dw1");
    }

    @Test
    void readingActivationsThatALaterForwardTookOverFailsLoudly() {
        ExpertBuffers buffers = new ExpertBuffers();
        Case c = randomCase(42, 5, 4, 3, 3, 2, null, null);
        MoeExperts.Result eval;
        try (moelab.tensor.NoGrad ng = moelab.tensor.NoGrad.enter()) { // no backward will come: the buffers go back at once
            eval = MoeExperts.forward(c.x, c.gates, c.w1, c.w3, c.w2, c.experts, c.kept, buffers);
        }
        MoeExperts.forward(c.x, c.gates, c.w1, c.w3, c.w2, c.experts, c.kept, buffers);
        IllegalStateException ex = assertThrows(IllegalStateException.class, eval::slotOutputs);
        assertTrue(ex.getMessage().contains("reused by a later forward"), ex.getMessage());
    }

    @Test
    void sameInputsSameBits() {
        Case c = randomCase(12, 9, 5, 4, 4, 2, null, null);
        float[][] a = run(c, true), b = run(c, true);
        for (int i = 0; i < a.length; i++) assertArrayEquals(a[i], b[i]);
    }

    @Test
    void shapeErrorsNameTheOpAndShapes() {
        Case c = randomCase(13, 3, 4, 2, 2, 1, null, null);
        var ex = assertThrows(ShapeException.class, () -> MoeExperts.forward(c.x, c.gates, c.w1, c.w3,
                Tensor.zeros(2, 4, 2), c.experts, c.kept));
        assertTrue(ex.getMessage().startsWith("moe_experts") && ex.getMessage().contains("w2 [2, 4, 2]"), ex.getMessage());
        var ex2 = assertThrows(ShapeException.class, () -> MoeExperts.forward(c.x, c.gates, c.w1, c.w3, c.w2,
                new int[]{0, 1}, new boolean[]{true, true}));
        assertTrue(ex2.getMessage().contains("need T*k = 3"), ex2.getMessage());
        var ex3 = assertThrows(ShapeException.class, () -> MoeExperts.forward(c.x, c.gates, c.w1, c.w3, c.w2,
                new int[]{0, 2, 1}, c.kept));
        assertTrue(ex3.getMessage().contains("expert 2 at slot 1"), ex3.getMessage());
    }

    @Test
    void dispatchIsAStableSortByExpert() {
        int[] routes = {2, 0, 1, 2, 0, 1, 2, 0};   // T=4, k=2
        boolean[] kept = {true, true, true, true, false, true, true, true};
        ExpertDispatch p = ExpertDispatch.of(routes, kept, 4, 2);
        assertArrayEquals(new int[]{2, 2, 3, 0}, p.counts());
        assertArrayEquals(new int[]{0, 2, 4, 7, 7}, p.offsets());
        assertArrayEquals(new int[]{1, 7, 2, 5, 0, 3, 6}, p.slotOf());
        assertArrayEquals(new int[]{0, 3, 1, 2, 0, 1, 3}, p.tokenOf());
        assertArrayEquals(new int[]{4, 0, 2, 5, -1, 3, 6, 1}, p.rowOf());
    }

    /**
     * Runs body with the scalar kernels behind a spy that records {m, n, k, beta} of every sgemm. A
     * backward runs on its forward's kernels, so spy on the forward to see the backward's calls.
     */
    static <R> R withGemmSpy(List<int[]> calls, java.util.function.Supplier<R> body) {
        Kernels ref = new ScalarKernels();
        Kernels spy = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[]{Kernels.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("sgemm"))
                        calls.add(new int[]{(Integer) args[2], (Integer) args[3], (Integer) args[4], (int) (float) (Float) args[12]});
                    try {
                        if (method.getName().startsWith("experts")) { // the grouped op: the reference loop, its sgemm calls spied on
                            Class<?>[] types = new Class<?>[args.length + 1];
                            types[0] = Kernels.class;
                            System.arraycopy(method.getParameterTypes(), 0, types, 1, args.length);
                            Object[] withSpy = new Object[args.length + 1];
                            withSpy[0] = proxy;
                            System.arraycopy(args, 0, withSpy, 1, args.length);
                            String loop = method.getName().equals("expertsForward") ? "forward" : "backward";
                            return ExpertLoop.class.getMethod(loop, types).invoke(null, withSpy);
                        }
                        return method.invoke(ref, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Kernels previous = Backends.get();
        Backends.use(spy);
        try {
            return body.get();
        } finally {
            Backends.use(previous);
        }
    }
}
