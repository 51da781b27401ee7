package moelab.routing;

import moelab.config.ConfigException;
import moelab.nn.MoeConfig;

/** Builds the router named in the config, one instance per MoE layer. */
public final class Routers {
    private Routers() {}

    public static Router create(MoeConfig cfg, int layer) {
        return switch (cfg.router()) {
            case "topk" -> new TopKRouter(cfg.normTopK(), cfg.auxLossCoef(), cfg.zLossCoef());
            default -> throw new ConfigException("model.moe.router", "'" + cfg.router() + "' is not allowed; allowed values: topk");
        };
    }
}
