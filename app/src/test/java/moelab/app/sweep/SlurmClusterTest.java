package moelab.app.sweep;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static moelab.app.sweep.SweepTest.run;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code sweep --slurm} on a real single-node Slurm cluster started on this machine (slurmctld +
 * slurmd on free ports, munge for authentication): the smoke sweep goes through sbatch as a job
 * array, then --report-only collects it. Skips where the slurm-wlm and munge packages are missing.
 */
class SlurmClusterTest {
    @Test
    void dryRunWritesOneArrayTaskPerPendingRun(@TempDir Path tmp) throws Exception {
        SweepTest.Run r = run("sweep", "--named", "smoke", "--out", tmp.toString(), "--set", "data.path=../data/sample",
                "--slurm", "--dry-run", "--partition", "short", "--time", "0:10:00", "--slurm-setup", "module load java/25");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("dry run: not submitted"), r.out());
        String s = Files.readString(tmp.resolve("smoke").resolve(SlurmSubmitter.SCRIPT));
        for (String line : List.of("#SBATCH --array=0-1", "#SBATCH --partition=short", "#SBATCH --time=0:10:00", "#SBATCH --cpus-per-task=1",
                "RUNS=( lbl-micro_batch-s1 lbl-sequence-s1 )", "module load java/25", "moelab.app.Main sweep --named smoke", "--only \"$RUN\""))
            assertTrue(s.contains(line), "missing '" + line + "' in\n" + s);
        SweepTest.Run bad = run("sweep", "--named", "smoke", "--out", tmp.toString(), "--partition", "short");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("go with --slurm"), bad.err());
    }

    @Test
    void tinySweepThroughSbatchOnASingleNodeCluster(@TempDir Path tmp) throws Exception {
        for (String bin : List.of("/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch", "/usr/bin/squeue"))
            assumeTrue(Files.isExecutable(Path.of(bin)), bin + " not found: install the Debian packages slurm-wlm and munge to run this test");
        assumeTrue("root".equals(System.getProperty("user.name")), "starting munged and slurmd needs root (SlurmUser=root)");
        List<Long> started = new ArrayList<>();
        Path conf = tmp.resolve("slurm.conf");
        try {
            if (sh(List.of("bash", "-c", "munge -n | unmunge"), null, 10) != 0) {         // no munged running here: start ours
                assertEquals(0, sh(List.of("install", "-d", "-o", "munge", "-g", "munge", "/run/munge"), null, 10));
                assertEquals(0, sh(List.of("runuser", "-u", "munge", "--", "/usr/sbin/munged"), null, 10));
                started.add(Long.parseLong(Files.readString(Path.of("/run/munge/munged.pid")).strip()));
            }
            String host = new String(new ProcessBuilder("hostname", "-s").start().getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            Files.createDirectories(tmp.resolve("state"));
            Files.createDirectories(tmp.resolve("spool"));
            Files.writeString(conf, String.join("\n",
                    "ClusterName=moetest", "SlurmctldHost=" + host, "SlurmUser=root", "AuthType=auth/munge",
                    "SlurmctldPort=" + freePort(), "SlurmdPort=" + freePort(),
                    "StateSaveLocation=" + tmp.resolve("state"), "SlurmdSpoolDir=" + tmp.resolve("spool"),
                    "SlurmctldPidFile=" + tmp.resolve("slurmctld.pid"), "SlurmdPidFile=" + tmp.resolve("slurmd.pid"),
                    "SlurmctldLogFile=" + tmp.resolve("slurmctld.log"), "SlurmdLogFile=" + tmp.resolve("slurmd.log"),
                    "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "JobAcctGatherType=jobacct_gather/none",
                    "AccountingStorageType=accounting_storage/none", "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core",
                    "MpiDefault=none", "ReturnToService=2",
                    "NodeName=" + host + " CPUs=" + Runtime.getRuntime().availableProcessors() + " State=UNKNOWN",
                    "PartitionName=test Nodes=" + host + " Default=YES MaxTime=INFINITE State=UP") + "\n");
            assertEquals(0, sh(List.of("/usr/sbin/slurmctld", "-f", conf.toString()), conf, 30), "slurmctld: " + log(tmp.resolve("slurmctld.log")));
            started.add(pid(tmp.resolve("slurmctld.pid")));
            assertEquals(0, sh(List.of("/usr/sbin/slurmd", "-f", conf.toString()), conf, 30), "slurmd: " + log(tmp.resolve("slurmd.log")));
            started.add(pid(tmp.resolve("slurmd.pid")));
            long t0 = System.nanoTime();

            Path out = tmp.resolve("out");
            List<String> sweep = List.of("sweep", "--named", "smoke", "--out", out.toString(), "--set", "data.path=../data/sample");
            List<String> submit = new ArrayList<>(sweep);
            submit.addAll(List.of("--slurm", "--partition", "test", "--time", "0:10:00"));
            Cli s = cli(submit, conf);
            assertEquals(0, s.exit(), s.out());
            Matcher m = Pattern.compile("submitted job (\\d+) \\(2 array tasks\\)").matcher(s.out());
            assertTrue(m.find(), s.out());
            String job = m.group(1);
            Cli again = cli(submit, conf);                               // still queued or running: no second submission
            if (again.exit() == 0) assertTrue(again.out().contains("nothing to submit"), again.out());
            else assertTrue(again.out().contains("job " + job + " of this sweep is still queued or running"), again.out());

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (!squeue(job, conf).isBlank()) {
                assertTrue(System.nanoTime() < deadline, "job " + job + " did not finish in 240 s: " + squeue(job, conf));
                Thread.sleep(500);
            }
            System.out.printf("smoke sweep through sbatch (2 array tasks) took %.1f s after the cluster came up%n", (System.nanoTime() - t0) / 1e9);
            for (String task : List.of("0", "1")) {
                Path taskLog = out.resolve("smoke/logs/slurm-" + job + "_" + task + ".log");
                assertTrue(Files.readString(taskLog).contains("eval @ step 4"), taskLog + ":\n" + log(taskLog));
            }
            SweepTest.Run rep = run("sweep", "--named", "smoke", "--out", out.toString(), "--set", "data.path=../data/sample", "--report-only");
            assertEquals(0, rep.exit(), rep.err());
            String md = Files.readString(out.resolve("smoke/results.md"));
            assertTrue(md.contains("| lbl-micro_batch | 1 |") && md.contains("| lbl-sequence | 1 |"), md);
            Cli done = cli(submit, conf);
            assertEquals(0, done.exit(), done.out());
            assertTrue(done.out().contains("nothing to submit: all 2 runs are done"), done.out());
        } finally {
            for (int i = started.size() - 1; i >= 0; i--)                   // and wait: slurmctld saves its state as it stops
                ProcessHandle.of(started.get(i)).ifPresent(h -> {
                    h.destroy();
                    try {
                        h.onExit().get(20, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        h.destroyForcibly();
                    }
                });
        }
    }

    record Cli(int exit, String out) {}

    /** The command line in a new JVM whose environment points the Slurm clients at the test cluster. */
    static Cli cli(List<String> args, Path conf) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(ChildJvm.command(List.of(), args)).redirectErrorStream(true);
        pb.environment().put("SLURM_CONF", conf.toString());
        Process p = pb.start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new Cli(p.exitValue(), text);
    }

    static String squeue(String job, Path conf) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("squeue", "-h", "-j", job, "-o", "%i %T").redirectErrorStream(true);
        pb.environment().put("SLURM_CONF", conf.toString());
        Process p = pb.start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return p.exitValue() == 0 ? text : "";                           // exit 1: the job is gone
    }

    static int sh(List<String> cmd, Path conf, int timeoutSec) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        if (conf != null) pb.environment().put("SLURM_CONF", conf.toString());
        Process p = pb.start();
        assertTrue(p.waitFor(timeoutSec, TimeUnit.SECONDS), cmd + " did not return");
        return p.exitValue();
    }

    static long pid(Path pidFile) throws Exception {
        for (int i = 0; i < 50 && !Files.isRegularFile(pidFile); i++) Thread.sleep(100);
        return Long.parseLong(Files.readString(pidFile).strip());
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) { return s.getLocalPort(); }
    }

    static String log(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            return "(no " + f + ")";
        }
    }
}
