package moelab.app.sweep;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
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
import java.util.concurrent.TimeUnit;

/**
 * Runs a plan's pending runs N at a time in N worker JVMs ({@code sweep ... --worker}, see
 * {@link SweepWorker}): the kernel back end is one per process, so runs in separate processes share
 * no mutable state and each has its own thread budget; a worker trains its runs one after another
 * exactly as the sequential runner does, so the bits are the same. Each run's output goes to
 * {@code <sweep>/logs/<run>.log}; this process hands out the runs, and prints one line per active
 * run and the sweep's progress and ETA. A run that starts from another (init_from) waits for it.
 */
public final class ParallelRunner {
    private ParallelRunner() {}

    private record Worker(Process process, BufferedWriter stdin) {}

    private record Active(SweepPlan.Run run, int slot, Path log, long startNanos) {}

    /**
     * @param jobs           runs at once
     * @param childThreads   kernel threads of a run whose run.threads is 0 (all cores)
     * @param sweepArgs      the sweep's arguments that select the same plan (sweep, source, --out, --set ...)
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
        Worker[] workers = new Worker[jobs];
        Map<String, Active> active = new LinkedHashMap<>();
        List<String> failed = new ArrayList<>();
        Thread killer = new Thread(() -> { for (Worker w : workers) if (w != null) w.process().destroy(); });
        Runtime.getRuntime().addShutdownHook(killer);                   // an interrupted sweep takes its workers with it
        long t0 = System.nanoTime(), lastStatus = t0;
        SweepProgress progress = new SweepProgress(jobs);
        boolean etaShown = false;
        int trained = 0;
        try {
            while (!waiting.isEmpty() || !active.isEmpty()) {
                for (int slot = 0; slot < jobs; slot++) {
                    int s = slot;
                    if (active.values().stream().anyMatch(a -> a.slot() == s)) continue;
                    SweepPlan.Run next = nextReady(waiting, failed);
                    if (next == null) break;
                    if (workers[slot] == null || !workers[slot].process().isAlive())
                        workers[slot] = start(sweepArgs, childThreads, logs.resolve("worker-" + (slot + 1) + ".log"));
                    try {
                        workers[slot].stdin().write(next.id() + "\n");
                        workers[slot].stdin().flush();
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot hand run " + next.id() + " to a worker JVM: " + e.getMessage(), e);
                    }
                    active.put(next.id(), new Active(next, slot, logs.resolve(next.id() + ".log"), System.nanoTime()));
                    out.printf(Locale.ROOT, "  started  %s%n", next.id());
                }
                if (active.isEmpty() && !waiting.isEmpty()) {                   // left: runs whose init_from source failed
                    for (SweepPlan.Run r : waiting) failed.add(r.id() + " (not started: " + r.initFrom() + " is not done)");
                    break;
                }
                sleep(200);
                for (var it = active.values().iterator(); it.hasNext(); ) {
                    Active a = it.next();
                    RunResult res = RunResult.read(a.run().dir(plan.root()));
                    Process p = workers[a.slot()].process();
                    if (res == null && p.isAlive()) continue;
                    it.remove();
                    double sec = (System.nanoTime() - a.startNanos()) / 1e9;
                    if (res != null) {
                        trained++;
                        doneRuns++;
                        doneSteps += a.run().config().train().steps();
                        out.printf(Locale.ROOT, "  finished %s in %s (val_loss %.4f)%n", a.run().id(), SweepProgress.hms(sec), res.get("val_loss"));
                    } else {
                        failed.add(a.run().id() + " (log " + a.log() + ")");
                        out.printf(Locale.ROOT, "  FAILED   %s after %s: %s%n", a.run().id(), SweepProgress.hms(sec), lastLine(a.log()));
                    }
                }
                long now = System.nanoTime();
                double nowSec = (now - t0) / 1e9;
                List<SweepProgress.Sample> samples = new ArrayList<>();
                long running = 0, waitingSteps = 0;
                for (Active a : active.values()) {
                    SweepProgress.Sample smp = new SweepProgress.Sample(a.run().id(), SweepProgress.lastStep(tail(a.log())), a.run().config().train().steps());
                    samples.add(smp);
                    running += smp.step();
                }
                for (SweepPlan.Run r : waiting) waitingSteps += r.config().train().steps();
                double eta = progress.eta(nowSec, samples, waitingSteps);
                boolean last = waiting.isEmpty() && active.isEmpty();
                if ((!etaShown && Double.isFinite(eta)) || (now - lastStatus) / 1e9 >= statusEverySec || last) {
                    lastStatus = now;
                    etaShown |= Double.isFinite(eta);
                    long have = doneSteps + running;
                    out.printf(Locale.ROOT, "[%s] %d/%d runs done, %d running, %d waiting; %.0f%% of %d steps; ETA %s%n",
                            SweepProgress.hms(nowSec), doneRuns, plan.runs().size(), active.size(), waiting.size(),
                            100.0 * have / Math.max(1, totalSteps), totalSteps, SweepProgress.hms(eta));
                    for (SweepProgress.Sample smp : samples)
                        out.printf(Locale.ROOT, "  %-32s step %d/%d, %s left%n", smp.id(), smp.step(), smp.total(),
                                SweepProgress.hms((smp.total() - smp.step()) * progress.pace(nowSec, smp)));
                }
                out.flush();
            }
        } finally {
            stopAll(workers);
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException ignored) { }                 // already shutting down
        }
        if (!failed.isEmpty())
            throw new IllegalStateException(failed.size() + " run(s) did not finish: " + String.join("; ", failed)
                    + " (rerun the same command to resume them)");
        return trained;
    }

    /** The first waiting run whose init_from source is done (removed from waiting), or null; runs whose source failed are moved to failed. */
    private static SweepPlan.Run nextReady(List<SweepPlan.Run> waiting, List<String> failed) {
        for (var it = waiting.iterator(); it.hasNext(); ) {
            SweepPlan.Run r = it.next();
            if (r.initFrom() != null && failed.stream().anyMatch(f -> f.startsWith(r.initFrom() + " "))) {
                failed.add(r.id() + " (not started: " + r.initFrom() + " failed)");
                it.remove();
                continue;
            }
            if (r.initFrom() != null && RunResult.read(Path.of(r.config().run().initFrom())) == null) continue;
            it.remove();
            return r;
        }
        return null;
    }

    private static Worker start(List<String> sweepArgs, int childThreads, Path log) {
        List<String> args = new ArrayList<>(sweepArgs);
        args.add("--worker");
        ProcessBuilder pb = new ProcessBuilder(ChildJvm.command(List.of("-Dmoelab.threads=" + childThreads), args))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        try {
            Process p = pb.start();
            return new Worker(p, new BufferedWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a worker JVM: " + e.getMessage(), e);
        }
    }

    /** End of input lets each worker exit after its run; one that does not is stopped. */
    private static void stopAll(Worker[] workers) {
        for (Worker w : workers) {
            if (w == null) continue;
            try {
                w.stdin().close();
            } catch (IOException ignored) { }                          // already gone
        }
        for (Worker w : workers) {
            if (w == null) continue;
            try {
                if (!w.process().waitFor(10, TimeUnit.SECONDS)) w.process().destroy();
            } catch (InterruptedException e) {
                w.process().destroy();
                Thread.currentThread().interrupt();
            }
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
