package moelab.routing;

import moelab.config.ConfigException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The balancing methods by their model.moe.balance.method name. A new method is its class plus
 * one line in the table below; the config check, the router factory and the grad_accum check all
 * read this table.
 */
public final class BalancingMethods {
    private BalancingMethods() {}

    /** Builds one layer's method from model.moe.balance, E and model.moe.aux_loss_coef (LBL's coefficient). */
    @FunctionalInterface
    public interface Factory {
        BalancingMethod create(BalanceConfig balance, int experts, double auxLossCoef);
    }

    /**
     * A method's factory, and whether it solves each scope group jointly (then a global scope needs
     * the whole optimizer batch in one forward pass).
     */
    private record Entry(Factory factory, boolean joint) {}

    private static final Map<String, Entry> METHODS = new LinkedHashMap<>();

    static {
        METHODS.put("none", new Entry((b, e, aux) -> new NoBalancing(), false));
        METHODS.put("lbl", new Entry((b, e, aux) -> new LoadBalancingLoss(aux, b.scopeKind()), false));
        METHODS.put("eb", new Entry((b, e, aux) -> new ExpertBias(b.scopeKind(), b.biasRate(), e, b.biasAtEval()), false));
        METHODS.put("sh", new Entry((b, e, aux) -> new SinkhornBalancing(b.sinkhornTol(), b.sinkhornMaxIters()), true));
        METHODS.put("ba", new Entry((b, e, aux) -> new BalancedAssignment(b.auctionEps()), true));
    }

    /** The method names, in the order the config error lists them. */
    public static List<String> names() { return List.copyOf(METHODS.keySet()); }

    /** The named method (the name is checked: a ConfigException lists the allowed ones). */
    public static BalancingMethod create(BalanceConfig balance, int experts, double auxLossCoef) {
        return entry(balance.method()).factory().create(balance, experts, auxLossCoef);
    }

    /** Whether the named method selects each scope group jointly (SH, BA) rather than token by token. */
    public static boolean joint(String method) { return entry(method).joint(); }

    private static Entry entry(String method) {
        ConfigException.oneOf("model.moe.balance.method", method, names().toArray(String[]::new));
        return METHODS.get(method);
    }
}
