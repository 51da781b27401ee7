package moelab.app.sweep;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static moelab.app.sweep.SweepTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** --jobs N: runs in child JVMs, the same bits as one after another, resumable, with progress and ETA. */
class SweepParallelTest {
    static final List<String> RUNS = List.of("lbl-micro_batch-s1", "lbl-sequence-s1");
    static final String CKPT = "checkpoints/step-00000004.ckpt";

    static String[] args(Path out, String jobs) {
        return new String[]{"sweep", "--named", "smoke", "--out", out.toString(), "--set", "data.path=../data/sample",
                "--jobs", jobs, "--status-every", "1"};
    }

    @Test
    void twoJobsGiveTheSameBitsAsOneAndResume(@TempDir Path tmp) throws Exception {
        Path seq = tmp.resolve("seq"), par = tmp.resolve("par");
        SweepTest.Run a = run(args(seq, "1"));
        assertEquals(0, a.exit(), a.err() + a.out());
        long t0 = System.nanoTime();
        SweepTest.Run b = run(args(par, "2"));
        System.out.printf("smoke sweep with --jobs 2 took %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertEquals(0, b.exit(), b.err() + b.out());
        assertTrue(b.out().contains("2 at once"), b.out());
        for (String id : RUNS) assertTrue(b.out().contains("started  " + id) && b.out().contains("finished " + id), b.out());
        assertTrue(b.out().matches("(?s).*2/2 runs done, 0 running, 0 waiting; 100% of 8 steps; ETA \\d+:\\d\\d:\\d\\d.*"), b.out());
        assertTrue(b.out().contains("report: "), b.out());
        for (String id : RUNS) {
            Path s = seq.resolve("smoke/runs").resolve(id), p = par.resolve("smoke/runs").resolve(id);
            assertEquals(RunResult.read(s).values(), RunResult.read(p).values(), id + ": final metrics");
            assertArrayEquals(Files.readAllBytes(s.resolve(CKPT)), Files.readAllBytes(p.resolve(CKPT)), id + ": final checkpoint bytes");
            assertTrue(Files.readString(par.resolve("smoke/logs").resolve(id + ".log")).contains("eval @ step 4"), id + " log");
        }

        // both runs interrupted (one before its first checkpoint): the rerun resumes each, bit-exact
        Path p1 = par.resolve("smoke/runs").resolve(RUNS.get(0)), p2 = par.resolve("smoke/runs").resolve(RUNS.get(1));
        byte[] final1 = Files.readAllBytes(p1.resolve(CKPT));
        for (Path p : List.of(p1, p2)) { Files.delete(p.resolve(RunResult.FILE)); Files.delete(p.resolve(CKPT)); }
        Files.delete(p2.resolve("checkpoints/step-00000002.ckpt"));
        SweepTest.Run c = run(args(par, "2"));
        assertEquals(0, c.exit(), c.err() + c.out());
        assertTrue(c.out().contains("0 runs done, 2 to train"), c.out());
        assertTrue(Files.readString(par.resolve("smoke/logs").resolve(RUNS.get(0) + ".log")).contains("resuming from step-00000002.ckpt"));
        assertArrayEquals(final1, Files.readAllBytes(p1.resolve(CKPT)), "resumed run ends on the same bytes");
        for (String id : RUNS)
            assertEquals(withoutSinceLastEval(RunResult.read(seq.resolve("smoke/runs").resolve(id)).values()),
                    withoutSinceLastEval(RunResult.read(par.resolve("smoke/runs").resolve(id)).values()), id + " after resume");
    }

    /** Drops the MAR probe's "since the previous evaluation" metrics: that previous evaluation lives in memory, not in checkpoints. */
    static java.util.Map<String, Double> withoutSinceLastEval(java.util.Map<String, Double> v) {
        java.util.Map<String, Double> m = new java.util.TreeMap<>(v);
        m.keySet().removeIf(k -> k.startsWith("mar.switch_rate") || k.startsWith("mar.consistency"));
        assertTrue(m.containsKey("val_loss") && m.containsKey("purity"));
        return m;
    }

    @Test
    void defaultJobsFollowTheRunsThreadBudget(@TempDir Path tmp) {
        SweepPlan p = SweepTest.plan("name: j\nseeds: [1]\nset: {run.threads: 2}\ngrid: [{train.lr: [0.1, 0.2]}]\n", tmp);
        assertEquals(4, SweepCommand.defaultJobs(p, 8));
        assertEquals(1, SweepCommand.defaultJobs(p, 3));
        SweepPlan all = SweepTest.plan("name: j\nseeds: [1]\ngrid: [{train.lr: [0.1, 0.2]}]\n", tmp);
        assertEquals(1, SweepCommand.defaultJobs(all, 8), "run.threads 0 = all cores: one at a time");
        assertEquals("1:02:03", SweepProgress.hms(3723));
        assertEquals("?", SweepProgress.hms(Double.NaN));
    }

    @Test
    void etaFromTheRunsProgressLines() {
        SweepProgress.RunStatus st = SweepProgress.parse("""
                step  1/40 | loss 5.6 | lr 6.00e-04 | 1.8k tok/s | ETA ? | load L0 1-6% mv0.85
                eval @ step 10: val loss 4.1
                step 20/40 | loss 4.2 | lr 2.07e-03 | 25.0k tok/s | ETA 1m04s | load L0 0-12% mv2.73
                """);
        assertEquals(new SweepProgress.RunStatus(20, 64), st);
        assertTrue(Double.isNaN(SweepProgress.parse("step   1/200 | loss 5.6 | lr 1.50e-04 | 207 tok/s | ETA 1h06m | load").etaSec()),
                "the first step's ETA (JIT warm-up) is not used");
        assertEquals(7260, SweepProgress.seconds("2h01m"));
        assertTrue(Double.isNaN(SweepProgress.seconds("?")));
        SweepProgress p = new SweepProgress(2);
        assertTrue(Double.isNaN(p.eta(List.of(10.0), List.of(new SweepProgress.RunStatus(0, Double.NaN)), 3)), "unknown until every active run knows");
        // two active runs 30 s in with 30 s and 10 s left (lengths 60 and 40, mean 50), 2 waiting: (40 + 2 x 50) / 2 jobs
        var two = List.of(new SweepProgress.RunStatus(5, 30), new SweepProgress.RunStatus(9, 10));
        assertEquals(70, p.eta(List.of(30.0, 30.0), two, 2), 1e-9);
        assertEquals(30, p.eta(List.of(30.0, 30.0), two, 0), 1e-9, "never less than the longest active run");
    }
}
