package moelab.app.sweep;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import moelab.app.report.RunFolder;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;

/**
 * What defines a run, as flat "dotted key -> value" pairs: every key of the fully resolved
 * config, plus {@code data.fingerprint} (the data folder's content hash) and
 * {@code project.version}, and for a run that starts from another (init_from) {@code init_from.identity},
 * a digest of that run's identity. Two runs with equal identities train the same bits; a run folder
 * counts for a sweep only when its recorded identity equals the one the sweep would run now.
 * Kept in the run folder as identity.json (written before training) and inside done.json.
 */
public record RunIdentity(Map<String, String> keys) {
    public static final String FILE = "identity.json";
    static final String DATA_KEY = "data.fingerprint", VERSION_KEY = "project.version", INIT_FROM_KEY = "init_from.identity";

    /** One key whose value differs; a missing side is null. */
    public record Change(String key, String was, String now) {
        @Override public String toString() { return key + ": " + show(was) + " -> " + show(now); }
        private static String show(String v) { return v == null ? "(absent)" : v; }
    }

    /** The identity of a run of the plan as it would run now. */
    public static RunIdentity of(SweepPlan.Run run) { return of(run, new java.util.HashMap<>()); }

    /** The same, with data fingerprints shared through fingerprints (data.path -> fingerprint), computed once per folder. */
    public static RunIdentity of(SweepPlan.Run run, Map<String, String> fingerprints) {
        Map<String, String> k = new LinkedHashMap<>();
        flatten("", run.tree(), k);
        k.put(DATA_KEY, fingerprints.computeIfAbsent(run.config().data().path(), DataFingerprint::of));
        k.put(VERSION_KEY, version());
        return new RunIdentity(k);
    }

    /** This identity with one more key. */
    public RunIdentity with(String key, String value) {
        Map<String, String> k = new LinkedHashMap<>(keys);
        k.put(key, value);
        return new RunIdentity(k);
    }

    /** "sha256:&lt;hex&gt;" of the keys and values, in order. */
    public String digest() {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            keys.forEach((k, v) -> md.update((k + "\0" + v + "\0").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            return "sha256:" + java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The keys whose values differ between {@code was} (recorded) and this (now), in key order. A
     * config key absent from the recorded identity and at its default now is no change: a key the
     * engine gained after the run was recorded, whose default keeps the old behaviour.
     */
    public List<Change> changesFrom(RunIdentity was) {
        Set<String> all = new LinkedHashSet<>(keys.keySet());
        all.addAll(was.keys.keySet());
        List<Change> out = new ArrayList<>();
        for (String key : all) {
            String before = was.keys.get(key), now = keys.get(key);
            if (Objects.equals(before, now)) continue;
            if (before == null && now != null && now.equals(Defaults.KEYS.get(key))) continue;
            out.add(new Change(key, before, now));
        }
        return out;
    }

    /** A config key's bundled default as identities spell it, or null for a key that is not a config key. */
    static String defaultOf(String key) { return Defaults.KEYS.get(key); }

    /** Every config key at its bundled default, flattened as run identities flatten (read once). */
    private static final class Defaults {
        static final Map<String, String> KEYS = new LinkedHashMap<>();
        static {
            flatten("", moelab.app.config.ConfigLoader.toTree(moelab.app.config.ConfigLoader.bind(moelab.app.config.ConfigLoader.defaultsTree())), KEYS);
        }
    }

    public void write(Path dir) {
        try {
            RunFolder.writeAtomically(dir.resolve(FILE), RunResult.JSON.writeValueAsString(keys));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(FILE) + ": " + e.getMessage(), e);
        }
    }

    /** The identity recorded in a run folder's identity.json, or null when there is none (or it is unreadable). */
    public static RunIdentity read(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) return null;
        try {
            return new RunIdentity(RunResult.JSON.readValue(f.toFile(), new TypeReference<LinkedHashMap<String, String>>() {}));
        } catch (IOException e) {
            return null;
        }
    }

    /** The project version this build was made from (Maven's project.version). */
    public static String version() {
        try (InputStream in = RunIdentity.class.getResourceAsStream("/moelab/version.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void flatten(String prefix, JsonNode n, Map<String, String> out) {
        if (n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else {
            out.put(prefix, n.isValueNode() ? n.asText() : n.toString());
        }
    }
}
