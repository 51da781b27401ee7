package moelab.app.sweep;

import moelab.app.report.RunFolder;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@code sweep --slurm}: writes an sbatch job-array script with one array task per pending run
 * (SLURM_ARRAY_TASK_ID picks the run; each task runs {@code sweep ... --only RUN} with this JVM's
 * java, class path and flags, in this working directory), submits it with sbatch and remembers
 * the job id, so that a rerun while the job is still queued or running is refused instead of
 * training runs twice. Runs whose init_from run is not done yet wait for the next submission.
 */
public final class SlurmSubmitter {
    /** Where the user wants the job to go; null = the cluster's default. */
    public record Options(String partition, String time, int cpusPerTask, List<String> setup, boolean dryRun) {}

    static final String SCRIPT = "slurm.sbatch", JOB_FILE = "slurm.jobid";

    private SlurmSubmitter() {}

    /** @return the submitted job id, or null when nothing was submitted (nothing pending, or a dry run) */
    public static String submit(SweepPlan plan, SweepState state, List<String> sweepArgs, Options o, PrintWriter out) {
        List<SweepPlan.Run> pending = new ArrayList<>(), later = new ArrayList<>();
        for (SweepPlan.Run r : plan.runs()) {
            if (state.isDone(r)) continue;
            boolean ready = r.initFrom() == null || RunResult.read(Path.of(r.config().run().initFrom())) != null;
            (ready ? pending : later).add(r);
        }
        if (pending.isEmpty()) {
            out.println(later.isEmpty() ? "nothing to submit: all " + plan.runs().size() + " runs are done"
                    : "nothing to submit yet: " + later.size() + " run(s) wait for their init_from runs, which are not done");
            out.flush();
            return null;
        }
        Path root = plan.root(), logs = root.resolve("logs");
        if (!o.dryRun()) refuseWhileQueued(root.resolve(JOB_FILE));
        try {
            Files.createDirectories(logs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + logs + ": " + e.getMessage(), e);
        }
        Path script = root.resolve(SCRIPT);
        RunFolder.writeAtomically(script, script(plan, pending, sweepArgs, o));
        out.printf(Locale.ROOT, "%s: %d array task(s), one per pending run; logs %s/slurm-<job>_<task>.log%n", script, pending.size(), logs);
        if (!later.isEmpty())
            out.printf(Locale.ROOT, "%d run(s) start from runs that are not done yet; submit again when this job has finished%n", later.size());
        if (o.dryRun()) {
            out.println("dry run: not submitted; submit with: sbatch " + script);
            out.flush();
            return null;
        }
        String reply = command(List.of("sbatch", "--parsable", script.toString()), "sbatch");
        String id = reply.strip().split(";")[0];
        if (!id.matches("\\d+")) throw new IllegalStateException("sbatch did not print a job id: '" + reply.strip() + "'");
        RunFolder.writeAtomically(root.resolve(JOB_FILE), id + "\n");
        out.printf(Locale.ROOT, "submitted job %s (%d array tasks); when it has finished: moe sweep ... --report-only%n", id, pending.size());
        out.flush();
        return id;
    }

    static String script(SweepPlan plan, List<SweepPlan.Run> runs, List<String> sweepArgs, Options o) {
        Path logs = plan.root().toAbsolutePath().resolve("logs");
        StringBuilder b = new StringBuilder("#!/bin/bash\n");
        b.append("#SBATCH --job-name=moe-").append(plan.file().name()).append('\n');
        b.append("#SBATCH --array=0-").append(runs.size() - 1).append('\n');
        b.append("#SBATCH --cpus-per-task=").append(o.cpusPerTask()).append('\n');
        b.append("#SBATCH --ntasks=1\n");
        if (o.partition() != null) b.append("#SBATCH --partition=").append(o.partition()).append('\n');
        if (o.time() != null) b.append("#SBATCH --time=").append(o.time()).append('\n');
        b.append("#SBATCH --chdir=").append(Path.of("").toAbsolutePath()).append('\n');
        b.append("#SBATCH --output=").append(logs).append("/slurm-%A_%a.log\n");
        b.append("# Written by moe sweep --slurm: one array task per run that was not done when it was submitted.\n");
        b.append("set -euo pipefail\n");
        b.append("RUNS=(");
        for (SweepPlan.Run r : runs) b.append(' ').append(quote(r.id()));
        b.append(" )\n");
        b.append("RUN=\"${RUNS[$SLURM_ARRAY_TASK_ID]}\"\n");
        b.append("echo \"run $RUN on $(hostname), array task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID\"\n");
        for (String s : o.setup()) b.append(s).append('\n');
        List<String> args = new ArrayList<>(sweepArgs);
        args.add("--only");
        List<String> cmd = ChildJvm.command(List.of("-Dmoelab.threads=" + o.cpusPerTask()), args);
        b.append("exec");
        for (String c : cmd) b.append(' ').append(quote(c));
        return b.append(" \"$RUN\"\n").toString();
    }

    /** A previous submission of this sweep that squeue still lists is running or queued: submitting again would train runs twice. */
    private static void refuseWhileQueued(Path jobFile) {
        if (!Files.isRegularFile(jobFile)) return;
        String id;
        try {
            id = Files.readString(jobFile).strip();
        } catch (IOException e) {
            return;
        }
        String listed;
        try {
            listed = command(List.of("squeue", "-h", "-j", id, "-o", "%i"), "squeue");
        } catch (IllegalStateException e) {
            return;                                                  // squeue no longer knows the job
        }
        if (!listed.isBlank())
            throw new IllegalStateException("job " + id + " of this sweep is still queued or running (squeue -j " + id
                    + "); wait for it to finish, or cancel it with scancel " + id + ", then submit again");
    }

    /** Runs a Slurm client command; its output, or a one-line error naming the command. */
    static String command(List<String> cmd, String what) {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException(what + " not found: --slurm needs the Slurm client commands on PATH (Debian: slurm-client)");
        }
        try {
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) { p.destroy(); throw new IllegalStateException(what + " did not answer within 60 s"); }
            if (p.exitValue() != 0) throw new IllegalStateException(what + " failed (exit " + p.exitValue() + "): " + text.strip());
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(what + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + " interrupted");
        }
    }

    /** Single-quoted for bash. */
    static String quote(String s) {
        return s.matches("[A-Za-z0-9_./=:@%+,-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
