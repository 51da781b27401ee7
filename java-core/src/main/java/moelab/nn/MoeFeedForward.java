package moelab.nn;

import moelab.tensor.Parameters;
import moelab.kernels.Profile;
import moelab.losses.ExpertLosses;
import moelab.ops.Activations;
import moelab.ops.Elementwise;
import moelab.ops.Indexing;
import moelab.ops.Join;
import moelab.ops.MatMul;
import moelab.routing.Capacity;
import moelab.routing.Router;
import moelab.routing.Routing;
import moelab.routing.RoutingInput;
import moelab.routing.RoutingRecord;
import moelab.routing.Scope;
import moelab.routing.TokenInfo;
import moelab.tensor.Tensor;

import java.util.Random;

/**
 * MoE feed-forward: router logits z = x·W_r, the router picks k experts per token with gates,
 * capacity may drop routes, each SwiGLU expert runs on the tokens routed to it, and the
 * gate-weighted outputs are summed back per token; optional shared experts see every token.
 * The routed experts run as one fused tape node ({@link MoeExperts}): sort-by-expert dispatch and
 * one gated GEMM pair per expert block.
 *
 * <p>Parameters: router [d, E], w1, w3 [E, d, f], w2 [E, f, d]; shared.w1/w3/w2 when configured.
 */
public final class MoeFeedForward {
    private final int layer, dModel, experts, topK, dFf;
    private final MoeConfig cfg;
    private final Tensor router, w1, w3, w2;
    private final DenseFeedForward shared;
    private Router routerImpl;
    private final ExpertLosses expertLosses;
    /** The experts' packed activations, reused from step to step. */
    private final ExpertBuffers expertBuffers = new ExpertBuffers();

    public MoeFeedForward(String prefix, int layer, int dModel, MoeConfig cfg, double initStd, double outStd,
                          Parameters params, Random rng, Router routerImpl) {
        this(prefix, layer, dModel, cfg, initStd, outStd, params, rng, routerImpl, new ExpertLosses(cfg.expertLosses()));
    }

    /** expertLosses: the model's shared orthogonality / variance loss state (one per model, so auto-scale is global). */
    public MoeFeedForward(String prefix, int layer, int dModel, MoeConfig cfg, double initStd, double outStd,
                          Parameters params, Random rng, Router routerImpl, ExpertLosses expertLosses) {
        this.expertLosses = expertLosses;
        this.layer = layer; this.dModel = dModel; this.cfg = cfg;
        this.experts = cfg.experts(); this.topK = cfg.topK(); this.dFf = cfg.dFf();
        this.routerImpl = routerImpl;
        router = params.add(prefix + "router", Tensor.randn(rng, (float) initStd, dModel, experts));
        w1 = params.add(prefix + "w1", Tensor.randn(rng, (float) initStd, experts, dModel, dFf));
        w3 = params.add(prefix + "w3", Tensor.randn(rng, (float) initStd, experts, dModel, dFf));
        w2 = params.add(prefix + "w2", Tensor.randn(rng, (float) outStd, experts, dFf, dModel));
        shared = cfg.sharedExperts() > 0
                ? new DenseFeedForward(prefix + "shared.", dModel, cfg.dFf() * cfg.sharedExperts(), initStd, outStd, params, rng)
                : null;
    }

    /**
     * y [T, d], this layer's auxiliary loss (scalar or null), what routing did, and the fused
     * experts node (its dispatch plan and per-slot expert outputs; null when the composed reference ran).
     */
    public record Output(Tensor y, Tensor auxLoss, RoutingRecord routing, MoeExperts.Result experts) {}

    public Router router() { return routerImpl; }

    /**
     * Installs another router and returns the one it replaces: for probes that route differently
     * for a moment (e.g. masking experts) and must put the original back.
     */
    public Router swapRouter(Router r) {
        Router old = routerImpl;
        routerImpl = java.util.Objects.requireNonNull(r, "router");
        return old;
    }
    public int layer() { return layer; }

    // x [T, d] -> y [T, d]
    public Output forward(Tensor x, TokenInfo tokens, boolean training) { return forward(x, tokens, training, false); }

