package moelab.app.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static moelab.app.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code mpirun -np 2 moe train} against one process on the same global batch (4 sequences of 32
 * tokens, 2 per rank), tiny model, 20 steps: the losses agree within {@link #TOLERANCE} (the
 * gradient sums run in another order) and the routing counts per layer and step are the same.
 * Skipped where Open MPI's mpirun is not installed (.ci/run installs it).
 */
class DataParallelTest {
    /** Absolute, on losses near 5.5 (~2e-6 relative): float32 sums in another order over 20 AdamW steps. */
    static final double TOLERANCE = 1e-5;

    static final String MPIRUN = "/usr/bin/mpirun";

    static final String[] TINY = {
            "--set", "data.path=../data/sample", "--set", "model.d_model=16", "--set", "model.heads=2",
            "--set", "model.layers=2", "--set", "model.d_ff=32", "--set", "model.moe.d_ff=16",
            "--set", "model.moe.experts=4", "--set", "model.max_seq_len=32", "--set", "train.seq_len=32",
            "--set", "train.micro_batch=4", "--set", "train.steps=20", "--set", "train.warmup_steps=2",
            "--set", "train.eval_every=0", "--set", "train.eval_batches=2", "--set", "train.checkpoint_every=10",
            "--set", "run.threads=1"};

