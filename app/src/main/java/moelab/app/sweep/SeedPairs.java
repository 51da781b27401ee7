package moelab.app.sweep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Paired-seed differences between configuration pairs: the pairs a sweep file names under
 * {@code compare}, then every two configurations whose resolved configs differ in exactly one key
 * (seed aside), e.g. lbl-micro_batch and lbl-global in model.moe.balance.scope. For each seed both
 * ran, the difference b - a of a metric, which cancels what a seed does to both (data order, init);
 * reported as its mean with a 95% Student-t interval over those seeds, and as a multiple of the
 * seed-to-seed standard deviation of the two configurations themselves.
 */
final class SeedPairs {
    private SeedPairs() {}

    /** Metrics compared per pair, when the runs have them; then the per-layer normalised purity. */
    static final List<String> METRICS = List.of("val_loss", "purity_norm", "cond_nmi", "utilization");
    static final int MAX_LAYERS = 16;

    /** Keys that do not make two configurations differ: the run's name, its seed, and the digest of an init_from source (which follows the seed). */
    private static final Set<String> IGNORED = Set.of("run.name", "train.seed", RunIdentity.INIT_FROM_KEY);

    /**
     * One metric's paired difference b - a over n seeds.
     *
     * @param mean, std   of the per-seed differences (std NaN for one seed)
     * @param ciLow, ciHigh  mean ± t(0.975, n-1) · std / sqrt(n) (NaN for one seed)
     * @param seedStd     pooled seed std of the configurations, sqrt((sd_a² + sd_b²) / 2), over the same seeds
     */
    record Diff(int n, double mean, double std, double ciLow, double ciHigh, double seedStd) {
        /** |mean| in units of the seed std (NaN when that is 0 or undefined). */
        double inSeedStds() { return seedStd > 0 ? Math.abs(mean) / seedStd : Double.NaN; }

        /** "+0.0123 [+0.0050, +0.0196] 4.1 sd", shorter when an interval is undefined. */
        String text() {
            if (Double.isNaN(mean)) return "-";
            String m = String.format(Locale.ROOT, "%+.4f", mean);
            if (Double.isNaN(ciLow)) return m;
            String s = String.format(Locale.ROOT, "%s [%+.4f, %+.4f]", m, ciLow, ciHigh);
            return Double.isNaN(inSeedStds()) ? s : s + String.format(Locale.ROOT, " %.1f sd", inSeedStds());
        }
    }

    /**
     * @param differs what b changes from a: "key: va -> vb" per differing key (at most three, then a count)
     * @param named   the sweep file's compare list names this pair
     * @param diffs   metric -> difference, only metrics both configurations have
     */
    record Pair(String a, String b, String differs, boolean named, List<Long> seeds, Map<String, Diff> diffs) {}

    /** The metrics to compare: {@link #METRICS} and layerN.purity_norm, those present in any result. */
    static List<String> metrics(Map<String, List<RunResult>> byLabel) {
        List<String> want = new ArrayList<>(METRICS);
        for (int l = 0; l < MAX_LAYERS; l++) want.add("layer" + l + ".purity_norm");
        List<String> out = new ArrayList<>();
        for (String m : want)
            if (byLabel.values().stream().flatMap(List::stream).anyMatch(r -> r.values() != null && r.values().get(m) != null)) out.add(m);
        return out;
    }

    /** The named pairs (compare: [a, b] labels), then the one-key pairs not named; a before b in each. */
    static List<Pair> of(Map<String, List<RunResult>> byLabel, List<List<String>> compare) {
        List<String> metrics = metrics(byLabel);
        List<Pair> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (List<String> c : compare) {
            List<RunResult> a = byLabel.get(c.get(0)), b = byLabel.get(c.get(1));
            if (a == null || b == null) continue;                     // not run yet
            Pair p = pair(c.get(0), a, c.get(1), b, differences(a.getFirst().identity(), b.getFirst().identity()), true, metrics);
            if (p != null) out.add(p);
            seen.add(c.get(0) + "\0" + c.get(1));
            seen.add(c.get(1) + "\0" + c.get(0));
        }
        List<String> labels = new ArrayList<>(byLabel.keySet());
        for (int i = 0; i < labels.size(); i++)
            for (int j = i + 1; j < labels.size(); j++) {
                if (seen.contains(labels.get(i) + "\0" + labels.get(j))) continue;
                List<RunResult> a = byLabel.get(labels.get(i)), b = byLabel.get(labels.get(j));
                List<RunIdentity.Change> d = differences(a.getFirst().identity(), b.getFirst().identity());
                if (d == null || d.size() != 1) continue;
                Pair p = pair(labels.get(i), a, labels.get(j), b, d, false, metrics);
                if (p != null) out.add(p);
            }
        return out;
    }

