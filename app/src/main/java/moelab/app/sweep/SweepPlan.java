package moelab.app.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import moelab.app.config.ConfigLoader;
import moelab.app.config.RunConfig;
import moelab.config.ConfigException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A sweep file expanded into its runs, each with a checked config: configurations = the union over
 * grid groups of the cartesian product of each group's value lists (first key varies slowest),
 * times the seeds. Runs are ordered so that a run comes after the run it starts from (init_from).
 *
 * @param root the sweep's folder: {@code <out>/<name>}
 */
public record SweepPlan(SweepFile file, Path root, List<Run> runs) {

    /**
     * One run.
     *
     * @param id        folder name: label + "-s" + seed
     * @param label     configuration label (the same for every seed)
     * @param group     0-based grid group
     * @param seed      train.seed
     * @param overrides the group's "key=value" assignments (without the common set, seed, name and init_from)
     * @param initFrom  id of the run whose final weights this one starts from, or null
     * @param config    the resolved config
     * @param tree      the resolved config as a tree (for reference matching)
     */
    public record Run(String id, String label, int group, long seed, List<String> overrides, String initFrom,
                      RunConfig config, JsonNode tree) {
        /** The run folder. */
        public Path dir(Path root) { return root.resolve("runs").resolve(id); }
    }

    private static final Pattern VAR = Pattern.compile("\\{([^{}]+)}");

    /**
     * Expands and validates everything before anything runs; all problems are reported together,
     * each naming the group, key and value.
     *
     * @param baseDir    folder of the sweep file (a relative config path is looked up there first), or null
     * @param extraSets  command-line overrides applied after the file's set
     * @param out        the folder that holds sweeps (the sweep goes to out/name)
     */
    public static SweepPlan expand(SweepFile f, Path baseDir, List<String> extraSets, Path out) {
        Path root = out.resolve(f.name());
        List<String> errors = new ArrayList<>();
        ObjectNode base = ConfigLoader.defaultsTree();
        if (f.config() != null) {
            Path p = baseDir == null ? null : baseDir.resolve(f.config());
            ConfigLoader.Source src = p != null && Files.isRegularFile(p) ? ConfigLoader.source(p.toString()) : ConfigLoader.source(f.config());
            base = ConfigLoader.merge(base, ConfigLoader.readTree(src));
        }
        List<String> common = new ArrayList<>(f.sets());
        common.addAll(extraSets);
        for (String s : common) {
            try {
                ConfigLoader.applyOverride(base.deepCopy(), s);
            } catch (ConfigException e) {
                errors.add("set " + s + ": " + e.getMessage());
            }
        }

        // configurations: label -> (group, overrides, init_from label)
        record Conf(String label, int group, List<String> overrides, String initFrom) {}
        List<Conf> confs = new ArrayList<>();
        Map<String, Integer> labelGroup = new HashMap<>();
        for (SweepFile.Group g : f.groups()) {
            String where = "grid group " + (g.index() + 1);
            for (Map.Entry<String, List<String>> e : g.values().entrySet())
                for (String v : e.getValue()) {
                    try {
                        ConfigLoader.applyOverride(base.deepCopy(), e.getKey() + "=" + v);
                    } catch (ConfigException ex) {
                        errors.add(where + ": " + e.getKey() + "=" + v + ": " + ex.getMessage());
                    }
                }
            for (Map<String, String> combo : product(g.values())) {
                String label = g.label() != null ? fill(g.label(), combo, where + ": label") : String.join("-", combo.values());
                label = label.replaceAll("[^A-Za-z0-9._-]", "_");
                if (label.isEmpty()) label = "g" + (g.index() + 1);
                Integer had = labelGroup.putIfAbsent(label, g.index());
                if (had != null) {
                    errors.add(where + ": label '" + label + "' is also made by grid group " + (had + 1) + " (give the groups distinct label templates)");
                    continue;
                }
                List<String> ov = new ArrayList<>();
                combo.forEach((k, v) -> ov.add(k + "=" + v));
                String init = g.initFrom() == null ? null : fill(g.initFrom(), combo, where + ": init_from");
                confs.add(new Conf(label, g.index(), ov, init));
            }
        }
        for (Conf c : confs)
            if (c.initFrom() != null && !labelGroup.containsKey(c.initFrom()))
                errors.add("grid group " + (c.group() + 1) + ": init_from '" + c.initFrom() + "' (for " + c.label()
                        + ") is not a configuration label of this sweep; labels: " + String.join(", ", labelGroup.keySet()));

        for (int i = 0; i < f.compare().size(); i++)
            for (String label : f.compare().get(i))
                if (!labelGroup.containsKey(label))
                    errors.add("compare[" + i + "]: '" + label + "' is not a configuration label of this sweep; labels: " + String.join(", ", labelGroup.keySet()));

        // order: a configuration after the one it starts from (bad init_from labels are reported above)
        List<Conf> ordered = new ArrayList<>();
        Set<String> placed = new HashSet<>();
        while (ordered.size() < confs.size()) {
            boolean progress = false;
            for (Conf c : confs)
                if (!placed.contains(c.label()) && (c.initFrom() == null || placed.contains(c.initFrom()) || !labelGroup.containsKey(c.initFrom()))) {
                    ordered.add(c);
                    placed.add(c.label());
                    progress = true;
                }
            if (!progress) {
                List<String> stuck = confs.stream().filter(c -> !placed.contains(c.label())).map(c -> c.label() + " <- " + c.initFrom()).toList();
                errors.add("init_from forms a cycle: " + String.join(", ", stuck));
                confs.stream().filter(c -> !placed.contains(c.label())).forEach(ordered::add);
                break;
            }
        }

        // every run's whole config, checked by the config records (cross-key rules); one message per configuration
        List<Run> runs = new ArrayList<>();
        for (Conf c : ordered)
            for (long seed : f.seeds()) {
                String id = c.label() + "-s" + seed;
                List<String> all = new ArrayList<>(common);
                all.addAll(c.overrides());
                all.add("train.seed=" + seed);
                all.add("run.name=" + id);
                String initId = c.initFrom() == null ? null : c.initFrom() + "-s" + seed;
                if (initId != null) all.add("run.init_from=" + root.resolve("runs").resolve(initId));
                try {
                    ObjectNode tree = base.deepCopy();
                    for (String s : all) ConfigLoader.applyOverride(tree, s);
                    RunConfig cfg = ConfigLoader.bind(tree);
                    runs.add(new Run(id, c.label(), c.group(), seed, c.overrides(), initId, cfg, ConfigLoader.toTree(cfg)));
                } catch (ConfigException e) {
                    errors.add("grid group " + (c.group() + 1) + ", configuration " + c.label() + " ("
                            + String.join(", ", c.overrides()) + "): " + e.getMessage());
                    break;
                }
            }
        if (!errors.isEmpty())
            throw new ConfigException("sweep " + f.name(), errors.size() + " problem(s), nothing was run:\n  " + String.join("\n  ", errors));
        return new SweepPlan(f, root, List.copyOf(runs));
    }

