package moelab.app.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import moelab.config.ConfigException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Reads run configs: the bundled default ({@code configs/default.yaml}), then a YAML or JSON
 * file that overrides it key by key, then {@code --set key.path=value} overrides typed by the
 * field they name. The merged tree is checked against the config records (unknown, missing
 * and mistyped keys are errors naming the key path) and bound by Jackson through the records'
 * canonical constructors, whose own checks name the key too.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    /** Bundled configs, loadable by name: {@code --config bench-small}. */
    /** The bundled config names (configs/NAME.yaml), as help text lists them. */
    public static final String BUNDLED_NAMES = "default, bench-small, testbed, study";
    public static final List<String> BUNDLED = List.of(BUNDLED_NAMES.split(", "));

    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .build();
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    /** Binds a checked tree: snake_case keys, no scalar coercion (the schema check already typed everything). */
    private static final ObjectMapper BINDER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.READ_ENUMS_USING_TO_STRING)   // an enum's toString() is its YAML spelling
            .build();

    /** A config text and where it came from (file path or "bundled:NAME"). */
    public record Source(String name, String text, boolean json) {}

    // ---------------------------------------------------------------- the whole pipeline

    /** Default config, overridden by source (null = defaults only), then by overrides "a.b=v". */
    public static RunConfig load(Source source, List<String> overrides) {
        ObjectNode tree = defaultsTree();
        if (source != null) tree = merge(tree, readTree(source));
        for (String o : overrides) applyOverride(tree, o);
        return bind(tree);
    }

    /** A run folder's config.yaml (a full resolved config; keys added since it was written come from the defaults). */
    public static RunConfig fromYaml(String text) { return load(new Source("config.yaml", text, false), List.of()); }

    /**
     * Finds a config argument: an existing file, else a bundled config of that name
     * ({@code bench-small}, {@code configs/bench-small.yaml}).
     */
    public static Source source(String arg) {
        Path p = Path.of(arg);
        if (Files.isRegularFile(p)) {
            try {
                return new Source(arg, Files.readString(p), arg.toLowerCase().endsWith(".json"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read config file " + arg + ": " + e.getMessage(), e);
            }
        }
        String name = p.getFileName() == null ? arg : p.getFileName().toString().replaceFirst("\\.(yaml|yml)$", "");
        if (BUNDLED.contains(name)) return new Source("bundled:" + name, resource("/configs/" + name + ".yaml"), false);
        throw new ConfigException("--config", "no file '" + arg + "' (bundled configs: " + String.join(", ", BUNDLED) + ")");
    }

    // ---------------------------------------------------------------- the steps

    public static ObjectNode defaultsTree() {
        return readTree(new Source("bundled:default", resource("/configs/default.yaml"), false));
    }

    /** Parses YAML or JSON into a section tree; syntax errors name the source, line and column. */
    public static ObjectNode readTree(Source src) {
        JsonNode n;
        try {
            n = (src.json() ? JSON : YAML).readTree(src.text());
        } catch (JsonProcessingException e) {
            throw new ConfigException(src.name(), src.json() ? "not valid JSON" + at(e) + ": " + e.getOriginalMessage() : YamlErrors.describe(e));
        }
        if (!src.json()) YamlErrors.refuseAliases(src.name(), src.text());
        if (n == null || n.isMissingNode() || n.isNull()) return JsonNodeFactory.instance.objectNode();   // empty file
        if (!n.isObject()) throw new ConfigException(src.name(), "the top level must be a mapping of sections (model, train, data, run)");
        return (ObjectNode) n;
    }

    /** base with over laid on top: sections merge key by key, anything else (values, lists, null) replaces. */
    public static ObjectNode merge(ObjectNode base, JsonNode over) {
        ObjectNode out = base.deepCopy();
        for (String k : ConfigSchema.fieldNames((ObjectNode) over)) {
            JsonNode o = over.get(k), b = out.get(k);
            if (o.isObject() && b != null && b.isObject()) out.set(k, merge((ObjectNode) b, o));
            else out.set(k, o.deepCopy());
        }
        return out;
    }

    /** Applies "model.moe.top_k=2": the key must exist in the config records, the value must parse as its type. */
    public static void applyOverride(ObjectNode root, String assignment) {
        int eq = assignment.indexOf('=');
        if (eq <= 0) throw new ConfigException("--set", "expected KEY=VALUE (e.g. train.lr=1e-3), got '" + assignment + "'");
        String path = assignment.substring(0, eq).trim(), text = assignment.substring(eq + 1);
        Type type = ConfigSchema.typeAt(RunConfig.class, path);
        JsonNode value = ConfigSchema.parseValue(path, type, text, ConfigLoader::parseYamlValue);
        String[] segs = path.split("\\.");
        ObjectNode node = root;
        for (int i = 0; i < segs.length - 1; i++) {
            JsonNode child = node.get(segs[i]);
            if (child == null || child.isNull()) {                       // e.g. model.moe: null, then --set model.moe.top_k=2:
                JsonNode d = defaultsTree().at("/" + String.join("/", List.of(segs).subList(0, i + 1)));
                child = d.isObject() ? d.deepCopy() : JsonNodeFactory.instance.objectNode();   // the section comes back with its defaults
                node.set(segs[i], child);
            }
            if (!child.isObject())
                throw new ConfigException(String.join(".", List.of(segs).subList(0, i + 1)), "is not a section in this config");
            node = (ObjectNode) child;
        }
        node.set(segs[segs.length - 1], value);
    }

    /** Checks a merged tree against the records and builds the config. */
    public static RunConfig bind(ObjectNode tree) {
        ObjectNode checked = (ObjectNode) ConfigSchema.check(tree.deepCopy(), RunConfig.class, "");
        try {
            return BINDER.treeToValue(checked, RunConfig.class);
        } catch (JsonProcessingException e) {
            for (Throwable c = e; c != null; c = c.getCause())
                if (c instanceof ConfigException ce) throw ce;           // a record's own check, already keyed
            String path = e instanceof JsonMappingException m
                    ? m.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                        .collect(Collectors.joining(".")).replace(".[", "[")
                    : "";
            throw new ConfigException(path.isEmpty() ? "config" : path, e.getOriginalMessage());
        }
    }

    /** The config as YAML, keys in record order: what goes into the run folder and into checkpoints. */
    public static String toYaml(RunConfig cfg) {
        try {
            return YAML.writeValueAsString(ConfigSchema.toTree(cfg));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write config as YAML", e);
        }
    }

    /** The config as a tree (keys as in YAML), e.g. to look a key up by its dotted path. */
    public static JsonNode toTree(RunConfig cfg) { return ConfigSchema.toTree(cfg); }

    // ---------------------------------------------------------------- helpers

    private static String at(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    }

    private static JsonNode parseYamlValue(String text) {
        try {
            JsonNode n = YAML.readTree(text);
            return n == null || n.isMissingNode() ? JsonNodeFactory.instance.nullNode() : n;
        } catch (JsonProcessingException e) {
            throw new ConfigException("--set", "value '" + text + "' is not valid YAML: " + e.getOriginalMessage());
        }
    }

    static String resource(String name) {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("bundled resource " + name + " is missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
