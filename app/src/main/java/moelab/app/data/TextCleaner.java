package moelab.app.data;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Turns extracted text into clean plain text. Two modes:
 * <ul>
 *   <li>{@link #prose}: natural-language documents (manuals, man pages, fortunes). Unicode NFC,
 *       no control characters, no indentation, single spaces, no ASCII/box-drawing tables,
 *       no lines that are mostly symbols, no line repeated more than {@link #MAX_REPEATS} times,
 *       at most one blank line in a row.</li>
 *   <li>{@link #code}: source code and markup. Only control characters, trailing spaces and runs
 *       of blank lines are touched: indentation carries meaning there.</li>
 * </ul>
 * Both return text that ends with exactly one newline, or "" when nothing is left.
 */
public final class TextCleaner {
    /** A line may occur this many times in one document; later copies are dropped (table rows, boilerplate). */
    public static final int MAX_REPEATS = 3;
    /** Lines with at least this many non-space characters are checked for their share of letters. */
    static final int SYMBOL_LINE_MIN = 8;
    /** Below this share of letters (any script) or digits a long line is decoration: rules, ASCII art, borders. */
    static final double MIN_LETTER_SHARE = 0.30;

    private static final Pattern ANSI = Pattern.compile("\u001B\\[[0-9;?]*[ -/]*[@-~]");
    private static final Pattern OVERSTRIKE = Pattern.compile(".\b");
    private static final Pattern SPACES = Pattern.compile("[ \\t\\u00A0\\u2007\\u202F\\u3000]+");

    private TextCleaner() {}

    /** Clean natural-language text (see class comment). */
    public static String prose(String text) {
        String t = basic(text);
        List<String> kept = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String raw : t.split("\n", -1)) {
            String line = SPACES.matcher(raw).replaceAll(" ").strip();
            if (!line.isEmpty()) {
                if (isTableLine(line) || isSymbolLine(line)) continue;
                int n = seen.merge(line, 1, Integer::sum);
                if (n > MAX_REPEATS) continue;
            }
            kept.add(line);
        }
        return joinCollapsingBlanks(kept);
    }

    /** Clean source code or markup (see class comment). Tabs and indentation are kept. */
    public static String code(String text) {
        String t = basic(text);
        List<String> kept = new ArrayList<>();
        for (String raw : t.split("\n", -1)) kept.add(raw.stripTrailing());
        return joinCollapsingBlanks(kept);
    }

    /** Newlines to \n, terminal escapes and overstrikes removed, control characters (except \n, \t) removed, NFC. */
    static String basic(String text) {
        String t = text.replace("\r\n", "\n").replace('\r', '\n');
        t = ANSI.matcher(t).replaceAll("");
        if (t.indexOf('\b') >= 0) t = OVERSTRIKE.matcher(t).replaceAll("");
        StringBuilder sb = new StringBuilder(t.length());
        t.codePoints().forEach(cp -> {
            if (cp == '\n' || cp == '\t') sb.append((char) cp);
            else if (cp == 0xFEFF || cp == 0xFFFD || cp == 0xAD) { /* BOM, replacement char, soft hyphen: drop */ }
            else if (Character.getType(cp) == Character.CONTROL || Character.getType(cp) == Character.SURROGATE
                    || Character.getType(cp) == Character.UNASSIGNED || Character.getType(cp) == Character.PRIVATE_USE) { /* drop */ }
            else if (cp == 0x2028 || cp == 0x2029) sb.append('\n');
            else sb.appendCodePoint(cp);
        });
        return Normalizer.normalize(sb, Normalizer.Form.NFC);
    }

    /** ASCII table rows and rules ("|a |b |", "+----+") and box-drawing rows. Expects a stripped line. */
    static boolean isTableLine(String line) {
        char first = line.charAt(0), last = line.charAt(line.length() - 1);
        if (line.length() >= 2 && (first == '|' || first == '+') && (last == '|' || last == '+')) return true;
        int box = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c >= 0x2500 && c <= 0x257F) box++;
        }
        return box >= 2;
    }

    /** A long line with few letters or digits: rules, ASCII art, separators. Expects a stripped line. */
    static boolean isSymbolLine(String line) {
        int nonSpace = 0, letters = 0;
        for (int i = 0; i < line.length(); ) {
            int cp = line.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isWhitespace(cp)) continue;
            nonSpace++;
            if (Character.isLetterOrDigit(cp)) letters++;
        }
        return nonSpace >= SYMBOL_LINE_MIN && letters < MIN_LETTER_SHARE * nonSpace;
    }

    /** Joins lines, keeping at most one blank line in a row and none at either end; ends with one newline. */
    static String joinCollapsingBlanks(List<String> lines) {
        StringBuilder sb = new StringBuilder();
        boolean pendingBlank = false;
        for (String line : lines) {
            if (line.isBlank()) { pendingBlank = sb.length() > 0; continue; }
            if (pendingBlank) sb.append('\n');
            pendingBlank = false;
            sb.append(line).append('\n');
        }
        return sb.toString();
    }
}
