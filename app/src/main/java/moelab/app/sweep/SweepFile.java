package moelab.app.sweep;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import moelab.app.config.YamlErrors;
import moelab.config.ConfigException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sweep file (YAML), as written:
 * <pre>
 * name: testbed                 # folder name under --out
 * config: testbed               # base run config: a file (relative to the sweep file or the working dir) or a bundled name
 * set: {train.steps: 300}       # overrides for every run (dotted keys)
 * seeds: [1, 2]                 # each configuration runs once per seed (sets train.seed)
 * reference: {model.moe.router: reference}   # runs whose config matches are marked as reference runs in the report
 * columns: [layer0.purity]      # extra eval scalars for the results table
 * compare: [[lbl-micro_batch, lbl-global]]   # configuration pairs whose paired-seed differences the report lists first
 * grid:                         # groups: cartesian product of the lists inside a group, union over groups
 *   - label: "{model.moe.balance.method}-{model.moe.balance.scope}"   # optional; default: the values joined by '-'
 *     init_from: "lbl-global"   # optional: start from that configuration's final weights (same seed), fresh optimizer
 *     model.moe.balance.method: [lbl, eb]
 *     model.moe.balance.scope: [micro_batch, global]
 * </pre>
 *
 * @param sets   common overrides, "key=value", in file order
 * @param groups the grid groups in file order
 */
