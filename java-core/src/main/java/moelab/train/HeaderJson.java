package moelab.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Minimal JSON reader: object -> LinkedHashMap (duplicate keys refused), array -> List,
 * string -> String, integer -> Long, other number -> Double, true/false/null.
 */
final class HeaderJson {
    private static final int MAX_DEPTH = 64;
    private final String s;
    private int i;

    HeaderJson(String s) { this.s = s; }

    Object document() {
        ws();
        Object v = value(0);
        ws();
        if (i != s.length()) throw error("unexpected '" + s.charAt(i) + "' after the end of the JSON value");
        return v;
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
        if (i >= s.length()) throw error("unexpected end of header");
        char c = s.charAt(i);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield number();
                throw error("unexpected '" + c + "'");
            }
        };
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> m = new LinkedHashMap<>();
        i++; // {
        ws();
        if (peek() == '}') { i++; return m; }
        while (true) {
            ws();
            if (peek() != '"') throw error("expected a string key");
            int at = i;
            String k = string();
            ws();
            expect(':');
            ws();
            Object v = value(depth + 1);
            if (m.containsKey(k)) { i = at; throw error("duplicate key \"" + k + "\""); }
            m.put(k, v);
            ws();
            char c = peek();
            i++;
            if (c == '}') return m;
            if (c != ',') { i--; throw error("expected ',' or '}'"); }
        }
    }

    private List<Object> array(int depth) {
        List<Object> a = new ArrayList<>();
        i++; // [
        ws();
        if (peek() == ']') { i++; return a; }
        while (true) {
            ws();
            a.add(value(depth + 1));
            ws();
            char c = peek();
            i++;
            if (c == ']') return a;
            if (c != ',') { i--; throw error("expected ',' or ']'"); }
        }
    }

    private String string() {
        i++; // "
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (i >= s.length()) throw error("unterminated string");
            char c = s.charAt(i++);
            if (c == '"') return sb.toString();
            if (c < 0x20) { i--; throw error("control character in a string"); }
            if (c != '\\') { sb.append(c); continue; }
            if (i >= s.length()) throw error("unterminated escape");
            char e = s.charAt(i++);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (i + 4 > s.length()) throw error("short \\u escape");
                    String hex = s.substring(i, i + 4);
                    if (!hex.matches("[0-9a-fA-F]{4}")) throw error("bad \\u escape '" + hex + "'");
                    sb.append((char) Integer.parseInt(hex, 16));
                    i += 4;
                }
                default -> { i--; throw error("bad escape '\\" + e + "'"); }
            }
        }
    }

    private Object number() {
        int start = i;
        if (peek() == '-') i++;
        while (i < s.length() && "0123456789+-.eE".indexOf(s.charAt(i)) >= 0) i++;
        String t = s.substring(start, i);
        try {
            if (t.matches("-?(0|[1-9][0-9]*)")) return Long.parseLong(t);
            if (t.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) return Double.parseDouble(t);
        } catch (NumberFormatException ignored) { /* too large for a long: reported below */ }
        i = start;
        throw error("bad number '" + t + "'");
    }

    private Object literal(String word, Object v) {
        if (!s.startsWith(word, i)) throw error("unexpected '" + s.charAt(i) + "'");
        i += word.length();
        return v;
    }

    private void expect(char c) {
        if (peek() != c) throw error("expected '" + c + "'");
        i++;
    }

    private char peek() {
        if (i >= s.length()) throw error("unexpected end of header");
        return s.charAt(i);
    }

    private void ws() { while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++; }

    private IllegalArgumentException error(String msg) {
        return new IllegalArgumentException("JSON error at header character " + i + ": " + msg);
    }
}
