package moelab.app.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's metric files read back, in step order. A step logged twice (a run resumed from a
 * checkpoint older than its last logged step) keeps its last line; lines cut off by a crash
 * mid-write are skipped and counted.
 *
 * @param skippedLines lines that were not metric rows
 */
public record RunMetrics(List<Metrics.Step> steps, List<Metrics.Eval> evals, int skippedLines) {

    public static RunMetrics read(RunFolder folder) {
        int[] skipped = {0};
        List<Metrics.Step> steps = readRows(folder.metricsJsonl(), Metrics.Step.class, Metrics.Step::step, skipped);
        List<Metrics.Eval> evals = readRows(folder.evalJsonl(), Metrics.Eval.class, Metrics.Eval::step, skipped);
        return new RunMetrics(steps, evals, skipped[0]);
    }

    private static <T> List<T> readRows(Path file, Class<T> type, java.util.function.ToLongFunction<T> step, int[] skipped) {
        if (!Files.exists(file)) return List.of();
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        Map<Long, T> byStep = new TreeMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String s = lines.get(i);
            if (s.isBlank()) continue;
            T row;
            try {
                row = Metrics.JSON.readValue(s, type);
            } catch (IOException e) {
                skipped[0]++;                                              // cut off by a crash
                continue;
            }
            byStep.put(step.applyAsLong(row), row);
        }
        return List.copyOf(new ArrayList<>(byStep.values()));
    }

    public Metrics.Step lastStep() { return steps.isEmpty() ? null : steps.getLast(); }
    public Metrics.Eval lastEval() { return evals.isEmpty() ? null : evals.getLast(); }
}
