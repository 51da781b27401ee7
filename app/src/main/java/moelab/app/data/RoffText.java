package moelab.app.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Man pages (roff with the man macros) to plain text: {@link #groff} renders with GNU groff
 * (the faithful way); {@link #strip} is a small macro stripper for machines without groff. Both
 * results still go through {@link TextCleaner#prose}.
 */
public final class RoffText {
    /** groff: UTF-8 terminal output, man macros, tbl, input encoding detection (-k), no hyphenation, no SGR/bold/underline codes. */
    public static final List<String> GROFF_ARGS = List.of("groff", "-Tutf8", "-man", "-t", "-k", "-rHY=0", "-P-cbou");

    private RoffText() {}

    /** True when a page is only a redirection to another page (".so man1/foo.1"). */
    public static boolean isRedirect(String roff) {
        for (String line : roff.split("\n")) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith(".\\\"") || t.startsWith("'\\\"")) continue;
            return t.startsWith(".so ");
        }
        return false;
    }

    /**
     * Renders one page with groff, as groff prints it (running header and footer included; see
     * {@link #dropHeaderFooter}). {@code name} is only used in error messages.
     */
    public static String groff(byte[] roff, String name) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(GROFF_ARGS);
        pb.environment().put("LC_ALL", "C.UTF-8");
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        // feed stdin from another thread so a large page cannot dead-lock on a full pipe
        Thread feeder = Thread.ofVirtual().start(() -> {
            try (OutputStream os = p.getOutputStream()) { os.write(roff); } catch (IOException ignored) { /* groff exited early: reported below */ }
        });
        byte[] out;
        try (InputStream is = p.getInputStream()) { out = is.readAllBytes(); }
        try {
            int rc = p.waitFor();
            feeder.join();
            if (rc != 0) throw new IOException("groff failed (exit " + rc + ") on man page " + name);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while rendering " + name, e);
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    /** A running header: "TITLE(SECTION)   centre text   TITLE(SECTION)"; the title may contain spaces. */
    private static final Pattern HEADER = Pattern.compile("^\\s*(\\S.*?\\(\\w+\\))\\s+(?:.*\\S\\s+)?\\1\\s*$");

    /** Removes the first and last non-blank lines when they are the man running header/footer ("LS(1) ... LS(1)"). */
    public static String dropHeaderFooter(String text) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        int first = 0;
        while (first < lines.size() && lines.get(first).isBlank()) first++;
        if (first == lines.size()) return "";
        Matcher m = HEADER.matcher(lines.get(first));
        if (m.matches()) {
            String title = m.group(1);
            lines.set(first, "");
            int last = lines.size() - 1;
            while (last > first && lines.get(last).isBlank()) last--;
            String foot = lines.get(last).strip();
            if (foot.endsWith(title) && foot.length() > title.length()) lines.set(last, "");
        }
        return String.join("\n", lines);
    }

    // ---- fallback: a small roff stripper -------------------------------------------------------

    private static final Map<String, String> NAMED = Map.ofEntries(
            Map.entry("em", "\u2014"), Map.entry("en", "\u2013"), Map.entry("hy", "-"), Map.entry("mi", "-"),
            Map.entry("aq", "'"), Map.entry("dq", "\""), Map.entry("lq", "\u201C"), Map.entry("rq", "\u201D"),
            Map.entry("oq", "\u2018"), Map.entry("cq", "\u2019"), Map.entry("bu", "\u2022"), Map.entry("co", "\u00A9"),
            Map.entry("rg", "\u00AE"), Map.entry("tm", "\u2122"), Map.entry("de", "\u00B0"), Map.entry("ti", "~"),
            Map.entry("ha", "^"), Map.entry("rs", "\\"), Map.entry("ga", "`"), Map.entry("pl", "+"),
            Map.entry("mu", "\u00D7"), Map.entry("Fo", "\u00AB"), Map.entry("Fc", "\u00BB"), Map.entry("fo", "\u2039"),
            Map.entry("fc", "\u203A"), Map.entry("->", "\u2192"), Map.entry("<-", "\u2190"), Map.entry("<=", "\u2264"),
            Map.entry(">=", "\u2265"), Map.entry("sq", "\u25A1"), Map.entry("ba", "|"), Map.entry("br", "|"),
            Map.entry("lh", "\u261C"), Map.entry("rh", "\u261E"), Map.entry("Do", "$"), Map.entry("at", "@"),
            Map.entry("sh", "#"), Map.entry("sl", "/"), Map.entry("eq", "="), Map.entry("ul", "_"));
    /** \f font, \s size, \m colour, \*( and \*[ strings, \( \[ named glyphs, and the one-character escapes. */
    private static final Pattern ESCAPE = Pattern.compile(
            "\\\\(?:f(?:\\[[^\\]]*\\]|\\(..|.)|s[+-]?(?:\\[[^\\]]*\\]|\\(..|'[^']*'|\\d+)|m(?:\\[[^\\]]*\\]|\\(..|.)"
            + "|\\*(?:\\[([^\\]]*)\\]|\\((..)|(.))|\\[([^\\]]*)\\]|\\((..)|[hvwlLoxXbDNZ]'[^']*'|k.|(.))");
    private static final Pattern MACRO = Pattern.compile("^[.'][ \\t]*([A-Za-z]{1,3}|\\\\\")(?:[ \\t]+(.*))?$");

    /**
     * Strips roff markup from a man page: requests become line breaks or are dropped, font
     * macros keep their words, escapes become their characters. Not a typesetter: tables come out
     * as their cell text and conditional requests are dropped.
     */
    public static String strip(String roff) {
        StringBuilder out = new StringBuilder();
        boolean inDefinition = false;
        for (String line : roff.replace("\r", "").split("\n")) {
            if (inDefinition) { if (line.startsWith("..")) inDefinition = false; continue; }
            if (line.startsWith(".") || line.startsWith("'")) {
                Matcher m = MACRO.matcher(line);
                if (!m.matches()) continue;                // .if/.ie/.nr with odd syntax etc.: drop
                String req = m.group(1), args = m.group(2) == null ? "" : m.group(2);
                switch (req) {
                    case "\\\"", "TH", "nr", "ds", "so", "ft", "ps", "ne", "in", "ti", "ll", "hy", "nh", "ad", "na",
                         "fi", "nf", "ie", "if", "el", "ig", "tr", "UC", "PD", "RS", "RE", "ns", "rs", "EE", "EX",
                         "TS", "TE", "T&", "ce", "cs", "ss", "ta", "rm", "ev", "bp", "pc", "mso", "lf", "tm", "ec",
                         "eo", "cc", "do", "als", "ME", "UE", "YS", "OP", "MT", "UR", "SY", "DT", "HP", "in\\", "ul", "cu" -> {
                        if (req.equals("SY") || req.equals("OP")) out.append(unescape(words(args))).append(' ');
                    }
                    case "de", "am" -> inDefinition = true;
                    case "SH", "SS" -> out.append("\n\n").append(unescape(words(args))).append("\n\n");
                    case "PP", "LP", "P", "sp" -> out.append("\n\n");
                    case "br" -> out.append('\n');
                    case "TP" -> out.append("\n\n");
                    case "IP" -> out.append("\n\n").append(unescape(firstWord(args))).append('\n');
                    case "B", "I", "SM", "SB" -> out.append(unescape(words(args))).append('\n');
                    case "BR", "RB", "IR", "RI", "BI", "IB" -> out.append(unescape(String.join("", splitArgs(args)))).append('\n');
                    default -> { }
                }
                continue;
            }
            out.append(unescape(line)).append('\n');
        }
        return out.toString();
    }

    /** Replaces roff escapes in running text by the characters they stand for (or nothing). */
    static String unescape(String s) {
        // remove an inline comment first (\" ...), but not an escaped backslash followed by a quote
        int c = indexOfComment(s);
        if (c >= 0) s = s.substring(0, c);
        Matcher m = ESCAPE.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String glyph = m.group(4) != null ? m.group(4) : m.group(5);
            String single = m.group(6);
            String rep;
            if (glyph != null) rep = glyphOf(glyph);
            else if (single != null) rep = switch (single) {
                case "-" -> "-";
                case "e", "\\" -> "\\";
                case "~", " ", "0" -> " ";
                case "t" -> "\t";
                case "." -> ".";
                case "'" -> "\u00B4";
                case "`" -> "`";
                default -> "";                             // \& \| \^ \c \% \: \{ \} ...
            };
            else rep = "";                                 // fonts, sizes, strings, motions
            m.appendReplacement(sb, Matcher.quoteReplacement(rep));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static String glyphOf(String name) {
        String g = NAMED.get(name);
        if (g != null) return g;
        if (name.startsWith("u") && name.length() >= 5 && name.substring(1).matches("[0-9A-Fa-f]{4,6}"))
            return new String(Character.toChars(Integer.parseInt(name.substring(1), 16)));
        if (name.length() == 2 && (name.charAt(0) == '\'' || name.charAt(0) == ':' || name.charAt(0) == '`')) {
            // accented letters: \('e \(:o \(`a
            String combining = switch (name.charAt(0)) { case '\'' -> "\u0301"; case ':' -> "\u0308"; default -> "\u0300"; };
            return java.text.Normalizer.normalize(name.charAt(1) + combining, java.text.Normalizer.Form.NFC);
        }
        return "";
    }

    private static int indexOfComment(String s) {
        for (int i = 0; i + 1 < s.length(); i++) {
            if (s.charAt(i) != '\\') continue;
            if (s.charAt(i + 1) == '"') return i;
            i++;                                           // skip the escaped character
        }
        return -1;
    }

    /** Macro arguments: words separated by blanks, "double quoted" words kept together. */
    static List<String> splitArgs(String args) {
        List<String> out = new ArrayList<>();
        int i = 0, n = args.length();
        while (i < n) {
            while (i < n && (args.charAt(i) == ' ' || args.charAt(i) == '\t')) i++;
            if (i >= n) break;
            StringBuilder w = new StringBuilder();
            if (args.charAt(i) == '"') {
                i++;
                while (i < n) {
                    char ch = args.charAt(i);
                    if (ch == '"') { if (i + 1 < n && args.charAt(i + 1) == '"') { w.append('"'); i += 2; continue; } i++; break; }
                    w.append(ch); i++;
                }
            } else {
                while (i < n && args.charAt(i) != ' ' && args.charAt(i) != '\t') {
                    if (args.charAt(i) == '\\' && i + 1 < n) { w.append(args, i, i + 2); i += 2; continue; }
                    w.append(args.charAt(i)); i++;
                }
            }
            out.add(w.toString());
        }
        return out;
    }

    private static String words(String args) { return String.join(" ", splitArgs(args)); }

    private static String firstWord(String args) {
        List<String> a = splitArgs(args);
        return a.isEmpty() ? "" : a.get(0);
    }
}