    @Test
    void lblAtGlobalScopeOnTwoRanksEqualsOneProcessAndResumesOnlyOnTwo(@TempDir Path tmp) throws Exception {
        String[] sets = {"model.moe.balance.method=lbl", "model.moe.balance.scope=global"};
        sameAsOneProcess(tmp, sets);
        Path ckpt = tmp.resolve("two/checkpoints/step-00000020.ckpt");
        MainTest.Run r = run(argv(List.of("train", "--resume", ckpt.toString()), sets));
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.err().contains("was written by a run of 2 data-parallel ranks, this run has 1 process: resume it with the same count (mpirun -np 2)"), r.err());
        assertEquals(1, r.err().strip().lines().filter(x -> x.startsWith("error")).count(), r.err());
    }

    @Test
    void ebAtGlobalScopeOnTwoRanksEqualsOneProcess(@TempDir Path tmp) throws Exception {
        sameAsOneProcess(tmp, "model.moe.balance.method=eb", "model.moe.balance.scope=global", "model.moe.balance.bias_rate=0.01");
    }

    private void sameAsOneProcess(Path tmp, String... sets) throws Exception {
        assumeMpi();
        Path one = tmp.resolve("one"), two = tmp.resolve("two");
        MainTest.Run r = run(argv(List.of("train", "--run-dir", one.toString()), sets));
        assertEquals(0, r.exit(), r.err());
        Mpi m = mpirun(2, tmp.resolve("two.log"), args(List.of("train", "--run-dir", two.toString()), sets));
        assertEquals(0, m.waitFor(120), m.log());
        assertTrue(m.log().contains("data parallel: 2 ranks"), m.log());

        List<JsonNode> a = lines(one.resolve("metrics.jsonl")), b = lines(two.resolve("metrics.jsonl"));
        assertEquals(20, a.size());
        assertEquals(20, b.size(), "rank 0 alone writes one line per step");
        for (int s = 0; s < 20; s++) {
            for (String key : List.of("loss", "lm_loss", "aux_loss"))
                assertEquals(a.get(s).get(key).asDouble(), b.get(s).get(key).asDouble(), TOLERANCE, "step " + s + " " + key);
            assertEquals(a.get(s).get("layers").size(), b.get(s).get("layers").size());
            for (int l = 0; l < a.get(s).get("layers").size(); l++)    // load = requested routes / (k T): the counts of the global batch
                assertEquals(a.get(s).get("layers").get(l).get("load").toString(), b.get(s).get("layers").get(l).get("load").toString(),
                        "step " + s + " layer " + l + " routing counts");
        }
        assertTrue(Files.exists(two.resolve("checkpoints/step-00000020.ckpt")));
    }

    @Test
    void aRankThatDiesStopsTheOthers(@TempDir Path tmp) throws Exception {
        assumeMpi();
        Path dir = tmp.resolve("run");
        Mpi m = mpirun(2, tmp.resolve("dies.log"), args(List.of("train", "--run-dir", dir.toString()), "train.steps=100000"));
        Path metrics = dir.resolve("metrics.jsonl");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!(Files.exists(metrics) && Files.size(metrics) > 0) && System.nanoTime() < until && m.process.isAlive()) Thread.sleep(200);
        assertTrue(Files.exists(metrics) && Files.size(metrics) > 0, "training never started: " + m.log());
        ProcessHandle rank1 = m.process.descendants().filter(p -> rankOf(p) == 1).findFirst()
                .orElseThrow(() -> new AssertionError("rank 1 not found among mpirun's processes"));
        assertTrue(rank1.destroyForcibly());
        int exit = m.waitFor(60);                 // rank 0 waits in an all-reduce: the launcher must end it, not leave it hanging
        assertNotEquals(0, exit, m.log());
        assertTrue(m.process.descendants().noneMatch(ProcessHandle::isAlive), "ranks still running after mpirun ended");
    }

    @Test
    void askingForMpiWithoutTheLibraryIsOneLine(@TempDir Path tmp) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "moelab.app.Main"));
        cmd.addAll(args(List.of("train", "--run-dir", tmp.resolve("run").toString())));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("log").toFile());
        pb.environment().put("MOELAB_MPI", "1");
        pb.environment().put("MOELAB_MPI_LIB", tmp.resolve("no-libmpi.so.40").toString());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "still running");
        String log = Files.readString(tmp.resolve("log"));
        assertEquals(8, p.exitValue(), log);
        List<String> errors = log.lines().filter(x -> x.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), log);
        assertTrue(errors.get(0).contains("no Open MPI library found; tried " + tmp.resolve("no-libmpi.so.40"))
                && errors.get(0).contains("apt-get install openmpi-bin libopenmpi-dev"), log);
        assertFalse(log.contains("\tat "), log);
        assertFalse(Files.exists(tmp.resolve("run")), "no run folder for a run that cannot start");
    }

    // ---------------------------------------------------------------- helpers

    private static void assumeMpi() {
        assumeTrue(Files.isExecutable(Path.of(MPIRUN)), MPIRUN + " not found: install the Debian packages openmpi-bin libopenmpi-dev to run this test");
    }

    private static List<String> args(List<String> head, String... sets) {
        List<String> a = new ArrayList<>(head);
        a.addAll(Arrays.asList(TINY));
        for (String s : sets) { a.add("--set"); a.add(s); }
        return a;
    }

    private static String[] argv(List<String> head, String... sets) { return args(head, sets).toArray(String[]::new); }

    private static List<JsonNode> lines(Path jsonl) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) if (!line.isBlank()) out.add(json.readTree(line));
        return out;
    }

    /** OMPI_COMM_WORLD_RANK from a process's environment, -1 when it is no rank (or unreadable). */
    private static int rankOf(ProcessHandle p) {
        try {
            for (String kv : new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ"))).split("\0"))
                if (kv.startsWith("OMPI_COMM_WORLD_RANK=")) return Integer.parseInt(kv.substring(kv.indexOf('=') + 1));
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }

    record Mpi(Process process, Path logFile) {
        int waitFor(int seconds) throws Exception {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                fail("mpirun still running after " + seconds + " s: " + log());
            }
            return process.exitValue();
        }

        String log() {
            try { return Files.readString(logFile); } catch (Exception e) { return "(no log: " + e + ")"; }
        }
    }

    /** mpirun -np N java [engine flags] -cp [this class path] moelab.app.Main args, output into log. */
    private static Mpi mpirun(int ranks, Path log, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(MPIRUN, "--allow-run-as-root", "--oversubscribe", "-np", Integer.toString(ranks),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "moelab.app.Main"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("MOELAB_MPI");
        return new Mpi(pb.start(), log);
    }
}
