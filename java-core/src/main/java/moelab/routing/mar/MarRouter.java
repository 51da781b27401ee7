package moelab.routing.mar;

import moelab.tensor.NoGrad;
import moelab.ops.Elementwise;
import moelab.routing.Router;
import moelab.routing.Routing;
import moelab.routing.RoutingInput;
import moelab.tensor.Tensor;

import java.util.HashMap;
import java.util.Map;

/**
 * Memory-Aware Routing (Hou et al., Findings of ACL 2026) as a decorator around any router.
 * Training: z' = z + alpha * cos(x, p) with p the experts' memory means as they were BEFORE this
 * micro-batch, the base router runs unchanged on z' (selection, gate weights and its aux loss all
 * see z'), then, under no-grad, the memories of the experts each token was routed to gain: the token
 * itself, in token order (entry token), or, when the optimizer step ends, one summary of everything
 * the expert took over the whole step (step_mean, step_sample; see {@link StepSummary}). Evaluation: the plain base router, no reads and no pushes (unless
 * eval_with_memory, which reads the frozen memories and still never pushes).
 *
 * <p>"Selection only" fusion (z' for top-k, z for gates and aux loss) is not offered: the gates
 * and losses are the base router's business, which a decorator cannot recompute from z without
 * knowing the base method.
 *
 * <p>alpha_scale logit_std multiplies alpha by s_z / s_m (mean per-token std over experts of z and of
 * cos(x, p) in this micro-batch, a constant for the gradient), so the memory term keeps a fixed share
 * of the logits' spread while the router's logits grow over training.
 */
public final class MarRouter implements Router {
    /** Prefix of the memory entries in {@link #state()}; the base router's keys pass through unchanged. */
    public static final String STATE_PREFIX = "mar.";
    private static final String SAMPLE_RNG_KEY = STATE_PREFIX + "step_rng";

    private final Router base;
    private final MarConfig cfg;
    private final int layer;
    private ExpertMemory memory;   // created at the first routing call (E and d come from the input) or on load
    private StepSummary summary;   // per-step entry modes: what this step routed, flushed at endStep
    private double memStdSum, logitStdSum, changedSum;
    private long statTokens;
    private MarStats lastStep = MarStats.empty();

    public MarRouter(Router base, MarConfig cfg, int layer) {
        this.base = java.util.Objects.requireNonNull(base, "base router");
        this.cfg = cfg;
        this.layer = layer;
    }

    @Override public String name() { return base.name() + "+mar"; }

    public Router base() { return base; }
    public MarConfig config() { return cfg; }

    /** This layer's memories, or null before the first training call. */
    public ExpertMemory memory() { return memory; }

    /** How much the memory steered this layer's training routing in the last finished optimizer step. */
    public MarStats lastStepStats() { return lastStep; }

    // logits [T, E], hidden [T, d] -> the base router's routing of z + alpha * m
    @Override
    public Routing route(RoutingInput in) {
        boolean read = in.training() || cfg.evalWithMemory();
        if (!read) return base.route(in);
        int t = in.numTokens(), e = in.numExperts(), d = in.hidden().dim(1);
        if (memory == null) create(e, d);
        else if (memory.experts() != e || memory.dim() != d)
            throw new IllegalArgumentException("MarRouter (layer " + layer + "): memory is for " + memory.experts() + " experts x d="
                    + memory.dim() + ", the input has logits [" + t + ", " + e + "] and hidden [" + t + ", " + d + "]");
        Tensor fused = fusedLogits(in.hidden(), in.logits());
        Routing r = base.route(new RoutingInput(in.layer(), in.hidden(), fused, in.topK(), in.tokens(), in.training()));
        if (in.training()) {
            push(in.hidden(), r.experts(), in.topK());
            accumulateStats(in.logits().toArray(), fused.toArray(), t, e, in.topK());
        }
        return r;
    }

    private void create(int e, int d) {
        memory = new ExpertMemory(e, cfg.bufferSize(), d, cfg.eviction().equals("random"), seed(layer));
        summary = cfg.perStep() ? new StepSummary(e, d, cfg.entry().equals("step_sample"), cfg.samplesPerStep(), sampleSeed(layer)) : null;
    }

    // z, fused [T*E]: per token the std over experts of z and of alpha*m = z' - z, and the top-k sets of both
    private void accumulateStats(float[] z, float[] fused, int t, int e, int k) {
        int[] a = new int[k], b = new int[k];
        for (int i = 0; i < t; i++) {
            double mz = 0, mm = 0;
            for (int j = 0; j < e; j++) { mz += z[i * e + j]; mm += fused[i * e + j] - z[i * e + j]; }
            mz /= e; mm /= e;
            double vz = 0, vm = 0;
            for (int j = 0; j < e; j++) {
                double dz = z[i * e + j] - mz, dm = fused[i * e + j] - z[i * e + j] - mm;
                vz += dz * dz; vm += dm * dm;
            }
            logitStdSum += Math.sqrt(vz / e);
            memStdSum += Math.sqrt(vm / e);
            topK(z, i * e, e, a);
            topK(fused, i * e, e, b);
            int overlap = 0;
            for (int x : a) for (int y : b) if (x == y) { overlap++; break; }
            changedSum += 1.0 - (double) overlap / k;
        }
        statTokens += t;
    }