    private static Pair pair(String la, List<RunResult> a, String lb, List<RunResult> b, List<RunIdentity.Change> changes,
                             boolean named, List<String> metrics) {
        Map<Long, RunResult> bySeed = new LinkedHashMap<>();
        for (RunResult r : b) bySeed.put(r.seed(), r);
        List<RunResult> as = new ArrayList<>(), bs = new ArrayList<>();
        for (RunResult ra : a) {
            RunResult rb = bySeed.get(ra.seed());
            if (rb != null) { as.add(ra); bs.add(rb); }
        }
        if (as.isEmpty()) return null;
        Map<String, Diff> diffs = new LinkedHashMap<>();
        for (String m : metrics) {
            double[] xa = as.stream().mapToDouble(r -> r.get(m)).toArray(), xb = bs.stream().mapToDouble(r -> r.get(m)).toArray();
            Diff d = diff(xa, xb);
            if (d != null) diffs.put(m, d);
        }
        return new Pair(la, lb, describe(changes), named, as.stream().map(RunResult::seed).toList(), diffs);
    }

    /** The paired difference xb - xa over the indices where both are finite; null when there is none. */
    static Diff diff(double[] xa, double[] xb) {
        List<double[]> both = new ArrayList<>();
        for (int i = 0; i < xa.length; i++) if (Double.isFinite(xa[i]) && Double.isFinite(xb[i])) both.add(new double[]{xa[i], xb[i]});
        if (both.isEmpty()) return null;
        int n = both.size();
        double[] d = both.stream().mapToDouble(p -> p[1] - p[0]).toArray();
        double mean = Stats.mean(d), std = Stats.std(d);
        double half = n < 2 ? Double.NaN : Stats.tQuantile975(n - 1) * std / Math.sqrt(n);
        double sa = Stats.std(both.stream().mapToDouble(p -> p[0]).toArray()), sb = Stats.std(both.stream().mapToDouble(p -> p[1]).toArray());
        double seedStd = n < 2 ? Double.NaN : Math.sqrt((sa * sa + sb * sb) / 2);
        return new Diff(n, mean, std, mean - half, mean + half, seedStd);
    }

    // every key whose value differs (ignored keys aside), or null when an identity is missing
    private static List<RunIdentity.Change> differences(Map<String, String> a, Map<String, String> b) {
        if (a == null || b == null) return null;
        Set<String> keys = new TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        List<RunIdentity.Change> out = new ArrayList<>();
        for (String k : keys) {
            String va = effective(a, k), vb = effective(b, k);
            if (!IGNORED.contains(k) && !Objects.equals(va, vb)) out.add(new RunIdentity.Change(k, va, vb));
        }
        return out;
    }

    /**
     * A key's value, or "(off)" for a setting of a feature switched off (x.alpha beside x.enabled = false): its value is not used.
     * A config key a run's identity lacks (the engine gained it after the run) reads as its bundled default, as for resuming.
     */
    static String effective(Map<String, String> keys, String key) {
        for (int dot = key.lastIndexOf('.'); dot > 0; dot = key.lastIndexOf('.', dot - 1)) {
            String flag = key.substring(0, dot) + ".enabled";
            if (!flag.equals(key) && "false".equals(keys.containsKey(flag) ? keys.get(flag) : RunIdentity.defaultOf(flag))) return "(off)";
        }
        return keys.containsKey(key) ? keys.get(key) : RunIdentity.defaultOf(key);
    }

    private static String describe(List<RunIdentity.Change> changes) {
        if (changes == null) return "?";
        if (changes.isEmpty()) return "nothing";
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < Math.min(3, changes.size()); i++) {
            RunIdentity.Change c = changes.get(i);
            parts.add(c.key() + ": " + c.was() + " -> " + c.now());
        }
        if (changes.size() > 3) parts.add("+" + (changes.size() - 3) + " more");
        return String.join("; ", parts);
    }

    /** pairs.csv: one line per pair and metric. */
    static String csv(List<Pair> pairs) {
        StringBuilder b = new StringBuilder("a,b,named,differs,metric,seeds,mean,std,ci_low,ci_high,seed_std\n");
        for (Pair p : pairs)
            p.diffs().forEach((m, d) -> b.append(p.a()).append(',').append(p.b()).append(',').append(p.named()).append(",\"")
                    .append(p.differs().replace("\"", "\"\"")).append("\",").append(m).append(',').append(d.n()).append(',')
                    .append(num(d.mean())).append(',').append(num(d.std())).append(',').append(num(d.ciLow())).append(',')
                    .append(num(d.ciHigh())).append(',').append(num(d.seedStd())).append('\n'));
        return b.toString();
    }

    private static String num(double x) { return Double.isNaN(x) ? "" : Double.toString(x); }
}
