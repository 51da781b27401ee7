package moelab.routing;

/**
 * The balancing methods by their model.moe.balance.method name. A new method is its class plus
 * one constant here; the config check, the router factory and the grad_accum check read this enum.
 */
public enum Balancing {
    NONE("none", false, (b, e, aux) -> new NoBalancing()),
    LBL("lbl", false, (b, e, aux) -> new LoadBalancingLoss(aux, b.scope())),
    EB("eb", false, (b, e, aux) -> new ExpertBias(b.scope(), b.biasRate() / e, e, b.biasAtEval())),
    SH("sh", true, (b, e, aux) -> new SinkhornBalancing(b.sinkhornTol(), b.sinkhornMaxIters())),
    BA("ba", true, (b, e, aux) -> new BalancedAssignment(b.baSolver(), b.auctionEps())),
    /** Sigmoid scores: the router asks {@link #sigmoid()}; the bias rate's scale is sigmoid(0) = 1/2. */
    DSV3("dsv3", false, (b, e, aux) -> new DeepSeekV3Balancing(
            new ExpertBias(b.scope(), b.biasRate() / 2, e, b.biasAtEval()), b.seqAuxCoef())),
    /** Expert choice replaces the token-choice router ({@code Routers} builds an {@link ExpertChoiceRouter}). */
    EC("ec", true, (b, e, aux) -> new NoBalancing());

    /** Builds one layer's method from model.moe.balance, E and model.moe.aux_loss_coef (LBL's coefficient). */
    @FunctionalInterface
    interface Factory {
        BalancingMethod create(BalanceConfig balance, int experts, double auxLossCoef);
    }

    private final String configName;
    private final boolean joint;
    private final Factory factory;

    Balancing(String configName, boolean joint, Factory factory) {
        this.configName = configName;
        this.joint = joint;
        this.factory = factory;
    }

    /** Whether the router scores experts with sigmoid(z) (DeepSeek-V3) instead of softmax(z). */
    public boolean sigmoid() { return this == DSV3; }

    /** The YAML spelling, also the method's {@link BalancingMethod#name()}. */
    @Override public String toString() { return configName; }

    /**
     * Whether the method selects each scope group jointly (SH, BA) rather than token by token: then
     * a global scope needs the whole optimizer batch in one forward pass.
     */
    public boolean joint() { return joint; }

    /** This method for one MoE layer. */
    public BalancingMethod create(BalanceConfig balance, int experts, double auxLossCoef) {
        return factory.create(balance, experts, auxLossCoef);
    }
}