    // the k largest of v[off, off+e) into out (ties: lower index first)
    private static void topK(float[] v, int off, int e, int[] out) {
        boolean[] taken = new boolean[e];
        for (int s = 0; s < out.length; s++) {
            int best = -1;
            for (int j = 0; j < e; j++) if (!taken[j] && (best < 0 || v[off + j] > v[off + best])) best = j;
            taken[best] = true;
            out[s] = best;
        }
    }

    /** z + alpha * cos(x, p) from the current memories; z itself while every memory is empty. */
    Tensor fusedLogits(Tensor hidden, Tensor logits) {
        if (cfg.alpha() == 0 || !memory.anyActive() || logits.dim(0) == 0) return logits;
        int e = memory.experts(), d = memory.dim();
        float[] p = new float[e * d];
        boolean[] active = new boolean[e];
        memory.preferences(p, active);
        Tensor m;
        if (cfg.detachMatch()) {
            try (NoGrad ng = NoGrad.enter()) { m = MemoryMatch.similarity(hidden, p, active); }
        } else {
            m = MemoryMatch.similarity(hidden, p, active);
        }
        double scale = cfg.alphaScale().equals("logit_std") ? spreadRatio(logits.toArray(), m.toArray(), logits.dim(0), e) : 1.0;
        if (scale == 0) return logits;
        return Elementwise.add(logits, Elementwise.mulScalar(m, (float) (cfg.alpha() * scale)));
    }

    // z, m [T*E] -> s_z / s_m, each the mean over tokens of the std over experts; 0 when m has no spread
    static double spreadRatio(float[] z, float[] m, int t, int e) {
        double sz = 0, sm = 0;
        for (int i = 0; i < t; i++) { sz += std(z, i * e, e); sm += std(m, i * e, e); }
        return sm > 1e-12 * t ? sz / sm : 0;
    }

    private static double std(float[] v, int off, int e) {
        double mean = 0, var = 0;
        for (int j = 0; j < e; j++) mean += v[off + j];
        mean /= e;
        for (int j = 0; j < e; j++) var += (v[off + j] - mean) * (v[off + j] - mean);
        return Math.sqrt(var / e);
    }

    /** Token entries in token order (the last N routed to an expert survive); or into this step's summary. */
    private void push(Tensor hidden, int[] experts, int k) {
        try (NoGrad ng = NoGrad.enter()) {
            float[] x = hidden.contiguous().toArray();
            int t = hidden.dim(0), d = hidden.dim(1);
            int picks = cfg.push().equals("top1") ? Math.min(1, k) : k;
            for (int i = 0; i < t; i++)
                for (int j = 0; j < picks; j++) {
                    if (summary == null) memory.push(experts[i * k + j], x, i * d);
                    else summary.add(experts[i * k + j], x, i * d);
                }
        }
    }

    @Override public void useRanks(moelab.dist.Collective ranks) { base.useRanks(ranks); }

    /** Per-step entries reach the memories here, so every micro-batch of the step is summarised at once. */
    @Override
    public void endStep() {
        if (summary != null) summary.flushInto(memory);
        lastStep = statTokens == 0 ? MarStats.empty()
                : new MarStats(memStdSum / statTokens, logitStdSum / statTokens, changedSum / statTokens, statTokens);
        memStdSum = logitStdSum = changedSum = 0;
        statTokens = 0;
        base.endStep();
    }

    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> s = new HashMap<>(base.state());
        if (memory != null) s.putAll(memory.state(STATE_PREFIX));
        if (summary != null) {
            if (summary.pending()) throw new IllegalStateException("MarRouter (layer " + layer + "): state read in the middle of an optimizer step");
            float[] r = new float[3];
            ExpertMemory.encodeLong(summary.randomState(), r, 0);
            s.put(SAMPLE_RNG_KEY, r);
        }
        return s;
    }

    @Override
    public void loadState(Map<String, float[]> state) {
        Map<String, float[]> own = new HashMap<>(), rest = new HashMap<>();
        for (Map.Entry<String, float[]> en : state.entrySet())
            (en.getKey().startsWith(STATE_PREFIX) ? own : rest).put(en.getKey(), en.getValue());
        int[] shape = ExpertMemory.storedShape(own, STATE_PREFIX);
        ExpertMemory loaded = null;
        float[] rng = own.remove(SAMPLE_RNG_KEY);
        if (shape != null) {
            if (shape[1] != cfg.bufferSize())
                throw new IllegalArgumentException(STATE_PREFIX + "meta: memory has N=" + shape[1] + ", model.moe.mar.buffer_size is " + cfg.bufferSize());
            loaded = new ExpertMemory(shape[0], shape[1], shape[2], cfg.eviction().equals("random"), seed(layer));
            loaded.loadState(own, STATE_PREFIX);
        } else if (!own.isEmpty()) {
            throw new IllegalArgumentException(STATE_PREFIX + "meta: missing, but the state has " + own.keySet());
        }
        base.loadState(rest);
        memory = null;     // a state without memories is a router that never trained: empty
        summary = null;
        if (loaded != null) {
            create(loaded.experts(), loaded.dim());
            memory = loaded;
            if (summary != null && rng != null && rng.length == 3) summary.setRandomState(ExpertMemory.decodeLong(rng, 0));
        }
    }

    /** Fixed per-layer seed of the random-eviction stream (saved with the state after that). */
    private static long seed(int layer) { return 0x4D41520000000000L + layer; }

    /** Fixed per-layer seed of the step_sample stream (saved with the state after that). */
    private static long sampleSeed(int layer) { return 0x5354455000000000L + layer; }
}
