package moelab.app.cli;

import moelab.app.tensorboard.EventFileWriter;
import moelab.app.tensorboard.proto.Event;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static moelab.app.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The step convention across a run folder's files, a resume from a run folder that cuts the
 * metric and event files back to its checkpoint, run folders as --checkpoint, export beside the
 * checkpoint, and the Ctrl-C path (through the flag the signal handler sets).
 */
class CheckpointArgumentsTest {
    static List<Long> csvSteps(Path csv) throws Exception {
        List<String> lines = Files.readAllLines(csv);
        return lines.subList(1, lines.size()).stream().map(l -> Long.parseLong(l.split(",")[0])).toList();
    }

    static List<Long> eventSteps(Path runDir, String tag) {
        List<Long> steps = new ArrayList<>();
        for (Path f : EventFileWriter.eventFiles(runDir))
            for (Event e : EventFileWriter.read(f))
                if (e.hasSummary() && e.getSummary().getValueList().stream().anyMatch(v -> v.getTag().equals(tag))) steps.add(e.getStep());
        return steps;
    }

    @Test
    void oneStepConventionAndResumeFromARunFolderLogsEachStepOnce(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        MainTest.Run a = run(EndToEndTest.args(new String[]{"train", "--run-dir", dir.toString()}));
        assertEquals(0, a.exit(), a.err());
        // steps count optimizer updates done: 1..4 everywhere, evals and checkpoints at 2 and 4
        assertEquals(List.of(1L, 2L, 3L, 4L), csvSteps(dir.resolve("metrics.csv")));
        assertEquals(List.of(2L, 4L), csvSteps(dir.resolve("eval.csv")));
        // (the console's "step N/4" and "eval @ step N" lines: ProgressLineTest)
        assertEquals(List.of(1L, 2L, 3L, 4L), eventSteps(dir, "train/loss"));
        assertEquals(List.of(2L, 4L), eventSteps(dir, "eval/val_loss"));
        assertEquals(List.of(4L), eventSteps(dir, "plots/loss"));

        // as if interrupted after step 4 but before its checkpoint: resume the run folder from step 2
        Files.delete(dir.resolve("checkpoints/step-00000004.ckpt"));
        MainTest.Run b = run("train", "--resume", dir.toString());
        assertEquals(0, b.exit(), b.err());
        assertTrue(b.out().contains("resuming run " + dir + " from " + dir.resolve("checkpoints/step-00000002.ckpt")
                + ": 2 of 4 steps done"), b.out());
        assertEquals(List.of(1L, 2L, 3L, 4L), csvSteps(dir.resolve("metrics.csv")), "no step twice");
        assertEquals(List.of(2L, 4L), csvSteps(dir.resolve("eval.csv")));
        assertEquals(4, Files.readAllLines(dir.resolve("metrics.jsonl")).size());
        assertEquals(List.of(1L, 2L, 3L, 4L), eventSteps(dir, "train/loss"), "the first run's steps 3, 4 left its event file");
        assertEquals(List.of(4L), eventSteps(dir, "plots/loss"));
        assertTrue(Files.exists(dir.resolve("checkpoints/step-00000004.ckpt")));

        // a run folder stands for its latest checkpoint; export writes beside it by default
        MainTest.Run ev = run("eval", "--checkpoint", dir.toString());
        assertEquals(0, ev.exit(), ev.err());
        MainTest.Run ex = run("export", "--checkpoint", dir.toString());
        assertEquals(0, ex.exit(), ex.err());
        assertTrue(Files.exists(dir.resolve("checkpoints/step-00000004.safetensors")), ex.out());
        MainTest.Run in = run("inspect", "--checkpoint", dir.resolve("checkpoints").toString(), "--text", "ab");
        assertEquals(0, in.exit(), in.err());
    }

    @Test
    void aMissingCheckpointOrEmptyRunFolderIsOneLineNamingTheOption(@TempDir Path tmp) throws Exception {
        MainTest.Run r = run("eval", "--checkpoint", tmp.resolve("nope").toString());
        assertEquals(2, r.exit());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("--checkpoint: no checkpoint file or run folder " + tmp.resolve("nope")), r.err());
        Files.createDirectories(tmp.resolve("empty/checkpoints"));
        MainTest.Run e = run("train", "--resume", tmp.resolve("empty").toString());
        assertEquals(2, e.exit());
        assertTrue(e.err().contains("--resume: no checkpoint (step-N.ckpt) in " + tmp.resolve("empty/checkpoints")), e.err());
    }

    @Test
    void ctrlCFinishesTheStepCheckpointsItAndPrintsTheResumeCommand(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        CommandLine cl = moelab.app.Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        TrainCommand train = cl.getSubcommands().get("train").getCommand();
        int[] exit = {-1};
        Thread t = new Thread(() -> exit[0] = cl.execute(EndToEndTest.args(new String[]{"train", "--run-dir", dir.toString()},
                "--set", "train.steps=100000", "--set", "train.checkpoint_every=1000")));
        t.start();
        Path csv = dir.resolve("metrics.csv");
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!(Files.exists(csv) && Files.readAllLines(csv).size() > 3)) {
            assertTrue(System.nanoTime() < deadline && t.isAlive(), "training did not get going: " + err);
            Thread.sleep(20);
        }
        train.stop.request();                                           // what SIGINT does
        t.join(120_000);
        assertFalse(t.isAlive());
        assertEquals(StopSignal.EXIT_INTERRUPTED, exit[0], err.toString());
        List<Long> steps = csvSteps(csv);
        long last = steps.getLast();
        assertEquals(LongStream.rangeClosed(1, last).boxed().toList(), steps);
        Path ckpt = dir.resolve("checkpoints/" + moelab.train.Checkpoint.fileName(last));
        assertTrue(Files.exists(ckpt), "the finished step is checkpointed: " + ckpt);
        assertTrue(out.toString().contains("last checkpoint: " + ckpt + "; resume with: ./moe train --resume " + dir), out.toString());
        assertTrue(Files.exists(dir.resolve("index.html")), "the report is written on the way out");
    }
}
