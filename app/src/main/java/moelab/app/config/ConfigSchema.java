package moelab.app.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.FloatNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import moelab.config.ConfigException;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape of a config, read off the config records themselves: a record is a section whose
 * keys are the snake_case names of its components, in declaration order. Checks a parsed tree
 * against it (unknown, missing and mistyped keys, each error naming the key path), types
 * command-line overrides, and turns a config back into a tree for writing.
 */
final class ConfigSchema {
    private ConfigSchema() {}

    private static final PropertyNamingStrategies.NamingBase SNAKE =
            (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE;

    /** The YAML key of a record component: the same translation Jackson binds with. */
    static String key(RecordComponent c) { return SNAKE.translate(c.getName()); }

    /** key -> component, in declaration order. */
    static Map<String, RecordComponent> components(Class<?> record) {
        Map<String, RecordComponent> m = new LinkedHashMap<>();
        for (RecordComponent c : record.getRecordComponents()) m.put(key(c), c);
        return m;
    }

    static String join(String path, String key) { return path.isEmpty() ? key : path + "." + key; }

    // ---------------------------------------------------------------- checking a parsed tree

    /**
     * Checks node against type at path and returns it, with scalars written for a string key
     * (layers: 2) turned into text. Throws a ConfigException naming the first bad key.
     */
    static JsonNode check(JsonNode node, Type type, String path) {
        Class<?> raw = raw(type);
        if (node.isNull()) {
            if (raw.isPrimitive()) throw wrongType(path, type, node);
            return node;                                         // the record decides whether null is allowed
        }
        if (raw.isRecord()) {
            if (!node.isObject()) throw wrongType(path, type, node);
            ObjectNode obj = (ObjectNode) node;
            Map<String, RecordComponent> comps = components(raw);
            for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!comps.containsKey(k))
                    throw new ConfigException(join(path, k), "unknown key; allowed keys" + (path.isEmpty() ? "" : " in " + path)
                            + ": " + String.join(", ", comps.keySet()));
            }
            for (Map.Entry<String, RecordComponent> e : comps.entrySet()) {
                JsonNode child = obj.get(e.getKey());
                if (child == null)
                    throw new ConfigException(join(path, e.getKey()), "required key is missing (expected " + describe(e.getValue().getGenericType()) + ")");
                obj.set(e.getKey(), check(child, e.getValue().getGenericType(), join(path, e.getKey())));
            }
            return obj;
        }
        if (raw == int.class || raw == Integer.class) {
            if (!node.isIntegralNumber() || !node.canConvertToInt()) throw wrongType(path, type, node);
            return node;
        }
        if (raw == long.class || raw == Long.class) {
            if (!node.isIntegralNumber() || !node.canConvertToLong()) throw wrongType(path, type, node);
            return node;
        }
        if (raw == float.class || raw == Float.class || raw == double.class || raw == Double.class) {
            if (!node.isNumber()) throw wrongType(path, type, node);
            if (!Double.isFinite(node.doubleValue())) throw new ConfigException(path, "expected a finite number, got " + node.asText());
            return node;
        }
        if (raw == boolean.class || raw == Boolean.class) {
            if (!node.isBoolean()) throw wrongType(path, type, node);
            return node;
        }
        if (raw == String.class) {
            if (node.isTextual()) return node;
            if (node.isNumber() || node.isBoolean()) return TextNode.valueOf(node.asText());   // "layers: 2" means the text "2"
            throw wrongType(path, type, node);
        }
        if (raw.isEnum()) {
            if (!node.isTextual()) throw wrongType(path, type, node);
            ConfigException.oneOf(path, node.asText(), enumNames(raw));
            return node;
        }
        if (List.class.isAssignableFrom(raw)) {
            if (!node.isArray()) throw wrongType(path, type, node);
            Type elem = typeArg(type, 0);
            ArrayNode arr = (ArrayNode) node;
            for (int i = 0; i < arr.size(); i++) arr.set(i, check(arr.get(i), elem, path + "[" + i + "]"));
            return arr;
        }
        if (Map.class.isAssignableFrom(raw)) {
            if (!node.isObject()) throw wrongType(path, type, node);
            Type value = typeArg(type, 1);
            ObjectNode obj = (ObjectNode) node;
            for (String k : fieldNames(obj)) obj.set(k, check(obj.get(k), value, join(path, k)));
            return obj;
        }
        throw new IllegalStateException("config schema: unsupported type " + type.getTypeName() + " at " + path);
    }

    private static ConfigException wrongType(String path, Type type, JsonNode node) {
        return new ConfigException(path, "expected " + describe(type) + ", got " + show(node));
    }

    /** "an integer", "a number", "a section with keys ..." */
    static String describe(Type type) {
        Class<?> raw = raw(type);
        if (raw == int.class || raw == Integer.class || raw == long.class || raw == Long.class) return "an integer";
        if (raw == float.class || raw == Float.class || raw == double.class || raw == Double.class) return "a number";
        if (raw == boolean.class || raw == Boolean.class) return "true or false";
        if (raw == String.class) return "a string";
        if (raw.isEnum()) return "one of " + String.join(", ", enumNames(raw));
        if (raw.isRecord()) return "a section with keys " + String.join(", ", components(raw).keySet());
        if (List.class.isAssignableFrom(raw)) return "a list of " + plural(describe(typeArg(type, 0)));
        if (Map.class.isAssignableFrom(raw)) return "a section of name: " + describe(typeArg(type, 1));
        return type.getTypeName();
    }

    private static String plural(String d) { return d.replaceFirst("^an? ", "") + " values"; }

    private static String show(JsonNode n) {
        if (n.isTextual()) return "the string '" + n.asText() + "'";
        if (n.isObject()) return "a section";
        if (n.isArray()) return "a list";
        if (n.isNull()) return "null";
        return n.asText();
    }

    // ---------------------------------------------------------------- command-line overrides

    /** The declared type at a dotted path below root, e.g. "train.lr" -> float; unknown keys name the allowed ones. */
    static Type typeAt(Class<?> root, String dottedPath) {
        Type type = root;
        String path = "";
        for (String seg : dottedPath.split("\\.", -1)) {
            if (seg.isEmpty()) throw new ConfigException(dottedPath, "empty key segment in '" + dottedPath + "'");
            Class<?> raw = raw(type);
            if (raw.isRecord()) {
                RecordComponent c = components(raw).get(seg);
                if (c == null)
                    throw new ConfigException(join(path, seg), "unknown key; allowed keys" + (path.isEmpty() ? "" : " in " + path)
                            + ": " + String.join(", ", components(raw).keySet()));
                type = c.getGenericType();
            } else if (Map.class.isAssignableFrom(raw)) {
                type = typeArg(type, 1);
            } else {
                throw new ConfigException(path, "is " + describe(type) + ", it has no key '" + seg + "'");
            }
            path = join(path, seg);
        }
        return type;
    }

    /** Parses a command-line value as the type at path; list and section values are YAML flow text ([a, b]). */
    static JsonNode parseValue(String path, Type type, String text, java.util.function.Function<String, JsonNode> yaml) {
        Class<?> raw = raw(type);
        String s = text.trim();
        if (s.equals("null") || s.equals("~")) {
            if (raw.isPrimitive()) throw new ConfigException(path, "expected " + describe(type) + ", got null");
            return NullNode.getInstance();
        }
        try {
            if (raw == int.class || raw == Integer.class) return IntNode.valueOf(Integer.parseInt(s));
            if (raw == long.class || raw == Long.class) return LongNode.valueOf(Long.parseLong(s));
            if (raw == float.class || raw == Float.class || raw == double.class || raw == Double.class) {
                double v = Double.parseDouble(s);
                if (!Double.isFinite(v) || s.endsWith("f") || s.endsWith("d") || s.endsWith("F") || s.endsWith("D"))
                    throw new NumberFormatException(s);
                return DoubleNode.valueOf(v);
            }
        } catch (NumberFormatException e) {
            throw new ConfigException(path, "expected " + describe(type) + ", got '" + text + "'");
        }
        if (raw == boolean.class || raw == Boolean.class) {
            if (s.equals("true") || s.equals("false")) return BooleanNode.valueOf(s.equals("true"));
            throw new ConfigException(path, "expected true or false, got '" + text + "'");
        }
        if (raw == String.class) return TextNode.valueOf(text);
        if (raw.isEnum()) return TextNode.valueOf(ConfigException.oneOf(path, s, enumNames(raw)));
        if (raw.isRecord())
            throw new ConfigException(path, "is a section; set one of its keys (" + path + "."
                    + components(raw).keySet().iterator().next() + "=...), or null to drop it");
        return check(yaml.apply(text), type, path);                  // lists and maps: [a, b] / {k: v}
    }

    // ---------------------------------------------------------------- writing a config back

    /** A config value as a tree, keys in declaration order; floats stay floats (0.003, not 0.0030000000260770321). */
    static JsonNode toTree(Object value) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (value == null) return NullNode.getInstance();
        if (value instanceof Integer i) return IntNode.valueOf(i);
        if (value instanceof Long l) return LongNode.valueOf(l);
        if (value instanceof Float x) return FloatNode.valueOf(x);
        if (value instanceof Double x) return DoubleNode.valueOf(x);
        if (value instanceof Boolean b) return BooleanNode.valueOf(b);
        if (value instanceof String s) return TextNode.valueOf(s);
        if (value instanceof Enum<?> e) return TextNode.valueOf(e.toString());
        if (value instanceof List<?> list) {
            ArrayNode a = f.arrayNode();
            for (Object o : list) a.add(toTree(o));
            return a;
        }
        if (value instanceof Map<?, ?> map) {
            ObjectNode o = f.objectNode();
            for (Map.Entry<?, ?> e : map.entrySet()) o.set(String.valueOf(e.getKey()), toTree(e.getValue()));
            return o;
        }
        if (value.getClass().isRecord()) {
            ObjectNode o = f.objectNode();
            for (RecordComponent c : value.getClass().getRecordComponents()) {
                try {
                    o.set(key(c), toTree(c.getAccessor().invoke(value)));
                } catch (IllegalAccessException | InvocationTargetException e) {
                    throw new IllegalStateException("config schema: cannot read " + c.getName() + " of " + value.getClass().getSimpleName(), e);
                }
            }
            return o;
        }
        throw new IllegalStateException("config schema: cannot write a " + value.getClass().getName());
    }

    // ---------------------------------------------------------------- helpers

    static Class<?> raw(Type t) {
        if (t instanceof Class<?> c) return c;
        if (t instanceof ParameterizedType p) return (Class<?>) p.getRawType();
        throw new IllegalStateException("config schema: unsupported type " + t.getTypeName());
    }

    private static Type typeArg(Type t, int i) {
        if (t instanceof ParameterizedType p) return p.getActualTypeArguments()[i];
        throw new IllegalStateException("config schema: raw collection type " + t.getTypeName() + " needs a type argument");
    }

    /** An enum's YAML spellings: its constants' toString() (the constant name unless the enum says otherwise). */
    private static String[] enumNames(Class<?> e) {
        return Arrays.stream(e.getEnumConstants()).map(Object::toString).toArray(String[]::new);
    }

    static List<String> fieldNames(ObjectNode o) {
        List<String> names = new ArrayList<>();
        o.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
