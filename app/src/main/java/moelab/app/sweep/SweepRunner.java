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
 * Runs a plan's runs one after another in this process. A DONE run is skipped; a PARTIAL one is
 * continued from its latest checkpoint (the same bit-exact resume as {@code moe train --resume}),
 * or started over when it has none. The caller has made sure no run is CHANGED.
 */
public final class SweepRunner {
    private SweepRunner() {}

    /** @return the number of runs trained (not skipped) by this call */
    public static int run(SweepPlan plan, SweepState state, PrintWriter out) {
        int n = plan.runs().size(), trained = 0;
        double spent = 0;
        int i = 0;
        for (SweepPlan.Run r : plan.runs()) {
            i++;
            if (state.isDone(r)) {
                out.printf(Locale.ROOT, "[%d/%d] %s: done, skipped%n", i, n, r.id());
                out.flush();
                continue;
            }
            long t0 = System.nanoTime();
            runOne(plan, state.entry(r), String.format(Locale.ROOT, "[%d/%d] ", i, n), out);
            double sec = (System.nanoTime() - t0) / 1e9;
            spent += sec;
            trained++;
            int left = n - i;
            out.printf(Locale.ROOT, "[%d/%d] %s finished in %.1f s; %d left, ETA %s%n", i, n, r.id(), sec, left,
                    SweepProgress.hms(spent / trained * left));
            out.flush();
        }
        return trained;
    }

    /** Trains one NEW or PARTIAL run into its folder and writes its done.json. */
    public static void runOne(SweepPlan plan, SweepState.Entry e, String prefix, PrintWriter out) {
        SweepPlan.Run r = e.run();
        if (e.status() == SweepState.Status.CHANGED || e.status() == SweepState.Status.DONE)
            throw new IllegalStateException("run " + r.id() + " is " + e.status().name().toLowerCase(Locale.ROOT) + ", not to be trained");
        Path dir = r.dir(plan.root());
        String text = ConfigLoader.toYaml(r.config());
        RunFolder folder;
        Path resume = null;
        if (Files.isRegularFile(dir.resolve(RunFolder.CONFIG))) {
            folder = RunFolder.open(dir);
            text = folder.readConfig();                           // checkpoints are checked against this exact text
            resume = Checkpoint.latest(dir.resolve(RunFolder.CHECKPOINTS)).orElse(null);
            if (resume == null) clearMetrics(folder);             // died before its first checkpoint: start over
        } else {
            folder = RunFolder.create(r.id(), dir.getParent(), dir, Clock.systemDefaultZone());
            e.identity().write(dir);                              // first, so that a folder with a config always has it
            folder.writeConfig(text);
        }
        if (r.initFrom() != null && RunResult.read(Path.of(r.config().run().initFrom())) == null)
            throw new IllegalStateException("run " + r.id() + " starts from " + r.initFrom() + ", which is not done");
        out.printf(Locale.ROOT, "%s%s%s%s%n", prefix, r.id(), resume == null ? "" : " (resuming from " + resume.getFileName() + ")",
                r.initFrom() == null ? "" : " (init from " + r.initFrom() + ")");
        out.flush();
        long t0 = System.nanoTime();
        r.config().run().applyKernels();
        TrainCommand.trainInto(r.config(), text, folder, resume, out);
        RunResult.of(r, folder, (System.nanoTime() - t0) / 1e9, e.identity()).write(dir);
    }

    private static void clearMetrics(RunFolder f) {
        try {
            for (Path p : new Path[]{f.metricsJsonl(), f.metricsCsv(), f.evalJsonl()}) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear the metric files of " + f.dir() + ": " + e.getMessage(), e);
        }
    }
}
