package moelab.app.data;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The data mixes: for each domain, the Debian packages and what is taken from them. Package
 * names were checked on Debian 12 (bookworm) with {@code apt-cache policy}. Not available there:
 * debian-reference-ru, fortunes-fr, fortunes-ja (so fr and ja have no fortunes, ru no Debian Reference).
 */
public final class Mixes {
    /** What a source yields. */
    public enum Kind {
        /** debian-reference plain text, one document per section, parallel across languages. */
        DEBREF,
        /** man pages rendered to text, one document per page. */
        MAN,
        /** fortune files, chunks of entries. */
        FORTUNE,
        /** man pages as roff source (markup domain), one document per page. */
        ROFF_SOURCE,
        /** .java files from a JDK src.zip, one per file, licence header removed. */
        JAVA_SRCZIP,
        /** .py files, one per file. */
        PYTHON,
        /** HTML / reStructuredText files, one per file. */
        MARKUP
    }

    /**
     * One source: package, kind, and {@code path}: the file or folder inside the package
     * (relative to its root). {@code exclude}: path substrings to skip.
     */
    public record Source(String pkg, Kind kind, String path, List<String> exclude) {
        public Source(String pkg, Kind kind, String path) { this(pkg, kind, path, List.of()); }
    }

    public static final List<String> NAMES = List.of("lang8", "hetero");

    private Mixes() {}

    public static Map<String, List<Source>> get(String name) {
        return switch (name) {
            case "lang8" -> lang8();
            case "hetero" -> hetero();
            default -> throw new IllegalArgumentException("unknown mix '" + name + "'; known: " + NAMES);
        };
    }

    private static Source debref(String code) {
        return new Source("debian-reference-" + code, Kind.DEBREF, "usr/share/debian-reference/debian-reference." + code + ".txt.gz");
    }

    private static final List<String> NO_OFFENSIVE = List.of("/off/");

    /** The testbed's 8-language mix (testbed.md section 1). */
    static Map<String, List<Source>> lang8() {
        Map<String, List<Source>> m = new LinkedHashMap<>();
        m.put("en", List.of(debref("en"),
                new Source("manpages", Kind.MAN, "usr/share/man"),
                new Source("fortunes-min", Kind.FORTUNE, "usr/share/games/fortunes"),
                new Source("fortunes", Kind.FORTUNE, "usr/share/games/fortunes")));
        m.put("de", List.of(debref("de"),
                new Source("manpages-de", Kind.MAN, "usr/share/man/de"),
                new Source("fortunes-de", Kind.FORTUNE, "usr/share/games/fortunes/de")));
        m.put("fr", List.of(debref("fr"),
                new Source("manpages-fr", Kind.MAN, "usr/share/man/fr")));
        m.put("es", List.of(debref("es"),
                new Source("manpages-es", Kind.MAN, "usr/share/man/es"),
                new Source("fortunes-es", Kind.FORTUNE, "usr/share/games/fortunes/es", NO_OFFENSIVE)));
        m.put("it", List.of(debref("it"),
                new Source("manpages-it", Kind.MAN, "usr/share/man/it"),
                new Source("fortunes-it", Kind.FORTUNE, "usr/share/games/fortunes/it")));
        m.put("ja", List.of(debref("ja"),
                new Source("manpages-ja", Kind.MAN, "usr/share/man/ja")));
        m.put("zh", List.of(debref("zh-cn"),
                new Source("manpages-zh", Kind.MAN, "usr/share/man/zh_CN"),
                new Source("fortunes-zh", Kind.FORTUNE, "usr/share/games/fortunes")));
        m.put("ru", List.of(
                new Source("manpages-ru", Kind.MAN, "usr/share/man/ru"),
                new Source("fortunes-ru", Kind.FORTUNE, "usr/share/games/fortunes/ru")));
        return m;
    }

    /** A heterogeneous mix for robustness checks: code, markup, prose (testbed.md section 1, secondary mix). */
    static Map<String, List<Source>> hetero() {
        Map<String, List<Source>> m = new LinkedHashMap<>();
        m.put("java", List.of(new Source("openjdk-17-source", Kind.JAVA_SRCZIP, "usr/lib/jvm/openjdk-17/lib/src.zip")));
        m.put("python", List.of(new Source("libpython3.11-stdlib", Kind.PYTHON, "usr/lib/python3.11",
                List.of("/test/", "/tests/", "/idle_test/"))));
        m.put("markup", List.of(new Source("developers-reference", Kind.MARKUP, "usr/share/developers-reference",
                List.of("developers-reference.html", "/_static/", "genindex.html", "search.html"))));
        m.put("roff", List.of(new Source("manpages", Kind.ROFF_SOURCE, "usr/share/man")));
        m.put("en", List.of(debref("en"),
                new Source("fortunes-min", Kind.FORTUNE, "usr/share/games/fortunes"),
                new Source("fortunes", Kind.FORTUNE, "usr/share/games/fortunes")));
        m.put("de", List.of(new Source("manpages-de", Kind.MAN, "usr/share/man/de")));
        m.put("ja", List.of(new Source("manpages-ja", Kind.MAN, "usr/share/man/ja")));
        m.put("ru", List.of(new Source("fortunes-ru", Kind.FORTUNE, "usr/share/games/fortunes/ru")));
        return m;
    }
}
