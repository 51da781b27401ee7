package moelab.routing;

import moelab.config.ConfigException;

/**
 * How a learned router is kept balanced (YAML section {@code model.moe.balance}), and the
 * reference router's settings. The LBL coefficient is {@code model.moe.aux_loss_coef}, the optional
 * router z-loss {@code model.moe.z_loss_coef} (both apply to every method).
 *
 * @param method           the balancing method: none | lbl | eb | sh | ba | dsv3 | ec ({@link Balancing})
 * @param scope            the tokens balance is enforced over: sequence | micro_batch | global
 * @param groupSequences   sequences per emulated micro-batch inside one forward pass (0 = the whole
 *                         forward pass is one micro-batch). With train.grad_accum 1 this makes global
 *                         scope exact over the optimizer batch while micro_batch scope and capacity use
 *                         the emulated micro-batches
 * @param biasRate         EB / DSV3 sign-update rate relative to the score scale (1/E for softmax
 *                         probabilities, 1/2 = sigmoid(0) for sigmoid scores): once per optimizer step
 *                         b_i += biasRate * scale * sign(mean c - c_i)
 * @param biasAtEval       EB / DSV3: whether eval routing selects with TopK(score + b) (DeepSeek-V3, the
 *                         default) instead of plain greedy TopK(score)
 * @param seqAuxCoef       DSV3: alpha of the sequence-wise balance loss on the normalised sigmoid scores (0 = off)
 * @param gateScale        DSV3: the gates' scaling factor (DeepSeek-V3's routed_scaling_factor)
 * @param sinkhornTol      SH: stop when mean |change of the column scaling d1| falls below this
 * @param sinkhornMaxIters SH: iteration cap (the last iterate is used when reached)
 * @param baSolver         BA: flow (exact, the default) | auction
 * @param auctionEps       BA with the auction solver: final bid increment; the assignment's sum of logits is within k*T*eps of the optimum
 * @param domains          D, the number of domains the reference router splits the experts into
 * @param referenceGates   reference router gates: learned (softmax over the selected experts of the
 *                         block) | uniform (1/k)
 */
public record BalanceConfig(Balancing method, Scope scope, int groupSequences, double biasRate, boolean biasAtEval,
                            double seqAuxCoef, double gateScale, double sinkhornTol, int sinkhornMaxIters, BaSolver baSolver, double auctionEps,
                            int domains,
                            ReferenceGates referenceGates) {
    public BalanceConfig {
        ConfigException.require(method != null, "model.moe.balance.method", "must name a method, e.g. lbl");
        ConfigException.require(scope != null, "model.moe.balance.scope", "must name a scope, e.g. micro_batch");
        ConfigException.require(groupSequences >= 0, "model.moe.balance.group_sequences",
                "must be >= 0 (0 = the whole forward pass), got " + groupSequences);
        ConfigException.require(biasRate >= 0, "model.moe.balance.bias_rate", "must be >= 0, got " + biasRate);
        ConfigException.require(seqAuxCoef >= 0, "model.moe.balance.seq_aux_coef", "must be >= 0, got " + seqAuxCoef);
        ConfigException.require(gateScale > 0, "model.moe.balance.gate_scale", "must be > 0, got " + gateScale);
        ConfigException.require(sinkhornTol > 0, "model.moe.balance.sinkhorn_tol", "must be > 0, got " + sinkhornTol);
        ConfigException.require(sinkhornMaxIters >= 1, "model.moe.balance.sinkhorn_max_iters",
                "must be >= 1, got " + sinkhornMaxIters);
        ConfigException.require(baSolver != null, "model.moe.balance.ba_solver", "must be flow or auction");
        ConfigException.require(auctionEps > 0, "model.moe.balance.auction_eps", "must be > 0, got " + auctionEps);
        ConfigException.require(domains >= 1, "model.moe.balance.domains", "must be >= 1, got " + domains);
        ConfigException.require(referenceGates != null, "model.moe.balance.reference_gates", "must be learned or uniform");
    }

    /** A method and scope with every other setting at its default. */
    public BalanceConfig(Balancing method, Scope scope) {
        this(method, scope, 0, 1e-2, true, 1e-4, 1.0, 1e-4, 1000, BaSolver.FLOW, 1e-3, 8, ReferenceGates.LEARNED);
    }

    /** LBL over each micro-batch: the usual Switch/GShard setup. */
    public static BalanceConfig defaults() { return new BalanceConfig(Balancing.LBL, Scope.MICRO_BATCH); }

    public BalanceConfig withMethod(Balancing m) {
        return new BalanceConfig(m, scope, groupSequences, biasRate, biasAtEval, seqAuxCoef, gateScale, sinkhornTol, sinkhornMaxIters, baSolver, auctionEps,
                domains, referenceGates);
    }

    public BalanceConfig withScope(Scope s) {
        return new BalanceConfig(method, s, groupSequences, biasRate, biasAtEval, seqAuxCoef, gateScale, sinkhornTol, sinkhornMaxIters, baSolver, auctionEps,
                domains, referenceGates);
    }

    public BalanceConfig withGroupSequences(int g) {
        return new BalanceConfig(method, scope, g, biasRate, biasAtEval, seqAuxCoef, gateScale, sinkhornTol, sinkhornMaxIters, baSolver, auctionEps,
                domains, referenceGates);
    }

    public BalanceConfig withDomains(int d, ReferenceGates gates) {
        return new BalanceConfig(method, scope, groupSequences, biasRate, biasAtEval, seqAuxCoef, gateScale, sinkhornTol, sinkhornMaxIters, baSolver, auctionEps,
                d, gates);
    }
}
