package moelab.nn;

import moelab.config.ConfigException;
import moelab.routing.BalanceConfig;
import moelab.routing.BalancingMethod;
import moelab.routing.ExpertChoiceRouter;
import moelab.routing.Balancing;
import moelab.routing.ReferenceGates;
import moelab.routing.ReferenceRouter;
import moelab.routing.Router;
import moelab.routing.Scope;
import moelab.routing.TopKRouter;
import moelab.routing.mar.MarRouter;

/**
 * Builds the router named in the config, one instance per MoE layer: topk = the learned router
 * with model.moe.balance's method and scope (method ec: the expert-choice router; dsv3: sigmoid
 * scores), reference = the domain-block oracle. It lives beside
 * {@link MoeConfig} because it reads it; the routing packages below know no model config.
 */
public final class Routers {
    private Routers() {}

    /** The router of MoE layer {@code layer}: {@link #create}'s, wrapped in MAR when model.moe.mar.enabled. */
    public static Router forLayer(MoeConfig cfg, int layer) {
        Router base = create(cfg, layer);
        ConfigException.require(!(cfg.mar().enabled() && base instanceof ExpertChoiceRouter), "model.moe.mar.enabled",
                "memory-aware routing wraps a token-choice router; it cannot be combined with model.moe.balance.method ec");
        ConfigException.require(!(cfg.expertLosses().anyOn() && base instanceof ExpertChoiceRouter), "model.moe.expert_losses",
                "the orthogonality / variance losses read k slots per token; set orth_coef and var_coef to 0 with model.moe.balance.method ec");
        return cfg.mar().enabled() ? new MarRouter(base, cfg.mar(), layer) : base;
    }

    public static Router create(MoeConfig cfg, int layer) {
        BalanceConfig b = cfg.balance();
        return switch (cfg.router()) {
            case TOPK -> {
                if (b.method() == Balancing.EC) {
                    ConfigException.require(cfg.capacityFactor() > 0, "model.moe.capacity_factor",
                            "expert choice (method ec) takes C = cf * T * k / E tokens per expert: set a capacity factor > 0, e.g. 1.0 (got 0)");
                    yield new ExpertChoiceRouter(cfg.capacityFactor(), cfg.normTopK(), cfg.zLossCoef(), b.scope(), b.groupSequences());
                }
                yield new TopKRouter(cfg.normTopK(), cfg.zLossCoef(), method(cfg), b.scope(), b.groupSequences(),
                        b.method().sigmoid(), b.gateScale());
            }
            case REFERENCE -> {
                ConfigException.require(cfg.experts() % b.domains() == 0, "model.moe.balance.domains",
                        "the reference router needs D=" + b.domains() + " to divide model.moe.experts=" + cfg.experts());
                ConfigException.require(cfg.topK() <= cfg.experts() / b.domains(), "model.moe.top_k",
                        "the reference router needs k <= E/D = " + cfg.experts() / b.domains() + ", got " + cfg.topK());
                yield new ReferenceRouter(b.domains(), b.referenceGates() == ReferenceGates.UNIFORM);
            }
        };
    }

    /** The balancing method of model.moe.balance.method (LBL takes model.moe.aux_loss_coef). */
    public static BalancingMethod method(MoeConfig cfg) {
        return cfg.balance().method().create(cfg.balance(), cfg.experts(), cfg.auxLossCoef());
    }

    /**
     * Methods that select jointly (SH, BA; see {@link Balancing#joint}) at global scope balance
     * the whole optimizer batch at once, which needs it in one forward pass: with
     * train.grad_accum > 1 that is a config error.
     */
    public static void checkGradAccum(MoeConfig cfg, int gradAccum) {
        if (cfg == null || cfg.router() != RouterKind.TOPK) return;
        BalanceConfig b = cfg.balance();
        boolean joint = b.method().joint();
        ConfigException.require(!(joint && b.scope() == Scope.GLOBAL && gradAccum > 1), "model.moe.balance.scope",
                "global scope with method " + b.method() + " solves the whole optimizer batch jointly and needs it in one forward pass: "
                        + "set train.grad_accum: 1 (got " + gradAccum + ") and emulate micro-batches with model.moe.balance.group_sequences");
    }

    /**
     * What data-parallel training over {@code ranks} ranks, each taking {@code shard} sequences of
     * every micro-batch, cannot reproduce: SH / BA at global scope (they solve the global batch
     * jointly, which no rank holds), memory-aware routing and auto-scaled expert losses (their
     * state would follow each rank's own tokens), and emulated micro-batches that straddle two ranks.
     */
    public static void checkRanks(MoeConfig cfg, int ranks, int shard) {
        if (cfg == null || ranks <= 1) return;
        String why = " cannot be split over " + ranks + " data-parallel ranks";
        ConfigException.require(!cfg.mar().enabled(), "model.moe.mar.enabled",
                "memory-aware routing keeps per-expert memories of the tokens it saw, which" + why + ": set it to false or train in one process");
        ConfigException.require(!cfg.expertLosses().autoScale(), "model.moe.expert_losses.auto_scale",
                "the coefficients chosen on the first batch" + why + ": give fixed coefficients (auto_scale: false) or train in one process");
        if (cfg.router() != RouterKind.TOPK) return;
        BalanceConfig b = cfg.balance();
        ConfigException.require(!(b.method().joint() && b.scope() == Scope.GLOBAL), "model.moe.balance.scope",
                "global scope with method " + b.method() + " solves the whole global batch jointly, which no single rank holds, so it"
                        + why + ": use scope sequence or micro_batch, or train in one process");
        int g = b.groupSequences();
        ConfigException.require(g <= 0 || g >= shard * ranks || shard % g == 0, "model.moe.balance.group_sequences",
                "must divide the " + shard + " sequences each of the " + ranks + " ranks takes from train.micro_batch, got " + g);
    }
}
