package moelab.routing;

/** The reference router's gates (model.moe.balance.reference_gates); see {@link ReferenceRouter}. */
public enum ReferenceGates {
    /** Softmax over the selected experts' logits. */
    LEARNED("learned"),
    /** 1/k, no gradient to the router. */
    UNIFORM("uniform");

    private final String configName;

    ReferenceGates(String configName) { this.configName = configName; }

    /** The YAML spelling. */
    @Override public String toString() { return configName; }
}
