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
 * see z'), then, under no-grad, each token is pushed in token order into the memories of the experts
 * it was routed to. Evaluation: the plain base router, no reads and no pushes (unless
 * eval_with_memory, which reads the frozen memories and still never pushes).
 *
 * <p>"Selection only" fusion (z' for top-k, z for gates and aux loss) is not offered: the gates
 * and losses are the base router's business, which a decorator cannot recompute from z without
 * knowing the base method.
 */
public final class MarRouter implements Router {
    /** Prefix of the memory entries in {@link #state()}; the base router's keys pass through unchanged. */
    public static final String STATE_PREFIX = "mar.";

    private final Router base;
    private final MarConfig cfg;
    private final int layer;
    private ExpertMemory memory;   // created at the first routing call (E and d come from the input) or on load

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

    // logits [T, E], hidden [T, d] -> the base router's routing of z + alpha * m
    @Override
    public Routing route(RoutingInput in) {
        boolean read = in.training() || cfg.evalWithMemory();
        if (!read) return base.route(in);
        int t = in.numTokens(), e = in.numExperts(), d = in.hidden().dim(1);
        if (memory == null) memory = new ExpertMemory(e, cfg.bufferSize(), d, cfg.eviction().equals("random"), seed(layer));
        else if (memory.experts() != e || memory.dim() != d)
            throw new IllegalArgumentException("MarRouter (layer " + layer + "): memory is for " + memory.experts() + " experts x d="
                    + memory.dim() + ", the input has logits [" + t + ", " + e + "] and hidden [" + t + ", " + d + "]");
        Tensor fused = fusedLogits(in.hidden(), in.logits());
        Routing r = base.route(new RoutingInput(in.layer(), in.hidden(), fused, in.topK(), in.tokens(), in.training()));
        if (in.training()) push(in.hidden(), r.experts(), in.topK());
        return r;
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
        return Elementwise.add(logits, Elementwise.mulScalar(m, (float) cfg.alpha()));
    }

    /** Token entries in token order (the last N routed to an expert survive); or one step-mean entry per expert. */
    private void push(Tensor hidden, int[] experts, int k) {
        try (NoGrad ng = NoGrad.enter()) {
            float[] x = hidden.contiguous().toArray();
            int t = hidden.dim(0), d = hidden.dim(1), e = memory.experts();
            int picks = cfg.push().equals("top1") ? Math.min(1, k) : k;
            if (cfg.entry().equals("token")) {
                for (int i = 0; i < t; i++)
                    for (int j = 0; j < picks; j++) memory.push(experts[i * k + j], x, i * d);
                return;
            }
            double[] sums = new double[e * d];
            int[] n = new int[e];
            for (int i = 0; i < t; i++)
                for (int j = 0; j < picks; j++) {
                    int ex = experts[i * k + j];
                    n[ex]++;
                    for (int c = 0; c < d; c++) sums[ex * d + c] += x[i * d + c];
                }
            float[] mean = new float[d];
            for (int ex = 0; ex < e; ex++) {
                if (n[ex] == 0) continue;
                for (int c = 0; c < d; c++) mean[c] = (float) (sums[ex * d + c] / n[ex]);
                memory.push(ex, mean, 0);
            }
        }
    }

    @Override public void useRanks(moelab.dist.Collective ranks) { base.useRanks(ranks); }
    @Override public void endStep() { base.endStep(); }

    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> s = new HashMap<>(base.state());
        if (memory != null) s.putAll(memory.state(STATE_PREFIX));
        return s;
    }

    @Override
    public void loadState(Map<String, float[]> state) {
        Map<String, float[]> own = new HashMap<>(), rest = new HashMap<>();
        for (Map.Entry<String, float[]> en : state.entrySet())
            (en.getKey().startsWith(STATE_PREFIX) ? own : rest).put(en.getKey(), en.getValue());
        int[] shape = ExpertMemory.storedShape(own, STATE_PREFIX);
        ExpertMemory loaded = null;
        if (shape != null) {
            if (shape[1] != cfg.bufferSize())
                throw new IllegalArgumentException(STATE_PREFIX + "meta: memory has N=" + shape[1] + ", model.moe.mar.buffer_size is " + cfg.bufferSize());
            loaded = new ExpertMemory(shape[0], shape[1], shape[2], cfg.eviction().equals("random"), seed(layer));
            loaded.loadState(own, STATE_PREFIX);
        } else if (!own.isEmpty()) {
            throw new IllegalArgumentException(STATE_PREFIX + "meta: missing, but the state has " + own.keySet());
        }
        base.loadState(rest);
        memory = loaded;   // a state without memories is a router that never trained: empty
    }

    /** Fixed per-layer seed of the random-eviction stream (saved with the state after that). */
    private static long seed(int layer) { return 0x4D41520000000000L + layer; }
}
