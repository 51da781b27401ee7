package moelab.routing;

/** Which routes an over-full expert keeps (model.moe.drop_policy); see {@link Capacity}. */
public enum DropPolicy {
    /** The routes with the highest router probability (ties: earlier slot). */
    PROBS("probs"),
    /** The earliest tokens. */
    POSITION("position");

    private final String configName;

    DropPolicy(String configName) { this.configName = configName; }

    /** The YAML spelling. */
    @Override public String toString() { return configName; }
}
