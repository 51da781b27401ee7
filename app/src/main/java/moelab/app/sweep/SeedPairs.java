package moelab.app.sweep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Paired-seed differences between configuration pairs: two configurations form a pair when their
 * resolved configs differ in exactly one key (seed aside), e.g. lbl-micro_batch and lbl-global in
 * model.moe.balance.scope. For each seed both ran, the difference b - a of a metric; reported as
 * mean ± sample std over those seeds, which cancels what a seed does to both (data order, init).
 */
final class SeedPairs {
    private SeedPairs() {}

    /** Metrics compared per pair. */
    static final List<String> METRICS = List.of("val_loss", "purity_norm", "utilization");

    /** Keys that do not make two configurations differ: the run's name, its seed, and the digest of an init_from source (which follows the seed). */
    private static final Set<String> IGNORED = Set.of("run.name", "train.seed", RunIdentity.INIT_FROM_KEY);

    /**
     * @param key    the one config key in which b differs from a
     * @param seeds  the seeds both configurations ran
     * @param diffs  per metric, mean and sample std of b - a over the seeds (std NaN for one seed)
     */
    record Pair(String a, String b, String key, String aValue, String bValue, List<Long> seeds, Map<String, double[]> diffs) {}

    /** The pairs among the configurations (label -> its done runs, in report order); a before b in that order. */
    static List<Pair> of(Map<String, List<RunResult>> byLabel) {
        List<String> labels = new ArrayList<>(byLabel.keySet());
        List<Pair> out = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++)
            for (int j = i + 1; j < labels.size(); j++) {
                List<RunResult> a = byLabel.get(labels.get(i)), b = byLabel.get(labels.get(j));
                String key = onlyDifference(a.getFirst().identity(), b.getFirst().identity());
                if (key == null) continue;
                Map<Long, RunResult> bySeed = new LinkedHashMap<>();
                for (RunResult r : b) bySeed.put(r.seed(), r);
                List<Long> seeds = new ArrayList<>();
                Map<String, List<Double>> d = new LinkedHashMap<>();
                for (RunResult ra : a) {
                    RunResult rb = bySeed.get(ra.seed());
                    if (rb == null) continue;
                    seeds.add(ra.seed());
                    for (String m : METRICS) d.computeIfAbsent(m, k -> new ArrayList<>()).add(rb.get(m) - ra.get(m));
                }
                if (seeds.isEmpty()) continue;
                Map<String, double[]> stats = new LinkedHashMap<>();
                d.forEach((m, v) -> {
                    double[] x = v.stream().mapToDouble(Double::doubleValue).toArray();
                    stats.put(m, new double[]{Stats.mean(x), Stats.std(x)});
                });
                out.add(new Pair(labels.get(i), labels.get(j), key, a.getFirst().identity().get(key), b.getFirst().identity().get(key),
                        List.copyOf(seeds), stats));
            }
        return out;
    }

    // the single key whose value differs, or null when none, several, or an identity is missing
    private static String onlyDifference(Map<String, String> a, Map<String, String> b) {
        if (a == null || b == null) return null;
        Set<String> keys = new TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        String found = null;
        for (String k : keys) {
            if (IGNORED.contains(k) || Objects.equals(a.get(k), b.get(k))) continue;
            if (found != null) return null;
            found = k;
        }
        return found;
    }
}
