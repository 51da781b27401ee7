package moelab.routing;

/** How balanced assignment is solved (model.moe.balance.ba_solver); see {@link BalancedAssignment}. */
public enum BaSolver {
    /** Exact: successive shortest paths over the experts ({@link MinCostFlowAssignment}). */
    FLOW("flow"),
    /** Bertsekas' eps-scaled auction over slot prices, within k*T*auction_eps of the optimum. */
    AUCTION("auction");

    private final String configName;

    BaSolver(String configName) { this.configName = configName; }

    /** The YAML spelling. */
    @Override public String toString() { return configName; }
}
