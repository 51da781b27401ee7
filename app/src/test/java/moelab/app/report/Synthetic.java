package moelab.app.report;

import moelab.routing.RoutingRecord;
import moelab.train.EvalMetrics;
import moelab.train.StepMetrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Made-up training events with routing that drifts from skewed toward balanced, for report tests. */
public final class Synthetic {
    public static final List<String> DOMAINS = List.of("code", "prose", "math");
    static final int EXPERTS = 4, TOP_K = 2, TOKENS = 24;

    /** Routing records of MoE layers 1 and 3 at training progress p in [0, 1]. */
    static List<RoutingRecord> routing(Random rng, double p, boolean withProbs, boolean labeled, double dropShare) {
        List<RoutingRecord> out = new ArrayList<>();
        for (int layer : new int[]{1, 3}) {
            int[] selected = new int[TOKENS * TOP_K];
            boolean[] kept = new boolean[selected.length];
            float[] probs = withProbs ? new float[TOKENS * EXPERTS] : null;
            int[] domains = labeled ? new int[TOKENS] : null;
            for (int t = 0; t < TOKENS; t++) {
                int dom = t % DOMAINS.size();
                if (labeled) domains[t] = dom;
                int first = rng.nextDouble() < (1 - p) * 0.7 ? 0 : (dom + rng.nextInt(2)) % EXPERTS;   // expert 0 hogs early on
                int second = (first + 1 + rng.nextInt(EXPERTS - 1)) % EXPERTS;
                selected[t * TOP_K] = first;
                selected[t * TOP_K + 1] = second;
                kept[t * TOP_K] = true;
                kept[t * TOP_K + 1] = rng.nextDouble() >= dropShare;
                if (withProbs) for (int e = 0; e < EXPERTS; e++) probs[t * EXPERTS + e] = e == first ? 0.55f : e == second ? 0.25f : 0.1f;
            }
            out.add(new RoutingRecord(layer, TOKENS, EXPERTS, TOP_K, selected, kept, probs, domains));
        }
        return out;
    }

    public static StepMetrics step(Random rng, long step, long total) {
        double p = (double) step / total;
        double lm = 5.5 * Math.exp(-3 * p) + 1.2 + 0.05 * rng.nextGaussian();
        List<RoutingRecord> r = new ArrayList<>(routing(rng, p, true, true, 0.05));
        r.addAll(routing(rng, p, true, true, 0.05));                   // two micro-batches
        return new StepMetrics(step, lm + 0.01, lm, 0.01, 3e-3 * Math.min(1, step / 10.0), 1 + rng.nextDouble(),
                20000 + 1000 * rng.nextGaussian(), 0.05 * step, r);
    }

    public static EvalMetrics eval(Random rng, long step, long total) {
        double p = (double) step / total;
        Map<String, Double> per = new LinkedHashMap<>();
        for (int d = 0; d < DOMAINS.size(); d++) per.put(DOMAINS.get(d), 5.5 * Math.exp(-3 * p) + 1.0 + 0.3 * d);
        return new EvalMetrics(step, 5.5 * Math.exp(-3 * p) + 1.3, per, routing(rng, p, false, true, 0));
    }

    /** Feeds a whole synthetic run into a listener. */
    public static void run(moelab.train.TrainListener l, long steps, int evalEvery, long seed) {
        Random rng = new Random(seed);
        for (long s = 1; s <= steps; s++) {                              // steps done, as the trainer counts them
            l.onStep(step(rng, s, steps));
            if (s % evalEvery == 0 || s == steps) l.onEval(eval(rng, s, steps));
        }
    }
}
