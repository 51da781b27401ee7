package moelab.nn;

/** The router an MoE layer gets (model.moe.router); {@link Routers} builds it. */
public enum RouterKind {
    /** The learned top-k router, balanced as model.moe.balance says. */
    TOPK("topk"),
    /** The testbed's domain-block oracle. */
    REFERENCE("reference");

    private final String configName;

    RouterKind(String configName) { this.configName = configName; }

    /** The YAML spelling. */
    @Override public String toString() { return configName; }
}
