package moelab.losses;

import moelab.ops.Elementwise;
import moelab.routing.RoutingRecord;
import moelab.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The expert losses of one model, shared by its MoE layers: the resolved coefficients (fixed, or
 * auto-scaled once on the first training batch, one value for all layers as the released code
 * does), the raw per-layer values of the last training forward (for metrics), and the state a
 * checkpoint keeps so a resume uses the same coefficients.
 */
public final class ExpertLosses {
    /** State keys; the trainer stores them beside the first router's state. */
    public static final String STATE_PREFIX = "expert_losses.";
    static final String KEY_ORTH = STATE_PREFIX + "orth_coef", KEY_VAR = STATE_PREFIX + "var_coef";

    /** Raw (unweighted) L_o and L_v of one layer's forward; NaN where the loss is off. */
    public record Values(int layer, double orth, double var) {}

    private final ExpertLossConfig cfg;
    private double orthCoef, varCoef;
    private boolean resolved;
    private final Map<Integer, Values> last = new TreeMap<>();
    private Observer observer;

    /** Sees what every MoE layer computed in a forward pass (the specialization probe reads it). */
    public interface Observer {
        /** x [T, d] the router input; slotOutputs [T*k, d] unweighted expert outputs (null when unavailable). */
        void observe(int layer, Tensor x, Supplier<Tensor> slotOutputs, RoutingRecord routing);
    }

    /** Installs (or with null removes) the observer; returns the previous one. */
    public Observer setObserver(Observer o) {
        Observer prev = observer;
        observer = o;
        return prev;
    }

    /** Called by each MoE layer after its forward. */
    public void observe(int layer, Tensor x, Supplier<Tensor> slotOutputs, RoutingRecord routing) {
        if (observer != null) observer.observe(layer, x, slotOutputs, routing);
    }

    public ExpertLosses(ExpertLossConfig cfg) {
        this.cfg = cfg;
        this.orthCoef = cfg.orthCoef();
        this.varCoef = cfg.varCoef();
        this.resolved = !cfg.autoScale();
    }

    public ExpertLossConfig config() { return cfg; }

    /** Whether a training forward adds anything (both coefficients 0 = bit-exact old behaviour). */
    public boolean active() { return cfg.anyOn(); }

    /** beta in use (the target before auto-scaling has run). */
    public double orthCoef() { return orthCoef; }

    /** gamma in use. */
    public double varCoef() { return varCoef; }

    public boolean resolved() { return resolved; }

    /**
     * One layer's training term beta * L_o - gamma * L_v (scalar), or null when both are off.
     * slotOutputs supplies the unweighted expert outputs [T*k, d] (only called when L_o is on; it
     * may return null, e.g. for the composed reference experts, and then L_o is skipped);
     * kept [T*k]; probs [T, E].
     */
    public Tensor term(int layer, Supplier<Tensor> slotOutputs, int k, boolean[] kept, Tensor probs) {
        if (!active()) return null;
        Tensor ys = cfg.orthOn() ? slotOutputs.get() : null;
        Tensor lo = ys != null ? OrthogonalityLoss.loss(ys, k, kept, cfg.orthMode()) : null;
        Tensor lv = cfg.varOn() && probs != null ? VarianceLoss.variance(probs, cfg.varMode()) : null;
        double loValue = lo == null ? Double.NaN : lo.item(), lvValue = lv == null ? Double.NaN : lv.item();
        last.put(layer, new Values(layer, loValue, lvValue));
        if (!resolved) autoScale(loValue, lvValue);
        Tensor term = null;
        if (lo != null) term = Elementwise.mulScalar(lo, (float) orthCoef);
        if (lv != null) {
            Tensor v = Elementwise.mulScalar(lv, (float) -varCoef);
            term = term == null ? v : Elementwise.add(term, v);
        }
        return term;
    }

    private void autoScale(double lo, double lv) {
        if (cfg.orthOn()) orthCoef = powerOfTen(cfg.orthCoef(), lo);
        if (cfg.varOn()) varCoef = powerOfTen(cfg.varCoef(), lv);
        resolved = true;
        System.err.printf(java.util.Locale.ROOT,
                "expert_losses: auto-scale on the first batch chose orth_coef=%.0e (target %.0e, raw L_o %.4g), var_coef=%.0e (target %.0e, raw L_v %.4g)%n",
                orthCoef, cfg.orthCoef(), lo, varCoef, cfg.varCoef(), lv);
    }

    /** 10^round(log10(target / initial)); the target itself when the initial value is 0 or not finite. */
    static double powerOfTen(double target, double initial) {
        if (!(initial > 0) || !Double.isFinite(initial)) return target;
        return Math.pow(10, Math.round(Math.log10(target / initial)));
    }

    /** Raw per-layer values of the last training forward, in layer order. */
    public Map<Integer, Values> lastValues() { return java.util.Collections.unmodifiableMap(last); }

    /** "expert_losses.orth_coef" and "expert_losses.var_coef" once resolved; empty before. */
    public Map<String, float[]> state() {
        Map<String, float[]> m = new LinkedHashMap<>();
        if (cfg.autoScale() && resolved) {
            m.put(KEY_ORTH, new float[]{(float) orthCoef});
            m.put(KEY_VAR, new float[]{(float) varCoef});
        }
        return m;
    }

    /** Restores {@link #state()}; an empty map leaves the coefficients to be chosen on the next batch. */
    public void loadState(Map<String, float[]> state) {
        float[] o = state.get(KEY_ORTH), v = state.get(KEY_VAR);
        if (o == null && v == null) return;
        if (o == null || v == null || o.length != 1 || v.length != 1)
            throw new IllegalArgumentException("expert losses state needs one value each for " + KEY_ORTH + " and " + KEY_VAR + ", got " + state.keySet());
        if (!cfg.autoScale())
            return; // fixed coefficients come from the config
        orthCoef = o[0];
        varCoef = v[0];
        resolved = true;
    }
}
