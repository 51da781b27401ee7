package moelab.app.sweep;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs a plan's pending runs N at a time, each in its own child JVM ({@code sweep ... --only ID}):
 * the kernel back end is one per process, so runs in separate processes share no mutable state and
 * each has its own thread budget. A child trains exactly what the sequential runner would (same
 * config, same resume), so the bits are the same. Each child's output goes to
 * {@code <sweep>/logs/<run>.log}; this process prints one line per active run and the sweep's
 * progress and ETA every few seconds. A run that starts from another (init_from) waits for it.
 */
public final class ParallelRunner {
    private ParallelRunner() {}

    private record Active(SweepPlan.Run run, Process process, Path log, long startNanos) {}

    /**
     * @param jobs          runs at once
     * @param childThreads  kernel threads of a child whose run.threads is 0 (all cores)
     * @param sweepArgs     the sweep's arguments that select the same plan (source, --out, --set ...)
     * @param statusEverySec seconds between status blocks
     * @return the number of runs trained
     */
    public static int run(SweepPlan plan, SweepState state, int jobs, int childThreads, List<String> sweepArgs,
                          double statusEverySec, PrintWriter out) {
        Path logs = plan.root().resolve("logs");
        try {
            Files.createDirectories(logs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + logs + ": " + e.getMessage(), e);
        }
        List<SweepPlan.Run> waiting = new ArrayList<>();
        long totalSteps = 0, doneSteps = 0;
        int doneRuns = 0;
        for (SweepPlan.Run r : plan.runs()) {
            totalSteps += r.config().train().steps();
            if (state.isDone(r)) { doneSteps += r.config().train().steps(); doneRuns++; }
            else waiting.add(r);
        }
        out.printf(Locale.ROOT, "%d runs done, %d to train, %d at once (logs in %s)%n", doneRuns, waiting.size(), jobs, logs);
        out.flush();
        Map<String, Active> active = new LinkedHashMap<>();
        List<String> failed = new ArrayList<>();
        Thread killer = new Thread(() -> active.values().forEach(a -> a.process().destroy()));
        Runtime.getRuntime().addShutdownHook(killer);                   // an interrupted sweep takes its children with it
        long t0 = System.nanoTime(), lastStatus = t0;
        SweepProgress progress = new SweepProgress(jobs);
        boolean etaShown = false;
        int trained = 0;
        try {
            while (!waiting.isEmpty() || !active.isEmpty()) {
                for (var it = waiting.iterator(); it.hasNext() && active.size() < jobs; ) {
                    SweepPlan.Run r = it.next();
                    if (r.initFrom() != null && failed.stream().anyMatch(f -> f.startsWith(r.initFrom() + " "))) {
                        failed.add(r.id() + " (not started: " + r.initFrom() + " failed)");
                        it.remove();
                        continue;
                    }
                    if (r.initFrom() != null && RunResult.read(Path.of(r.config().run().initFrom())) == null) continue;
                    it.remove();
                    active.put(r.id(), start(r, sweepArgs, childThreads, logs.resolve(r.id() + ".log")));
                    out.printf(Locale.ROOT, "  started  %s%n", r.id());
                }
                if (active.isEmpty() && !waiting.isEmpty()) {                   // left: runs whose init_from source failed
                    for (SweepPlan.Run r : waiting) failed.add(r.id() + " (not started: " + r.initFrom() + " is not done)");
                    break;
                }
                sleep(200);
                for (var it = active.values().iterator(); it.hasNext(); ) {
                    Active a = it.next();
                    if (a.process().isAlive()) continue;
                    it.remove();
                    double sec = (System.nanoTime() - a.startNanos()) / 1e9;
                    RunResult res = RunResult.read(a.run().dir(plan.root()));
                    if (a.process().exitValue() == 0 && res != null) {
                        trained++;
                        doneRuns++;
                        progress.finished(sec);
                        doneSteps += a.run().config().train().steps();
                        out.printf(Locale.ROOT, "  finished %s in %s (val_loss %.4f)%n", a.run().id(), SweepProgress.hms(sec), res.get("val_loss"));
                    } else {
                        failed.add(a.run().id() + " (exit " + a.process().exitValue() + ", log " + a.log() + ")");
                        out.printf(Locale.ROOT, "  FAILED   %s after %s: %s%n", a.run().id(), SweepProgress.hms(sec), lastLine(a.log()));
                    }
                }
                long now = System.nanoTime();
                List<Double> elapsed = new ArrayList<>();
                List<SweepProgress.RunStatus> status = new ArrayList<>();
                long running = 0;
                for (Active a : active.values()) {
                    SweepProgress.RunStatus st = SweepProgress.parse(tail(a.log()));
                    status.add(st);
                    elapsed.add((now - a.startNanos()) / 1e9);
                    running += st.step();
                }
                double eta = progress.eta(elapsed, status, waiting.size());
                boolean firstEta = !etaShown && Double.isFinite(eta);
                if (firstEta || (now - lastStatus) / 1e9 >= statusEverySec || (waiting.isEmpty() && active.isEmpty())) {
                    lastStatus = now;
                    etaShown |= Double.isFinite(eta);
                    long have = doneSteps + running;
                    out.printf(Locale.ROOT, "[%s] %d/%d runs done, %d running, %d waiting; %.0f%% of %d steps; ETA %s%n",
                            SweepProgress.hms((now - t0) / 1e9), doneRuns, plan.runs().size(), active.size(), waiting.size(),
                            100.0 * have / Math.max(1, totalSteps), totalSteps, active.isEmpty() && waiting.isEmpty() ? "0:00:00" : SweepProgress.hms(eta));
                    int i = 0;
                    for (Active a : active.values()) {
                        SweepProgress.RunStatus st = status.get(i++);
                        out.printf(Locale.ROOT, "  %-32s step %d/%d, ETA %s%n", a.run().id(), st.step(), a.run().config().train().steps(),
                                SweepProgress.hms(st.etaSec()));
                    }
                }
                out.flush();
            }
        } finally {
            active.values().forEach(a -> a.process().destroy());
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException ignored) { }                 // already shutting down
        }
        if (!failed.isEmpty())
            throw new IllegalStateException(failed.size() + " run(s) did not finish: " + String.join("; ", failed)
                    + " (rerun the same command to resume them)");
        return trained;
    }

    private static Active start(SweepPlan.Run r, List<String> sweepArgs, int childThreads, Path log) {
        List<String> args = new ArrayList<>(sweepArgs);
        args.add("--only");
        args.add(r.id());
        List<String> flags = r.config().run().threads() == 0 ? List.of("-Dmoelab.threads=" + childThreads) : List.of();
        ProcessBuilder pb = new ProcessBuilder(ChildJvm.command(flags, args)).redirectErrorStream(true).redirectOutput(log.toFile());
        try {
            return new Active(r, pb.start(), log, System.nanoTime());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a JVM for run " + r.id() + ": " + e.getMessage(), e);
        }
    }

    private static String lastLine(Path log) {
        String[] lines = tail(log).strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1];
    }

    /** The last 8 KiB of a file, "" when it cannot be read. */
    private static String tail(Path f) {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
            long n = Math.min(raf.length(), 8192);
            byte[] b = new byte[(int) n];
            raf.seek(raf.length() - n);
            raf.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("sweep interrupted; rerun the same command to resume");
        }
    }
}