public record SweepFile(String name, String config, List<String> sets, List<Long> seeds, List<Group> groups,
                        List<String> columns, Map<String, String> reference, List<List<String>> compare) {

    /**
     * One grid group.
     *
     * @param index    0-based position in the file (error messages say "grid group index+1")
     * @param label    label template ({dotted.key} = that key's value), or null
     * @param initFrom label template of the configuration whose final weights each run starts from, or null
     * @param values   dotted key -> values (as YAML scalars' text), in file order
     */
    public record Group(int index, String label, String initFrom, LinkedHashMap<String, List<String>> values) {}

    private static final Set<String> TOP = Set.of("name", "config", "set", "seeds", "grid", "columns", "reference", "compare");
    private static final YAMLMapper YAML = new YAMLMapper();

    /** Parses a sweep file; errors name the file and the key. */
    public static SweepFile parse(String source, String text) {
        JsonNode root;
        try {
            root = YAML.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source, YamlErrors.describe(e));
        }
        YamlErrors.refuseAliases(source, text);
        if (root == null || !root.isObject()) throw new ConfigException(source, "a sweep file is a mapping with name, config, seeds and grid");
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!TOP.contains(k)) throw new ConfigException(source + ": " + k, "unknown key; allowed: " + String.join(", ", List.of("name", "config", "set", "seeds", "grid", "columns", "reference", "compare")));
        }
        String name = text(root, "name", source, true);
        if (!name.matches("[A-Za-z0-9._-]+")) throw new ConfigException(source + ": name", "must be letters, digits, '.', '_' or '-' (it names a folder), got '" + name + "'");
        String config = text(root, "config", source, false);
        List<String> sets = new ArrayList<>();
        JsonNode set = root.get("set");
        if (set != null && !set.isNull()) {
            if (!set.isObject()) throw new ConfigException(source + ": set", "must be a mapping of dotted keys to values");
            set.fields().forEachRemaining(e -> sets.add(e.getKey() + "=" + scalar(e.getValue(), source + ": set." + e.getKey())));
        }
        List<Long> seeds = new ArrayList<>();
        JsonNode sd = root.get("seeds");
        if (sd == null || !sd.isArray() || sd.isEmpty()) throw new ConfigException(source + ": seeds", "must be a non-empty list of integers, e.g. [1, 2]");
        for (JsonNode s : sd) {
            if (!s.canConvertToLong() || !s.isIntegralNumber()) throw new ConfigException(source + ": seeds", "must be integers, got '" + s.asText() + "'");
            if (seeds.contains(s.asLong())) throw new ConfigException(source + ": seeds", "seed " + s.asLong() + " is listed twice");
            seeds.add(s.asLong());
        }
        List<String> columns = new ArrayList<>();
        JsonNode cols = root.get("columns");
        if (cols != null && !cols.isNull()) {
            if (!cols.isArray()) throw new ConfigException(source + ": columns", "must be a list of eval scalar names");
            for (JsonNode c : cols) columns.add(c.asText());
        }
        Map<String, String> reference = new LinkedHashMap<>();
        JsonNode ref = root.get("reference");
        if (ref != null && !ref.isNull()) {
            if (!ref.isObject()) throw new ConfigException(source + ": reference", "must be a mapping of dotted keys to values, e.g. {model.moe.router: reference}");
            ref.fields().forEachRemaining(e -> reference.put(e.getKey(), scalar(e.getValue(), source + ": reference." + e.getKey())));
        }
        List<List<String>> compare = new ArrayList<>();
        JsonNode cmp = root.get("compare");
        if (cmp != null && !cmp.isNull()) {
            if (!cmp.isArray()) throw new ConfigException(source + ": compare", "must be a list of [label a, label b] pairs");
            for (int i = 0; i < cmp.size(); i++) {
                JsonNode p = cmp.get(i);
                if (!p.isArray() || p.size() != 2 || !p.get(0).isValueNode() || !p.get(1).isValueNode())
                    throw new ConfigException(source + ": compare[" + i + "]", "must be a pair of configuration labels, e.g. [lbl-micro_batch, lbl-global]");
                if (p.get(0).asText().equals(p.get(1).asText()))
                    throw new ConfigException(source + ": compare[" + i + "]", "compares '" + p.get(0).asText() + "' with itself");
                compare.add(List.of(p.get(0).asText(), p.get(1).asText()));
            }
        }
        JsonNode grid = root.get("grid");
        if (grid == null || !grid.isArray() || grid.isEmpty()) throw new ConfigException(source + ": grid", "must be a non-empty list of groups (mappings of dotted key -> list of values)");
        List<Group> groups = new ArrayList<>();
        for (int g = 0; g < grid.size(); g++) {
            JsonNode gn = grid.get(g);
            String where = source + ": grid group " + (g + 1);
            if (!gn.isObject()) throw new ConfigException(where, "must be a mapping of dotted key -> list of values (plus optional label, init_from)");
            String label = null, initFrom = null;
            LinkedHashMap<String, List<String>> values = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = gn.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String k = e.getKey();
                if (k.equals("label")) label = scalar(e.getValue(), where + ": label");
                else if (k.equals("init_from")) initFrom = scalar(e.getValue(), where + ": init_from");
                else if (!k.contains(".")) throw new ConfigException(where + ": " + k, "unknown group key; a group holds dotted config keys (e.g. model.moe.top_k), label and init_from");
                else {
                    List<String> vs = new ArrayList<>();
                    if (e.getValue().isArray()) {
                        if (e.getValue().isEmpty()) throw new ConfigException(where + ": " + k, "has an empty list of values");
                        for (JsonNode v : e.getValue()) vs.add(scalar(v, where + ": " + k));
                    } else vs.add(scalar(e.getValue(), where + ": " + k));
                    values.put(k, vs);
                }
            }
            if (values.isEmpty() && label == null) throw new ConfigException(where, "has no keys: give at least one dotted key or a label");
            groups.add(new Group(g, label, initFrom, values));
        }
        return new SweepFile(name, config, List.copyOf(sets), List.copyOf(seeds), List.copyOf(groups), List.copyOf(columns), reference, List.copyOf(compare));
    }

    private static String text(JsonNode root, String key, String source, boolean required) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            if (required) throw new ConfigException(source + ": " + key, "is required");
            return null;
        }
        return scalar(n, source + ": " + key);
    }

    /** A scalar's text as --set takes it; lists and mappings as JSON (valid YAML flow). */
    private static String scalar(JsonNode n, String where) {
        if (n.isNull()) return "null";
        if (n.isValueNode()) return n.asText();
        if (n.isArray()) return n.toString();
        throw new ConfigException(where, "expected a value or a list of values, got a mapping");
    }
}
