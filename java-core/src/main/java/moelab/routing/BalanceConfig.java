package moelab.routing;

import moelab.config.ConfigException;

/**
 * How a learned router is kept balanced (YAML section {@code model.moe.balance}).
 *
 * @param method none | lbl | eb | sh | ba
 * @param scope  the tokens balance is enforced over: sequence | micro_batch | global
 */
public record BalanceConfig(String method, String scope) {
    public BalanceConfig {
        ConfigException.oneOf("model.moe.balance.method", method, "none", "lbl", "eb", "sh", "ba");
        ConfigException.oneOf("model.moe.balance.scope", scope, "sequence", "micro_batch", "global");
    }

    /** LBL over each micro-batch: the usual Switch/GShard setup. */
    public static BalanceConfig defaults() { return new BalanceConfig("lbl", "micro_batch"); }
}
