package moelab.app.sweep;

import moelab.app.cli.TrainCommand;
import moelab.app.config.ConfigLoader;
import moelab.app.report.RunFolder;
import moelab.train.Checkpoint;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;

/**
 * Runs a plan's runs one after another in this process. A run whose folder has a done.json is
 * skipped; a run folder without one is continued from its latest checkpoint (the same bit-exact
 * resume as {@code moe train --resume}), or started over when it has none.
 */
public final class SweepRunner {
    private SweepRunner() {}

    /** @return the number of runs trained (not skipped) by this call */
    public static int run(SweepPlan plan, PrintWriter out) {
        int n = plan.runs().size(), trained = 0;
        double spent = 0;
        int i = 0;
        for (SweepPlan.Run r : plan.runs()) {
            i++;
            Path dir = r.dir(plan.root());
            if (RunResult.read(dir) != null) {
                out.printf(Locale.ROOT, "[%d/%d] %s: done, skipped%n", i, n, r.id());
                out.flush();
                continue;
            }
            long t0 = System.nanoTime();
            runOne(r, dir, i, n, out);
            double sec = (System.nanoTime() - t0) / 1e9;
            spent += sec;
            trained++;
            int left = n - i;
            out.printf(Locale.ROOT, "[%d/%d] %s finished in %.1f s; %d left, ETA %.0f s%n", i, n, r.id(), sec, left, spent / trained * left);
            out.flush();
        }
        return trained;
    }

    private static void runOne(SweepPlan.Run r, Path dir, int i, int n, PrintWriter out) {
        String text = ConfigLoader.toYaml(r.config());
        RunFolder folder;
        Path resume = null;
        if (Files.isRegularFile(dir.resolve(RunFolder.CONFIG))) {
            folder = RunFolder.open(dir);
            String had = folder.readConfig();
            if (!ConfigLoader.fromYaml(had).equals(r.config()))
                throw new IllegalStateException("run folder " + dir + " holds a run of another config (the sweep file changed?); "
                        + "delete that folder to run it again");
            text = had;                                          // checkpoints are checked against this exact text
            resume = Checkpoint.latest(dir.resolve(RunFolder.CHECKPOINTS)).orElse(null);
            if (resume == null) clearMetrics(folder);             // died before its first checkpoint: start over
        } else {
            folder = RunFolder.create(r.id(), dir.getParent(), dir, Clock.systemDefaultZone());
            folder.writeConfig(text);
        }
        if (r.initFrom() != null && RunResult.read(Path.of(r.config().run().initFrom())) == null)
            throw new IllegalStateException("run " + r.id() + " starts from " + r.initFrom() + ", which is not done");
        out.printf(Locale.ROOT, "[%d/%d] %s%s%s%n", i, n, r.id(), resume == null ? "" : " (resuming from " + resume.getFileName() + ")",
                r.initFrom() == null ? "" : " (init from " + r.initFrom() + ")");
        out.flush();
        long t0 = System.nanoTime();
        r.config().run().applyKernels();
        TrainCommand.trainInto(r.config(), text, folder, resume, out);
        RunResult.of(r, folder, (System.nanoTime() - t0) / 1e9).write(dir);
    }

    private static void clearMetrics(RunFolder f) {
        try {
            for (Path p : new Path[]{f.metricsJsonl(), f.metricsCsv(), f.evalJsonl()}) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear the metric files of " + f.dir() + ": " + e.getMessage(), e);
        }
    }
}
