package moelab.routing;

/** No balancing: plain TopK(p) and no loss, the baseline that is expected to collapse. */
public final class NoBalancing implements BalancingMethod {
    @Override public String name() { return "none"; }
}
