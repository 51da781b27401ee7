package moelab.app.report;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Cuts a run's metric files back to a step, so that a run resumed from the checkpoint of step N
 * logs each later step once: rows of steps after N (logged before the interruption) and lines cut
 * off by a crash are dropped. Each file is rewritten atomically (temporary file, then rename).
 */
final class StepTruncation {
    private StepTruncation() {}

    /** JSON lines: keeps the objects whose "step" is at most lastStep. */
    static void jsonl(Path file, long lastStep) {
        rewrite(file, lines -> {
            StringBuilder sb = new StringBuilder();
            for (String s : lines) {
                if (s.isBlank()) continue;
                JsonNode n;
                try {
                    n = Metrics.JSON.readTree(s);
                } catch (IOException e) {
                    continue;                                          // a line cut off by a crash
                }
                if (n != null && n.path("step").canConvertToLong() && n.get("step").asLong() <= lastStep)
                    sb.append(s).append('\n');
            }
            return sb.toString();
        });
    }

    /** CSV with a header and the step in the first column: keeps the header and the rows of steps up to lastStep. */
    static void csv(Path file, long lastStep) {
        rewrite(file, lines -> {
            if (lines.isEmpty()) return "";
            int columns = lines.getFirst().split(",", -1).length;
            StringBuilder sb = new StringBuilder(lines.getFirst()).append('\n');
            for (String s : lines.subList(1, lines.size())) {
                int comma = s.indexOf(',');
                if (comma < 0 || s.split(",", -1).length != columns) continue;   // cut off by a crash
                try {
                    if (Long.parseLong(s.substring(0, comma)) <= lastStep) sb.append(s).append('\n');
                } catch (NumberFormatException e) {
                    // not a row of ours: dropped like a cut-off line
                }
            }
            return sb.toString();
        });
    }

    private static void rewrite(Path file, java.util.function.Function<List<String>, String> keep) {
        if (!Files.exists(file)) return;
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        RunFolder.writeAtomically(file, keep.apply(lines));
    }
}
