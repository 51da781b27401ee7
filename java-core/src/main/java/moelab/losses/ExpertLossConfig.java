package moelab.losses;

import moelab.config.ConfigException;

/**
 * Expert orthogonality and routing variance losses (Guo et al., arXiv 2505.22323), YAML section
 * {@code model.moe.expert_losses}: L = L_lm + aux + orthCoef * L_o - varCoef * L_v, the per-layer
 * terms summed over layers, in training only. See {@link OrthogonalityLoss}, {@link VarianceLoss}.
 *
 * @param orthCoef    beta, weight of the orthogonality loss (0 = off); with autoScale the target value of beta * L_o
 * @param orthMode    subspace | pairwise
 * @param varCoef     gamma, weight of the variance loss (0 = off); with autoScale the target value of gamma * L_v
 * @param varMode     per_token | per_expert
 * @param detachInput L_o's gradient reaches only the expert weights, not the MoE input (the paper's analysis)
 * @param autoScale   on the first training batch pick beta = 10^round(log10(orthCoef / L_o)) and
 *                    gamma likewise from the first MoE layer's raw values (the released code's
 *                    compute_weight, measured on the real expert outputs); kept for the whole run
 *                    and stored in checkpoints
 */
public record ExpertLossConfig(double orthCoef, String orthMode, double varCoef, String varMode,
                               boolean detachInput, boolean autoScale) {
    public ExpertLossConfig {
        ConfigException.require(orthCoef >= 0 && Double.isFinite(orthCoef), "model.moe.expert_losses.orth_coef", "must be >= 0, got " + orthCoef);
        ConfigException.oneOf("model.moe.expert_losses.orth_mode", orthMode, OrthogonalityLoss.SUBSPACE, OrthogonalityLoss.PAIRWISE);
        ConfigException.require(varCoef >= 0 && Double.isFinite(varCoef), "model.moe.expert_losses.var_coef", "must be >= 0, got " + varCoef);
        ConfigException.oneOf("model.moe.expert_losses.var_mode", varMode, VarianceLoss.PER_TOKEN, VarianceLoss.PER_EXPERT);
    }

    public ExpertLossConfig(double orthCoef, String orthMode, double varCoef, String varMode) {
        this(orthCoef, orthMode, varCoef, varMode, false, false);
    }

    /** Both losses off. */
    public static ExpertLossConfig off() { return new ExpertLossConfig(0, "subspace", 0, "per_token"); }

    public boolean orthOn() { return orthCoef > 0; }
    public boolean varOn() { return varCoef > 0; }
    public boolean anyOn() { return orthOn() || varOn(); }
}
