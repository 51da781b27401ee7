package moelab.app.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits the plain-text Debian Reference ({@code /usr/share/debian-reference/debian-reference.LANG.txt.gz})
 * into one document per numbered section ("1.2", "A.3"). Every translation has the same section
 * numbers, so a section id names the same text in every language: that is what lets validation
 * hold out the same sections everywhere.
 *
 * <p>Layout of the file (all languages): title page, table of contents (indented), list of tables
 * (column 0, "1.1. List of ..."), preface, then the body: a chapter heading at column 0
 * ("Chapter 1. ...", "Kapitel 1. ...", "第1章 ..."), indented intro paragraphs, and sections whose
 * headings start at column 0 ("1.1. Console basics"; subsections "1.1.1. ..." stay inside their
 * section). Headings may wrap onto a second column-0 line. The front matter and the preface are
 * skipped; a chapter's heading and intro are put at the start of its first section.
 */
public final class DebianReference {
    /** One section: id like "01.02" or "A.03", and its text (not yet cleaned). */
    public record Section(String id, String text) {}

    private static final Pattern SECTION = Pattern.compile("^([0-9]+|[A-Z])\\.([0-9]+)\\.\\s+\\S.*");
    private static final Pattern NUMBERED = Pattern.compile("^([0-9]+|[A-Z])(\\.[0-9]+)+\\.?\\s.*");
    private static final Pattern FIRST_SECTION = Pattern.compile("^1\\.1\\.\\s+\\S.*");

    private DebianReference() {}

    /** Splits the whole book; throws IllegalArgumentException (with {@code name}) if the layout is not recognised. */
    public static List<Section> split(String book, String name) {
        String[] lines = book.replace('\u00A0', ' ').replace("\r", "").split("\n", -1);
        int first = -1;
        for (int i = 0; i < lines.length; i++) if (FIRST_SECTION.matcher(lines[i]).matches()) first = i;
        if (first < 0) throw new IllegalArgumentException(name + ": no section heading \"1.1. ...\" at column 0; not a Debian Reference text?");
        int start = first - 1;
        while (start >= 0 && (lines[start].isBlank() || Character.isWhitespace(lines[start].charAt(0)))) start--;
        if (start < 0) throw new IllegalArgumentException(name + ": no chapter heading before section 1.1");

        Map<String, StringBuilder> sections = new LinkedHashMap<>();
        StringBuilder pending = new StringBuilder();   // chapter heading + intro, waiting for the chapter's first section
        StringBuilder current = null;
        for (int i = start; i < lines.length; i++) {
            String line = lines[i];
            Matcher m = SECTION.matcher(line);
            if (m.matches()) {
                String id = pad(m.group(1)) + "." + pad(m.group(2));
                String unique = id;
                for (int k = 2; sections.containsKey(unique); k++) unique = id + "-" + k;
                current = new StringBuilder(pending).append(line).append('\n');
                sections.put(unique, current);
                pending.setLength(0);
            } else if (isChapterHeading(lines, i)) {
                current = null;
                pending.setLength(0);
                pending.append(line).append('\n');
            } else if (current != null) {
                current.append(line).append('\n');
            } else {
                pending.append(line).append('\n');
            }
        }
        if (sections.isEmpty()) throw new IllegalArgumentException(name + ": found no sections");
        List<Section> out = new ArrayList<>();
        sections.forEach((id, sb) -> out.add(new Section(id, sb.toString())));
        return out;
    }

    /** A column-0 line after a blank line that is not a numbered heading nor a "-----" rule. */
    private static boolean isChapterHeading(String[] lines, int i) {
        String line = lines[i];
        if (line.isEmpty() || Character.isWhitespace(line.charAt(0))) return false;
        if (i > 0 && !lines[i - 1].isBlank()) return false;        // continuation of a wrapped heading
        if (NUMBERED.matcher(line).matches()) return false;
        return !line.chars().allMatch(c -> c == '-' || c == '=' || c == ' ');
    }

    private static String pad(String n) {
        return n.length() == 1 && Character.isDigit(n.charAt(0)) ? "0" + n : n;
    }
}
