package moelab.app.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * A run's folder: {@code <out_dir>/<name>-<yyyyMMdd-HHmmss>/} holding config.yaml, the metric
 * files (metrics.jsonl, metrics.csv, eval.jsonl, eval.csv), TensorBoard event files, checkpoints/, plots/ and index.html.
 */
public final class RunFolder {
    public static final String CONFIG = "config.yaml", METRICS_JSONL = "metrics.jsonl", METRICS_CSV = "metrics.csv",
            EVAL_JSONL = "eval.jsonl", EVAL_CSV = "eval.csv", INDEX_HTML = "index.html", CHECKPOINTS = "checkpoints", PLOTS = "plots";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private final Path dir;

    private RunFolder(Path dir) { this.dir = dir; }

    /**
     * A new run folder: {@code dir} when given, else {@code outDir/name-timestamp} (with -2, -3, ...
     * when that exists already). Refuses a folder that already holds a run.
     */
    public static RunFolder create(String name, Path outDir, Path dir, Clock clock) {
        Path d = dir;
        if (d == null) {
            String base = name + "-" + LocalDateTime.now(clock).format(STAMP);
            d = outDir.resolve(base);
            for (int i = 2; Files.exists(d); i++) d = outDir.resolve(base + "-" + i);
        } else if (Files.exists(d.resolve(CONFIG))) {
            throw new IllegalArgumentException("run folder " + d + " already holds a run (it has a " + CONFIG
                    + "); choose another --run-dir, or continue it with --resume CHECKPOINT");
        }
        try {
            Files.createDirectories(d);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create run folder " + d + ": " + e.getMessage(), e);
        }
        return new RunFolder(d);
    }

    /** An existing run folder, e.g. for {@code moe report} or to continue a run. */
    public static RunFolder open(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("no run folder at " + dir);
        if (!Files.isRegularFile(dir.resolve(CONFIG)))
            throw new IllegalArgumentException(dir + " is not a run folder: it has no " + CONFIG);
        return new RunFolder(dir);
    }

    /** The run folder of a checkpoint stored as {@code <run>/checkpoints/<file>}, or null when it is elsewhere. */
    public static Path ofCheckpoint(Path checkpoint) {
        Path parent = checkpoint.toAbsolutePath().getParent();
        if (parent == null || parent.getFileName() == null || !parent.getFileName().toString().equals(CHECKPOINTS)) return null;
        Path run = parent.getParent();
        return run != null && Files.isRegularFile(run.resolve(CONFIG)) ? run : null;
    }

    public Path dir() { return dir; }
    public Path configFile() { return dir.resolve(CONFIG); }
    public Path metricsJsonl() { return dir.resolve(METRICS_JSONL); }
    public Path metricsCsv() { return dir.resolve(METRICS_CSV); }
    public Path evalJsonl() { return dir.resolve(EVAL_JSONL); }
    public Path evalCsv() { return dir.resolve(EVAL_CSV); }
    public Path indexHtml() { return dir.resolve(INDEX_HTML); }
    public Path plotsDir() { return dir.resolve(PLOTS); }

    /** checkpoints/, created on first use. */
    public Path checkpointsDir() {
        Path c = dir.resolve(CHECKPOINTS);
        try {
            Files.createDirectories(c);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + c + ": " + e.getMessage(), e);
        }
        return c;
    }

    /** Writes config.yaml atomically. */
    public void writeConfig(String yaml) { writeAtomically(configFile(), yaml); }

    public String readConfig() {
        try {
            return Files.readString(configFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configFile() + ": " + e.getMessage(), e);
        }
    }

    /** Writes text to a temporary file beside the target, then renames it over the target. */
    public static void writeAtomically(Path target, String text) {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }
}
