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
    void etaFromTheRunsPaceAfterTheWarmUp() {
        assertEquals(20, SweepProgress.lastStep("""
                step  1/40 | loss 5.6 | lr 6.00e-04 | 1.8k tok/s | ETA ? | load L0 1-6% mv0.85
                eval @ step 10: val loss 4.1
                step 20/40 | loss 4.2 | lr 2.07e-03 | 25.0k tok/s | ETA 1m04s | load L0 0-12% mv2.73
                """));
        assertEquals(0, SweepProgress.lastStep("data: data/sample, 8 domains"));
        SweepProgress p = new SweepProgress(2);
        var a = new SweepProgress.Sample("a", 1, 100);
        assertTrue(Double.isNaN(p.eta(5, List.of(a), 200)), "no pace during the warm-up");
        assertTrue(Double.isNaN(p.eta(20, List.of(new SweepProgress.Sample("a", 10, 100), new SweepProgress.Sample("b", 10, 100)), 200)));
        // from step 10 at t = 20 s: a reaches step 30 at t = 40 s (1 s/step), b step 20 (2 s/step); 200 steps wait
        var later = List.of(new SweepProgress.Sample("a", 30, 100), new SweepProgress.Sample("b", 20, 100));
        assertEquals(1.0, p.pace(40, later.get(0)), 1e-12);
        assertEquals((70 * 1.0 + 80 * 2.0 + 200 * 1.5) / 2, p.eta(40, later, 200), 1e-9);
        assertEquals(160, p.eta(40, later, 0), 1e-9, "never less than the slowest active run");
        assertEquals(0, new SweepProgress(2).eta(0, List.of(), 0));
    }
}