    /** Whether a run's config matches the sweep file's reference matcher (never, without one). */
    public boolean isReference(Run r) {
        if (file.reference().isEmpty()) return false;
        for (Map.Entry<String, String> e : file.reference().entrySet()) {
            JsonNode n = r.tree().at("/" + e.getKey().replace('.', '/'));
            if (n.isMissingNode() || !n.asText().equals(e.getValue())) return false;
        }
        return true;
    }

    /** The configuration labels in run order. */
    public List<String> labels() { return runs.stream().map(Run::label).distinct().toList(); }

    /** Cartesian product of the value lists, first key varying slowest. */
    static List<Map<String, String>> product(LinkedHashMap<String, List<String>> values) {
        List<Map<String, String>> out = new ArrayList<>();
        out.add(new LinkedHashMap<>());
        for (Map.Entry<String, List<String>> e : values.entrySet()) {
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> partial : out)
                for (String v : e.getValue()) {
                    Map<String, String> m = new LinkedHashMap<>(partial);
                    m.put(e.getKey(), v);
                    next.add(m);
                }
            out = next;
        }
        return out;
    }

    private static String fill(String template, Map<String, String> combo, String where) {
        Matcher m = VAR.matcher(template);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String v = combo.get(m.group(1));
            if (v == null) throw new ConfigException(where, "'{" + m.group(1) + "}' is not a key of this group; keys: " + String.join(", ", combo.keySet()));
            m.appendReplacement(b, Matcher.quoteReplacement(v));
        }
        m.appendTail(b);
        return b.toString();
    }
}
