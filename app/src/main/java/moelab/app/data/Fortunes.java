package moelab.app.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Fortune cookie files (entries separated by a line "%") grouped into documents of about
 * {@code targetBytes} UTF-8 bytes each, entries kept whole and in file order.
 */
public final class Fortunes {
    /** One chunk: its number within the file (0, 1, ...) and its text (entries separated by a blank line). */
    public record Chunk(int index, String text) {}

    private Fortunes() {}

    /** Splits {@code file} into entries, dropping empty ones. */
    public static List<String> entries(String file) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : file.replace("\r", "").split("\n", -1)) {
            if (line.strip().equals("%")) { add(out, cur); continue; }
            cur.append(line).append('\n');
        }
        add(out, cur);
        return out;
    }

    private static void add(List<String> out, StringBuilder cur) {
        String e = cur.toString().strip();
        if (!e.isEmpty()) out.add(e);
        cur.setLength(0);
    }

    /** Groups entries into chunks: a chunk is closed once it reaches {@code targetBytes}. */
    public static List<Chunk> chunk(String file, int targetBytes) {
        if (targetBytes <= 0) throw new IllegalArgumentException("fortune chunk size must be > 0, got " + targetBytes);
        List<Chunk> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int bytes = 0;
        for (String e : entries(file)) {
            if (cur.length() > 0) { cur.append("\n\n"); bytes += 2; }
            cur.append(e);
            bytes += Utf8.bytes(e);
            if (bytes >= targetBytes) {
                out.add(new Chunk(out.size(), cur.append('\n').toString()));
                cur.setLength(0);
                bytes = 0;
            }
        }
        if (cur.length() > 0) out.add(new Chunk(out.size(), cur.append('\n').toString()));
        return out;
    }
}
