package moelab.app.cli;

import moelab.app.ErrorKind;
import moelab.app.config.ConfigLoader;
import moelab.app.config.RunConfig;
import moelab.data.Batch;
import moelab.data.BatchSource;
import moelab.nn.Transformer;
import moelab.train.SafeTensors;
import moelab.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static moelab.app.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** Every error a user can cause ends in one line naming the file, with its kind's exit status; --debug adds the trace. */
class ErrorLinesTest {
    @TempDir Path tmp;

    static final String[] TINY = {"model.d_model=16", "model.heads=2", "model.layers=2", "model.d_ff=32",
            "model.moe.d_ff=16", "model.moe.experts=4", "model.max_seq_len=32", "train.seq_len=32", "run.threads=1", "run.kernels=scalar"};

    static RunConfig tiny(String... more) {
        List<String> s = new ArrayList<>(List.of(TINY));
        s.addAll(List.of(more));
        return ConfigLoader.load(null, s);
    }

    /** --set arguments for the tiny config plus more. */
    static List<String> sets(String... more) {
        List<String> a = new ArrayList<>();
        for (String s : TINY) { a.add("--set"); a.add(s); }
        for (String s : more) { a.add("--set"); a.add(s); }
        return a;
    }

    /** A real checkpoint of the tiny config, its config text stored inside. */
    Path checkpoint(String name) {
        RunConfig cfg = tiny();
        Path f = tmp.resolve(name);
        new Trainer(new Transformer(cfg.model(), 1), cfg.train(), new BatchSource() {
            @Override public Batch next() { throw new IllegalStateException(); }
            @Override public byte[] saveState() { return new byte[0]; }
            @Override public void restoreState(byte[] s) { }
        }, List.of(), List.of(), List.of()).saveCheckpoint(f, ConfigLoader.toYaml(cfg));
        return f;
    }

    private static void oneLine(MainTest.Run r, ErrorKind kind, String... fragments) {
        assertEquals(kind.exitCode, r.exit(), r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line, got:\n" + err);
        assertTrue(err.startsWith(kind.label + ": "), err);
        for (String f : fragments) assertTrue(err.contains(f), "'" + f + "' missing from: " + err);
    }

    private static String[] args(List<String> head, List<String> tail) {
        List<String> a = new ArrayList<>(head);
        a.addAll(tail);
        return a.toArray(String[]::new);
    }

    @Test
    void damagedCheckpointsGiveOneLineEverywhere() throws Exception {
        Path good = checkpoint("good.ckpt");
        byte[] bytes = Files.readAllBytes(good);
        Path truncated = Files.write(tmp.resolve("truncated.ckpt"), Arrays.copyOf(bytes, bytes.length / 2));
        byte[] flipped = bytes.clone();
        flipped[bytes.length / 2] ^= 0x10;
        Path corrupt = Files.write(tmp.resolve("flipped.ckpt"), flipped);
        Path text = Files.writeString(tmp.resolve("notes.ckpt"), "not a checkpoint at all");

        oneLine(run("eval", "--checkpoint", truncated.toString()), ErrorKind.CHECKPOINT, truncated.toString(), "truncated");
        oneLine(run("eval", "--checkpoint", corrupt.toString()), ErrorKind.CHECKPOINT, corrupt.toString(), "CRC32 mismatch");
        oneLine(run("eval", "--checkpoint", text.toString()), ErrorKind.CHECKPOINT, text.toString(), "not a moe-routing-lab checkpoint");
        oneLine(run("train", "--resume", corrupt.toString(), "--run-dir", tmp.resolve("r1").toString()), ErrorKind.CHECKPOINT, "CRC32 mismatch");
        oneLine(run(args(List.of("train", "--run-dir", tmp.resolve("r2").toString()), sets("run.init_from=" + truncated))),
                ErrorKind.CHECKPOINT, truncated.toString(), "truncated");
        // a checkpoint of another config
        oneLine(run(args(List.of("generate", "--checkpoint", good.toString(), "--prompt", "a"), sets("model.moe.experts=8"))),
                ErrorKind.CHECKPOINT, good.toString(), "config differs");

        MainTest.Run debug = run("eval", "--checkpoint", corrupt.toString(), "--debug");
        assertEquals(ErrorKind.CHECKPOINT.exitCode, debug.exit());
        assertTrue(debug.err().contains("\tat moelab.train.Checkpoint"), "--debug prints the trace:\n" + debug.err());
    }

    @Test
    void aBadInitFromFailsBeforeTheRunFolderIsMade() throws Exception {
        Path other = tmp.resolve("other.ckpt");
        RunConfig wide = tiny("model.moe.d_ff=8");
        new Trainer(new Transformer(wide.model(), 1), wide.train(), new BatchSource() {
            @Override public Batch next() { throw new IllegalStateException(); }
            @Override public byte[] saveState() { return new byte[0]; }
            @Override public void restoreState(byte[] s) { }
        }, List.of(), List.of(), List.of()).saveCheckpoint(other, "x");
        Path runs = tmp.resolve("runs");
        MainTest.Run r = run(args(List.of("train", "--init-from", other.toString()), sets("run.out_dir=" + runs)));
        oneLine(r, ErrorKind.CHECKPOINT, other.toString(), "layers.0.moe.w1", "layers.1.moe.w2");   // every mismatch, at once
        assertFalse(Files.exists(runs), "no run folder for a run that cannot start");

        MainTest.Run gone = run(args(List.of("train", "--init-from", tmp.resolve("gone.safetensors").toString()), sets("run.out_dir=" + runs)));
        oneLine(gone, ErrorKind.CONFIG, "run.init_from", "gone.safetensors");
        assertFalse(Files.exists(runs));

        Path st = tmp.resolve("w.safetensors");
        SafeTensors.export(new Transformer(wide.model(), 1).parameters(), st, null);
        oneLine(run(args(List.of("train", "--init-from", st.toString()), sets("run.out_dir=" + runs))),
                ErrorKind.SAFETENSORS, st.toString(), "does not fit the model", "layers.0.moe.w1");
        assertFalse(Files.exists(runs));
    }

    @Test
    void safetensorsAndDataErrorsHaveTheirOwnStatus() throws Exception {
        Path st = Files.write(tmp.resolve("bad.safetensors"), new byte[]{1, 2, 3});
        oneLine(run(args(List.of("train", "--init-from", st.toString()), sets("run.out_dir=" + tmp.resolve("runs")))),
                ErrorKind.SAFETENSORS, st.toString(), "too short");
        Path corpus = Files.createDirectories(tmp.resolve("corpus/en"));
        oneLine(run(args(List.of("train", "--run-dir", tmp.resolve("r").toString()), sets("data.path=" + corpus.getParent()))),
                ErrorKind.DATA, "domain 'en'", "no .txt documents");
    }

    @Test
    void internalErrorsNameTheirType() {
        assertEquals("internal error: java.lang.NullPointerException: x (rerun with --debug for the stack trace)",
                ErrorKind.INTERNAL.line(new NullPointerException("x")));
        assertEquals(ErrorKind.INTERNAL, ErrorKind.of(new ArrayIndexOutOfBoundsException()));
        assertEquals(ErrorKind.IO, ErrorKind.of(new java.io.UncheckedIOException(new java.io.IOException("disk full"))));
    }
}
