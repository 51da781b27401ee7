package moelab.nn;

import moelab.config.ConfigException;
import moelab.losses.ExpertLossConfig;
import moelab.routing.BalanceConfig;
import moelab.routing.DropPolicy;
import moelab.routing.mar.MarConfig;

/**
 * The MoE feed-forward settings (YAML section {@code model.moe}, snake_case keys).
 *
 * @param experts        E, routed experts per MoE layer
 * @param topK           k experts per token, 1 <= k <= E
 * @param dFf            hidden width of each SwiGLU expert
 * @param sharedExperts  always-on SwiGLU experts of width dFf added to every token (0 = none)
 * @param layers         which blocks are MoE: "all", "none", "every:N" (blocks N-1, 2N-1, ...), or "0,2,3"
 * @param normTopK       gates = softmax over the selected k logits, i.e. p renormalised over the selected set
 *                       (Mixtral; the routing testbed's choice), instead of the full softmax's k values; every
 *                       balancing method follows it (the reference router always renormalises)
 * @param capacityFactor 0 = dropless; else each expert keeps at most ceil(cf * k * T / E) routes per micro-batch
 * @param dropPolicy     which routes an over-full expert keeps: "probs" (highest router probability) or "position" (earliest tokens)
 * @param auxLossCoef    Switch/GShard load-balancing loss coefficient (0 = off)
 * @param zLossCoef      router z-loss coefficient, mean(logsumexp(z)^2) (0 = off)
 * @param router         "topk" (learned router balanced as {@code balance} says) or "reference" (the testbed's
 *                       domain-block oracle); MAR adds more
 * @param balance        balancing method and scope
 * @param mar            memory-aware routing (off by default)
 * @param expertLosses   orthogonality / variance losses (off by default)
 */
