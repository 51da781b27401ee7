package moelab.app.lm;

import moelab.nn.MoeConfig;
import moelab.nn.Routers;
import moelab.routing.Router;
import moelab.routing.Routing;
import moelab.routing.RoutingInput;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;

/**
 * Keeps each MoE layer's last routing decision (chosen experts and their gate weights), for
 * inspecting a model: build the Transformer with {@link #routers()} as its router factory and
 * every router is wrapped in a pass-through that records what it returned.
 */
public final class RoutingTrace {
    private final Map<Integer, Routing> last = new TreeMap<>();
    private final BiFunction<MoeConfig, Integer, Router> base;

    /** Traces the routers the config names. */
    public RoutingTrace() { this(Routers::create); }

    /** Traces routers made by another factory (e.g. a research router). */
    public RoutingTrace(BiFunction<MoeConfig, Integer, Router> base) { this.base = base; }

    /** The factory to pass to {@code new Transformer(cfg, seed, routers)}. */
    public BiFunction<MoeConfig, Integer, Router> routers() {
        return (cfg, layer) -> new Traced(base.apply(cfg, layer), layer);
    }

    /** layer -> the routing of the last forward pass, layers in block order. */
    public Map<Integer, Routing> last() { return Collections.unmodifiableMap(last); }

    public void clear() { last.clear(); }

    private final class Traced implements Router {
        private final Router inner;
        private final int layer;

        Traced(Router inner, int layer) { this.inner = inner; this.layer = layer; }

        @Override public String name() { return inner.name(); }

        @Override public Routing route(RoutingInput in) {
            Routing r = inner.route(in);
            last.put(layer, r);
            return r;
        }

        @Override public void endStep() { inner.endStep(); }
        @Override public Map<String, float[]> state() { return inner.state(); }
        @Override public void loadState(Map<String, float[]> state) { inner.loadState(state); }
    }
}
