package moelab.app.cli;

import moelab.app.config.ConfigLoader;
import moelab.app.config.RunConfig;
import moelab.nn.Transformer;
import moelab.train.CheckpointException;
import moelab.train.SafeDType;
import moelab.train.SafeTensors;
import moelab.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** run.init_from: a checkpoint's (or run folder's latest checkpoint's) parameters, nothing else. */
class InitFromTest {
    static RunConfig cfg(String... sets) {
        List<String> s = new java.util.ArrayList<>(List.of("model.d_model=16", "model.heads=2", "model.layers=2", "model.d_ff=32",
                "model.moe.d_ff=16", "model.moe.experts=4", "model.max_seq_len=32", "train.seq_len=32"));
        s.addAll(List.of(sets));
        return ConfigLoader.load(null, s);
    }

    @Test
    void copiesTheParametersOfTheLatestCheckpointOfARunFolder(@TempDir Path tmp) throws Exception {
        RunConfig a = cfg("train.seed=1");
        Transformer source = new Transformer(a.model(), 1);
        Path ckpts = Files.createDirectories(tmp.resolve("run/checkpoints"));
        new Trainer(source, a.train(), new moelab.data.BatchSource() {
            @Override public moelab.data.Batch next() { throw new IllegalStateException(); }
            @Override public byte[] saveState() { return new byte[0]; }
            @Override public void restoreState(byte[] s) { }
        }, List.of(), List.of(), List.of()).saveCheckpoint(ckpts.resolve("step-00000003.ckpt"), "x");

        RunConfig b = cfg("train.seed=2", "model.moe.balance.method=none");   // another config: allowed
        Transformer target = new Transformer(b.model(), 2);
        String name = target.parameters().asMap().keySet().iterator().next();
        assertFalse(java.util.Arrays.equals(source.parameters().asMap().get(name).toArray(), target.parameters().asMap().get(name).toArray()));
        Wiring.initWeights(target, tmp.resolve("run"));
        for (var e : source.parameters().asMap().entrySet())
            assertArrayEquals(e.getValue().toArray(), target.parameters().asMap().get(e.getKey()).toArray(), e.getKey());

        Transformer wider = new Transformer(cfg("model.moe.d_ff=8").model(), 1);
        float[] before = wider.parameters().asMap().get("layers.0.moe.w1").toArray();
        CheckpointException ex = assertThrows(CheckpointException.class,
                () -> Wiring.initWeights(wider, ckpts.resolve("step-00000003.ckpt")));
        for (String n : List.of("layers.0.moe.w1", "layers.0.moe.w2", "layers.1.moe.w3"))
            assertTrue(ex.getMessage().contains("parameter '" + n + "' has shape"), "every mismatch listed: " + ex.getMessage());
        assertArrayEquals(before, wider.parameters().asMap().get("layers.0.moe.w1").toArray(), "nothing copied");
        assertThrows(IllegalArgumentException.class, () -> Wiring.initWeights(wider, tmp.resolve("nothing")));
    }

    @Test
    void startsFromASafetensorsFileInAnyFloatDtype(@TempDir Path tmp) {
        Transformer source = new Transformer(cfg().model(), 1);
        for (SafeDType dtype : List.of(SafeDType.F32, SafeDType.BF16)) {
            Path f = tmp.resolve(dtype + ".safetensors");
            SafeTensors.export(source.parameters(), f, null, dtype);
            Transformer target = new Transformer(cfg().model(), 2);
            Wiring.initWeights(target, f);
            for (var e : source.parameters().asMap().entrySet()) {
                float[] want = e.getValue().toArray(), got = target.parameters().asMap().get(e.getKey()).toArray();
                for (int i = 0; i < want.length; i++)
                    assertEquals(want[i], got[i], dtype == SafeDType.F32 ? 0 : Math.abs(want[i]) / 128, e.getKey());
            }
        }
    }
}