    /** composed = true runs the experts through {@link #composedExperts} (the reference the tests compare with). */
    Output forward(Tensor x, TokenInfo tokens, boolean training, boolean composed) {
        int t = x.dim(0);
        Profile.begin(Profile.ROUTING); // router GEMM, softmax, top-k, aux loss, capacity
        Tensor logits = MatMul.matmul(x, router);                                   // [T, E]
        Routing r = routerImpl.route(new RoutingInput(layer, x, logits, topK, tokens, training));
        float[] probs = r.probsArray();
        int slotsPerToken = r.gates().dim(1);  // k, or E for expert choice's (token, expert) slots
        boolean[] kept = r.taken() != null ? r.taken()                                     // expert choice: C per expert already
                : training
                ? Capacity.applyGroups(r.experts(), probs, Scope.microBatches(tokens, t, cfg.balance().groupSequences()),
                        experts, topK, cfg.capacityFactor(), cfg.dropPolicy())               // per (emulated) micro-batch
                : Capacity.apply(r.experts(), probs, t, experts, topK, 0, cfg.dropPolicy()); // eval is dropless
        Profile.end(Profile.ROUTING);
        MoeExperts.Result fused = null;
        Tensor y;
        if (composed) {
            y = composedExperts(x, r.gates(), w1, w3, w2, r.experts(), kept);
        } else {
            fused = MoeExperts.forward(x, r.gates(), w1, w3, w2, r.experts(), kept, expertBuffers);
            y = fused.out();
        }
        if (shared != null) y = Elementwise.add(y, shared.forward(x));
        Tensor aux = r.auxLoss();
        final MoeExperts.Result f = fused;
        if (training && expertLosses.active()) { // + beta * L_o - gamma * L_v (L_o needs the fused node's slot outputs)
            Tensor term = expertLosses.term(layer, () -> f == null ? null : f.slotOutputs(expertLosses.config().detachInput()),
                    slotsPerToken, kept, r.probs());
            if (term != null) aux = aux == null ? term : Elementwise.add(aux, term);
        }
        RoutingRecord record = new RoutingRecord(layer, t, experts, slotsPerToken, r.experts(), kept, probs, tokens.domains());
        expertLosses.observe(layer, x, () -> f == null ? null : f.slotOutputs(), record);
        return new Output(y, aux, record, fused);
    }

    /**
     * Reference composition from small ops: for each expert, gather its tokens, run SwiGLU,
     * scale by the gates and scatter-add back. x [T, d], gates [T, k], w1, w3 [E, d, f],
     * w2 [E, f, d], experts/kept [T*k] -> [T, d]. Slow (many small nodes); {@link MoeExperts} is
     * the fused version the layer runs.
     */
    static Tensor composedExperts(Tensor x, Tensor gates, Tensor w1, Tensor w3, Tensor w2, int[] slotsExpert, boolean[] kept) {
        int t = x.dim(0), topK = gates.dim(1), experts = w1.dim(0), dModel = w1.dim(1), dFf = w1.dim(2);
        Tensor flatGates = gates.reshape(t * topK, 1);                             // [T*k, 1]
        Tensor y = null;
        for (int e = 0; e < experts; e++) {
            int n = 0;
            for (int s = 0; s < slotsExpert.length; s++) if (slotsExpert[s] == e && kept[s]) n++;
            if (n == 0) continue;
            int[] tok = new int[n], slot = new int[n];
            n = 0;
            for (int s = 0; s < slotsExpert.length; s++)
                if (slotsExpert[s] == e && kept[s]) { tok[n] = s / topK; slot[n] = s; n++; }
            Tensor xe = Indexing.indexSelect(x, tok);                              // [n, d]
            Tensor e1 = Join.narrow(w1, 0, e, 1).reshape(dModel, dFf);
            Tensor e3 = Join.narrow(w3, 0, e, 1).reshape(dModel, dFf);
            Tensor e2 = Join.narrow(w2, 0, e, 1).reshape(dFf, dModel);
            Tensor ye = MatMul.matmul(Activations.swiglu(MatMul.matmul(xe, e1), MatMul.matmul(xe, e3)), e2);
            ye = Elementwise.mul(ye, Indexing.indexSelect(flatGates, slot));       // [n, d] * [n, 1]
            Tensor back = Indexing.scatterAdd(ye, tok, t);                          // [T, d]
            y = y == null ? back : Elementwise.add(y, back);
        }
        return y != null ? y : Elementwise.mulScalar(x, 0f);
    }
}
