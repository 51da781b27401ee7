package moelab.app.sweep;

import moelab.config.ConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code moe sweep}: runs every configuration x seed of a sweep file (validated first), skipping
 * done runs and resuming interrupted ones (both only when their recorded identity matches what the
 * sweep would run now), here one after another, N at a time in worker JVMs, or as a Slurm job
 * array; then writes the comparison report.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a grid of training runs from one sweep file and write a comparison report.",
                "Example: moe sweep --named testbed   (rerun the same command to resume)"})
public final class SweepCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "FILE", description = "sweep file (YAML)")
    Path file;

    @Option(names = "--named", paramLabel = "NAME", description = "a bundled sweep: testbed (the main job), testbed-full, routing-methods, mar, orthvar, smoke, study-testbed, study-testbed-methods, study-scope, study-mar, study-orthvar, study-orthvar-fixed")
    String named;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/sweeps",
            description = "folder of sweeps; this one goes to DIR/<name> (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a config key in every run, after the file's set (repeatable)")
    List<String> sets = new ArrayList<>();

    @Option(names = "--report-only", description = "only (re)write the report from the runs that are done with this config "
            + "(it names the run folders it leaves out)")
    boolean reportOnly;

    @Option(names = "--list", description = "validate and list the runs with their state (new, partial, done, changed), run nothing")
    boolean list;

    @Option(names = "--rerun-changed", description = "retrain the runs whose folders were made with another config, data or version "
            + "(their old folders are kept, renamed to <run>.replaced-<n>)")
    boolean rerunChanged;

    @Option(names = "--jobs", paramLabel = "N", description = "training runs at once, in N worker JVMs "
            + "(default: cores / run.threads, at least 1; 1 = one after another in this process)")
    Integer jobs;

    @Option(names = "--slurm", description = "submit the pending runs to Slurm as one job array (sbatch) instead of training here")
    boolean slurm;

    @Option(names = "--partition", paramLabel = "P", description = "with --slurm: the partition (default: the cluster's)")
    String partition;

    @Option(names = "--time", paramLabel = "T", description = "with --slurm: time limit per run, e.g. 1:00:00 (default: the partition's)")
    String time;

    @Option(names = "--cpus-per-task", paramLabel = "C", description = "with --slurm: cores per run (default: run.threads, or 1 when it is 0)")
    Integer cpusPerTask;

    @Option(names = "--slurm-setup", paramLabel = "LINE", description = "with --slurm: a shell line each task runs first, e.g. 'module load java/25' (repeatable)")
    List<String> slurmSetup = new ArrayList<>();

    @Option(names = "--dry-run", description = "with --slurm: write the sbatch script and print how to submit it, submit nothing")
    boolean dryRun;

    @Option(names = "--only", paramLabel = "RUN", hidden = true, description = "train just this run of the sweep (what --jobs and --slurm start)")
    String only;

    @Option(names = "--worker", hidden = true, description = "train the runs whose ids come on stdin, one per line (what --jobs starts)")
    boolean worker;

    @Option(names = "--status-every", paramLabel = "SEC", hidden = true, defaultValue = "15", description = "seconds between status blocks with --jobs")
    double statusEvery;

    @Spec CommandSpec spec;

    /** Bundled sweep files, loadable with --named. */
    public static final List<String> NAMED = List.of("testbed", "testbed-full", "routing-methods", "mar", "orthvar", "smoke", "study-testbed", "study-testbed-methods", "study-scope", "study-scope-bpe", "study-mar", "study-mar-steer", "study-mar-bpe", "study-orthvar", "study-orthvar-fixed", "study-orthvar-bpe", "study-calibration", "study-calibration-long");

    @Override
    public Integer call() {
        PrintWriter pw = spec.commandLine().getOut();
        if ((file == null) == (named == null)) throw new IllegalArgumentException("give a sweep FILE or --named NAME (" + String.join(", ", NAMED) + "), not both");
        if ((partition != null || time != null || cpusPerTask != null || !slurmSetup.isEmpty() || dryRun) && !slurm)
            throw new IllegalArgumentException("--partition, --time, --cpus-per-task, --slurm-setup and --dry-run go with --slurm");
        SweepFile f;
        Path baseDir = null;
        if (named != null) {
            if (!NAMED.contains(named)) throw new ConfigException("--named", "no bundled sweep '" + named + "'; bundled: " + String.join(", ", NAMED));
            f = SweepFile.parse("bundled:sweeps/" + named + ".yaml", resource("/sweeps/" + named + ".yaml"));
        } else {
            try {
                f = SweepFile.parse(file.toString(), Files.readString(file));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read sweep file " + file + ": " + e.getMessage(), e);
            }
            baseDir = file.toAbsolutePath().getParent();
        }
        SweepPlan plan = SweepPlan.expand(f, baseDir, sets, out);
        SweepColumns.check(plan);
        pw.printf(Locale.ROOT, "sweep %s: %d configurations x %d seed%s = %d runs in %s%n", f.name(), plan.labels().size(),
                f.seeds().size(), f.seeds().size() == 1 ? "" : "s", plan.runs().size(), plan.root());
        SweepState state = SweepState.check(plan);
        if (list) {
            for (SweepPlan.Run r : plan.runs())
                pw.printf("  %-32s %-8s %s%s%s%n", r.id(), state.entry(r).status().name().toLowerCase(Locale.ROOT), String.join(" ", r.overrides()),
                        r.initFrom() == null ? "" : " init_from=" + r.initFrom(), plan.isReference(r) ? "  [reference]" : "");
            pw.flush();
            return 0;
        }
        if (only != null) return trainOnly(plan, state, pw);
        if (worker) return SweepWorker.serve(plan, pw);
        if (!state.changed().isEmpty() && !reportOnly) {
            if (!rerunChanged) throw new IllegalStateException(state.changedMessage());
            state = state.moveChangedAside(pw);
        }
        pw.flush();
        if (slurm && !reportOnly) {
            int threads = plan.runs().stream().mapToInt(x -> x.config().run().threads()).max().orElse(0);
            int cpus = cpusPerTask != null ? cpusPerTask : Math.max(1, threads);
            if (cpus < 1) throw new IllegalArgumentException("--cpus-per-task must be >= 1, got " + cpus);
            SlurmSubmitter.submit(plan, state, sweepArgs(), new SlurmSubmitter.Options(partition, time, cpus, slurmSetup, dryRun), pw);
            return 0;
        }
        if (!reportOnly) {
            int cores = Runtime.getRuntime().availableProcessors();
            int n = jobs != null ? jobs : defaultJobs(plan, cores);
            if (n < 1) throw new IllegalArgumentException("--jobs must be >= 1, got " + n);
            if (n == 1 || state.toTrain() <= 1) SweepRunner.run(plan, state, pw);             // nothing to run side by side
            else ParallelRunner.run(plan, state, n, Math.max(1, cores / n), sweepArgs(), statusEvery, pw);
            state = SweepState.check(plan);
        }
        SweepReport.Result r = SweepReport.generate(plan, state);
        for (String n : state.reportNotes()) pw.println("note: " + n);
        pw.println(SweepReport.rhoLine(r));
        pw.println("report: " + r.index() + " (results.md, results.csv beside it)");
        pw.flush();
        return 0;
    }

    /** As many runs at once as the cores allow at the runs' run.threads (0 = all cores: one at a time). */
    static int defaultJobs(SweepPlan plan, int cores) {
        int threads = plan.runs().stream().mapToInt(r -> r.config().run().threads()).max().orElse(0);
        return threads == 0 ? 1 : Math.max(1, cores / threads);
    }

    /** The arguments that select this same plan in another process. */
    List<String> sweepArgs() {
        List<String> a = new ArrayList<>(List.of("sweep"));
        if (named != null) a.addAll(List.of("--named", named));
        else a.add(file.toString());
        a.addAll(List.of("--out", out.toString()));
        for (String s : sets) a.addAll(List.of("--set", s));
        return a;
    }

    /** --only RUN: trains that run unless it is done; a changed run is refused like in a whole sweep. */
    private int trainOnly(SweepPlan plan, SweepState state, PrintWriter pw) {
        SweepPlan.Run r = plan.runs().stream().filter(x -> x.id().equals(only)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("--only: sweep " + plan.file().name() + " has no run '" + only + "'"));
        SweepState.Entry e = state.entry(r);
        switch (e.status()) {
            case DONE -> pw.println(r.id() + ": done, skipped");
            case CHANGED -> throw new IllegalStateException(state.changedMessage());
            default -> SweepRunner.runOne(plan, e, "", pw);
        }
        pw.flush();
        return 0;
    }

    static String resource(String name) {
        try (InputStream in = SweepCommand.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("bundled resource " + name + " is missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