public record MoeConfig(int experts, int topK, int dFf, int sharedExperts, String layers, boolean normTopK,
                        double capacityFactor, DropPolicy dropPolicy, double auxLossCoef, double zLossCoef, RouterKind router,
                        BalanceConfig balance, MarConfig mar, ExpertLossConfig expertLosses) {

    public MoeConfig {
        ConfigException.require(experts >= 1, "model.moe.experts", "must be >= 1, got " + experts);
        ConfigException.require(topK >= 1 && topK <= experts, "model.moe.top_k", "must be in [1, experts=" + experts + "], got " + topK);
        ConfigException.require(dFf >= 1, "model.moe.d_ff", "must be >= 1, got " + dFf);
        ConfigException.require(sharedExperts >= 0, "model.moe.shared_experts", "must be >= 0, got " + sharedExperts);
        ConfigException.require(capacityFactor == 0 || capacityFactor > 0, "model.moe.capacity_factor", "must be 0 (dropless) or > 0, got " + capacityFactor);
        ConfigException.require(dropPolicy != null, "model.moe.drop_policy", "must be probs or position");
        ConfigException.require(auxLossCoef >= 0, "model.moe.aux_loss_coef", "must be >= 0, got " + auxLossCoef);
        ConfigException.require(zLossCoef >= 0, "model.moe.z_loss_coef", "must be >= 0, got " + zLossCoef);
        ConfigException.require(router != null, "model.moe.router", "must name a router, e.g. topk");
        ConfigException.require(layers != null, "model.moe.layers", "must be all, none, every:N or a list like 0,2");
        ConfigException.require(balance != null, "model.moe.balance", "section is missing");
        ConfigException.require(mar != null, "model.moe.mar", "section is missing");
        ConfigException.require(expertLosses != null, "model.moe.expert_losses", "section is missing");
    }

    /** E experts, top-k, expert width d_ff; the rest at the defaults: dropless, LBL 0.01, no z-loss, top-k router. */
    public static MoeConfig defaults(int experts, int topK, int dFf) {
        return new MoeConfig(experts, topK, dFf, 0, "all", false, 0.0, DropPolicy.PROBS, 0.01, 0.0, RouterKind.TOPK,
                BalanceConfig.defaults(), MarConfig.off(), ExpertLossConfig.off());
    }

    /** This config with sharedExperts (always-on experts of width d_ff added to every token). */
    public MoeConfig withSharedExperts(int n) {
        return new MoeConfig(experts, topK, dFf, n, layers, normTopK, capacityFactor, dropPolicy, auxLossCoef,
                zLossCoef, router, balance, mar, expertLosses);
    }

    /** This config with layers (which blocks are MoE: all, none, every:N or a list like 0,2). */
    public MoeConfig withLayers(String l) {
        return new MoeConfig(experts, topK, dFf, sharedExperts, l, normTopK, capacityFactor, dropPolicy, auxLossCoef,
                zLossCoef, router, balance, mar, expertLosses);
    }

    /** This config with normTopK (gates renormalised over the selected k). */
    public MoeConfig withNormTopK(boolean on) {
        return new MoeConfig(experts, topK, dFf, sharedExperts, layers, on, capacityFactor, dropPolicy, auxLossCoef,
                zLossCoef, router, balance, mar, expertLosses);
    }

    /** This config with capacityFactor (0 = dropless). */
    public MoeConfig withCapacityFactor(double cf) {
        return new MoeConfig(experts, topK, dFf, sharedExperts, layers, normTopK, cf, dropPolicy, auxLossCoef,
                zLossCoef, router, balance, mar, expertLosses);
    }

    /** This config with dropPolicy (probs or position). */
    public MoeConfig withDropPolicy(DropPolicy p) {
        return new MoeConfig(experts, topK, dFf, sharedExperts, layers, normTopK, capacityFactor, p, auxLossCoef,
                zLossCoef, router, balance, mar, expertLosses);
    }

    /** This config with auxLossCoef (the load-balancing loss coefficient). */
    public MoeConfig withAuxLossCoef(double c) {
        return new MoeConfig(experts, topK, dFf, sharedExperts, layers, normTopK, capacityFactor, dropPolicy, c,
                zLossCoef, router, balance, mar, expertLosses);
    }

    /** This config with zLossCoef (the router z-loss coefficient). */
    public MoeConfig withZLossCoef(double c) {
        return new MoeConfig(experts, topK, dFf, sharedExperts, layers, normTopK, capacityFactor, dropPolicy,
                auxLossCoef, c, router, balance, mar, expertLosses);
    }

    /** This config with router (topk or reference). */
    public MoeConfig withRouter(RouterKind r) {
        return new MoeConfig(experts, topK, dFf, sharedExperts, layers, normTopK, capacityFactor, dropPolicy,
                auxLossCoef, zLossCoef, r, balance, mar, expertLosses);
    }

    public MoeConfig withBalance(BalanceConfig b) {
        return new MoeConfig(experts, topK, dFf, sharedExperts, layers, normTopK, capacityFactor, dropPolicy,
                auxLossCoef, zLossCoef, router, b, mar, expertLosses);
    }

    public MoeConfig withMar(MarConfig m) {
        return new MoeConfig(experts, topK, dFf, sharedExperts, layers, normTopK, capacityFactor, dropPolicy,
                auxLossCoef, zLossCoef, router, balance, m, expertLosses);
    }

    public MoeConfig withExpertLosses(ExpertLossConfig l) {
        return new MoeConfig(experts, topK, dFf, sharedExperts, layers, normTopK, capacityFactor, dropPolicy,
                auxLossCoef, zLossCoef, router, balance, mar, l);
    }

    /** Whether block {@code layer} (0-based) of {@code numLayers} is an MoE block. */
    public boolean isMoeLayer(int layer, int numLayers) {
        String s = layers.trim();
        if (s.equals("all")) return true;
        if (s.equals("none")) return false;
        if (s.startsWith("every:")) {
            int n;
            try { n = Integer.parseInt(s.substring(6)); } catch (NumberFormatException e) { n = -1; }
            ConfigException.require(n >= 1, "model.moe.layers", "every:N needs an integer N >= 1, got '" + s + "'");
            return (layer + 1) % n == 0;
        }
        for (String part : s.split(",")) {
            int v;
            try { v = Integer.parseInt(part.trim()); } catch (NumberFormatException e) {
                throw new ConfigException("model.moe.layers", "'" + s + "' is not allowed; allowed: all, none, every:N, or a comma list of block indices");
            }
            ConfigException.require(v >= 0 && v < numLayers, "model.moe.layers", "block index " + v + " out of range [0, " + numLayers + ")");
            if (v == layer) return true;
        }
        return false;
    }
}
