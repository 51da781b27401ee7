package moelab.losses;

import moelab.config.ConfigException;

/**
 * Expert orthogonality and routing variance losses (Guo et al., arXiv 2505.22323), YAML section
 * {@code model.moe.expert_losses}: L = L_lm + aux + orthCoef * L_o - varCoef * L_v.
 *
 * @param orthCoef beta, weight of the orthogonality loss (0 = off)
 * @param orthMode subspace | pairwise
 * @param varCoef  gamma, weight of the variance loss (0 = off)
 * @param varMode  per_token | per_expert
 */
public record ExpertLossConfig(double orthCoef, String orthMode, double varCoef, String varMode) {
    public ExpertLossConfig {
        ConfigException.require(orthCoef >= 0, "model.moe.expert_losses.orth_coef", "must be >= 0, got " + orthCoef);
        ConfigException.oneOf("model.moe.expert_losses.orth_mode", orthMode, "subspace", "pairwise");
        ConfigException.require(varCoef >= 0, "model.moe.expert_losses.var_coef", "must be >= 0, got " + varCoef);
        ConfigException.oneOf("model.moe.expert_losses.var_mode", varMode, "per_token", "per_expert");
    }

    /** Both losses off. */
    public static ExpertLossConfig off() { return new ExpertLossConfig(0, "subspace", 0, "per_token"); }
}
