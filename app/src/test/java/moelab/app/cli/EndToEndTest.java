package moelab.app.cli;

import moelab.train.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static moelab.app.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The whole command line on the committed sample with a tiny model: train, resume, eval,
 * inspect, generate, export. Resume through the CLI must end with the same weights as a
 * straight run.
 */
class EndToEndTest {
    static final String[] TINY = {
            "--set", "data.path=../data/sample", "--set", "model.d_model=16", "--set", "model.heads=2",
            "--set", "model.layers=2", "--set", "model.d_ff=32", "--set", "model.moe.d_ff=16",
            "--set", "model.moe.experts=4", "--set", "model.max_seq_len=32", "--set", "train.seq_len=32",
            "--set", "train.micro_batch=2", "--set", "train.steps=4", "--set", "train.warmup_steps=1",
            "--set", "train.eval_every=2", "--set", "train.eval_batches=2", "--set", "train.checkpoint_every=2",
            "--set", "run.threads=1"};

    static String[] args(String[] head, String... tail) {
        List<String> a = new ArrayList<>(Arrays.asList(head));
        a.addAll(Arrays.asList(TINY));
        a.addAll(Arrays.asList(tail));
        return a.toArray(String[]::new);
    }

    @Test
    void trainResumeEvalInspectGenerateExport(@TempDir Path tmp) throws Exception {
        Path straight = tmp.resolve("straight"), resumed = tmp.resolve("resumed");
        MainTest.Run a = run(args(new String[]{"train", "--run-dir", straight.toString()}));
        assertEquals(0, a.exit(), a.err());
        assertTrue(a.out().contains("unigram entropy"), a.out());
        for (String f : new String[]{"config.yaml", "metrics.jsonl", "metrics.csv", "eval.jsonl", "index.html",
                "checkpoints/step-00000002.ckpt", "checkpoints/step-00000004.ckpt", "plots/loss.png"})
            assertTrue(Files.exists(straight.resolve(f)), f + " missing");

        // resume: train 2 steps into another folder, then continue from its step-2 checkpoint
        MainTest.Run half = run(args(new String[]{"train", "--run-dir", resumed.toString()}, "--set", "train.steps=4",
                "--set", "train.checkpoint_every=2"));
        assertEquals(0, half.exit(), half.err());
        Path ckpt2 = resumed.resolve("checkpoints/step-00000002.ckpt");
        // drop the later checkpoint so only the resume can produce it again
        Files.delete(resumed.resolve("checkpoints/step-00000004.ckpt"));
        MainTest.Run rest = run(args(new String[]{"train", "--run-dir", resumed.toString(), "--resume", ckpt2.toString()}));
        assertEquals(0, rest.exit(), rest.err());
        Path outA = tmp.resolve("a.safetensors"), outB = tmp.resolve("b.safetensors");
        assertEquals(0, run("export", "--checkpoint", straight.resolve("checkpoints/step-00000004.ckpt").toString(), "--out", outA.toString()).exit());
        assertEquals(0, run("export", "--checkpoint", resumed.resolve("checkpoints/step-00000004.ckpt").toString(), "--out", outB.toString()).exit());
        var ta = SafeTensors.read(outA).tensors();
        var tb = SafeTensors.read(outB).tensors();
        assertEquals(ta.keySet(), tb.keySet());
        for (String name : ta.keySet())
            assertArrayEquals(ta.get(name).data(), tb.get(name).data(), "resumed weights differ in " + name);

        Path last = straight.resolve("checkpoints/step-00000004.ckpt");
        MainTest.Run ev = run("eval", "--checkpoint", last.toString());
        assertEquals(0, ev.exit(), ev.err());
        assertTrue(ev.out().toLowerCase().contains("loss"), ev.out());
        MainTest.Run in = run("inspect", "--checkpoint", last.toString(), "--text", "Hallo Welt");
        assertEquals(0, in.exit(), in.err());
        MainTest.Run gen = run("generate", "--checkpoint", last.toString(), "--prompt", "The ", "--tokens", "8");
        assertEquals(0, gen.exit(), gen.err());

        // an exported file starts a new run: one step at a negligible learning rate keeps the exported weights
        Path fromFile = tmp.resolve("from-file");
        MainTest.Run init = run(args(new String[]{"train", "--run-dir", fromFile.toString(), "--init-from", outA.toString()},
                "--set", "train.steps=1", "--set", "train.lr=1e-9", "--set", "train.min_lr=0", "--set", "train.warmup_steps=0"));
        assertEquals(0, init.exit(), init.err());
        Path outC = tmp.resolve("c.safetensors");
        assertEquals(0, run("export", "--checkpoint", fromFile.resolve("checkpoints/step-00000001.ckpt").toString(), "--out", outC.toString()).exit());
        var tc = SafeTensors.read(outC).tensors();
        for (String name : ta.keySet())
            assertArrayEquals(ta.get(name).data(), tc.get(name).data(), 1e-6f, "weights from --init-from differ in " + name);
    }
}
