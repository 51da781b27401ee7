package moelab.train;

import moelab.tensor.NoGrad;
import moelab.data.Batch;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import moelab.nn.Transformer;
import moelab.routing.mar.MarConfig;
import moelab.routing.mar.MarRouter;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static moelab.train.TrainerFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** Memory-aware routing inside a whole model: wiring, checkpoint resume, MAR off at eval. */
class MarTrainingTest {
    static final String CONFIG = "model:\n  d_model: 16\n";

    static ModelConfig withMar(ModelConfig mc, MarConfig mar) {
        return new ModelConfig(mc.vocabSize(), mc.dModel(), mc.heads(), mc.layers(), mc.dFf(), mc.maxSeqLen(), mc.tiedEmbeddings(),
                mc.ropeBase(), mc.normEps(), mc.initStd(), mc.moe().withMar(mar));
    }

    /** N=5 < tokens per micro-batch, so the rings wrap within every step. */
    static ModelConfig marModel() { return withMar(model(), new MarConfig(true, 0.5, 5)); }

    @Test
    void enabledConfigWrapsTheRouterAndTrainingFillsTheMemories() {
        Trainer t = trainer(marModel(), train(2, 4, 1));
        MarRouter r = assertInstanceOf(MarRouter.class, t.model().routers().get(0));
        assertEquals("topk+mar", r.name());
        t.step();
        for (int i = 0; i < 4; i++) assertEquals(5, r.memory().count(i), "expert " + i + " buffer full after 48 tokens x 2 routes");
        assertFalse(trainer(model(), train(2, 4, 1)).model().routers().get(0) instanceof MarRouter, "mar.enabled false: plain router");
    }

    @Test
    void resumeFromACheckpointIsBitExact(@TempDir Path dir) {
        for (String mode : new String[]{"token/fifo", "token/random", "step_mean/fifo", "step_sample/random"}) {
            String eviction = mode.split("/")[1];
            ModelConfig mc = withMar(model(), new MarConfig(true, 0.5, 5, mode.split("/")[0], "all", eviction, false, false, 3, 1));
            TrainConfig tc = train(6, 4, 2);
            Trainer straight = trainer(mc, tc);
            for (int i = 0; i < 6; i++) straight.step();
            Trainer half = trainer(mc, tc);
            for (int i = 0; i < 3; i++) half.step();
            Path p = dir.resolve(mode.replace('/', '-') + ".ckpt");
            half.saveCheckpoint(p, CONFIG);
            Trainer resumed = trainer(mc, tc, tc.seed(), new PatternSource(12345, VOCAB, tc.microBatch(), SEQ), List.of());
            resumed.loadCheckpoint(p, CONFIG);
            for (int i = 0; i < 3; i++) resumed.step();
            assertSameWeights(straight.model(), resumed.model());
            Map<String, float[]> a = straight.model().routers().get(0).state(), b = resumed.model().routers().get(0).state();
            assertEquals(a.keySet(), b.keySet());
            for (String k : a.keySet()) assertSameBits(a.get(k), b.get(k), mode + " " + k);
        }
    }

    @Test
    void evalIsTheSameWithMarEnabledOrDisabled() {
        Trainer marTrainer = trainer(marModel(), train(3, 4, 1));
        for (int i = 0; i < 3; i++) marTrainer.step();
        Transformer plain = new Transformer(model(), 999);
        for (Map.Entry<String, Tensor> e : marTrainer.model().parameters().asMap().entrySet()) {
            Tensor dst = plain.parameters().get(e.getKey());
            System.arraycopy(e.getValue().toArray(), 0, dst.data(), dst.offset(), dst.numel());
        }
        Map<String, float[]> memBefore = marTrainer.model().routers().get(0).state();
        for (Batch b : validation()) {
            try (NoGrad ng = NoGrad.enter()) {
                float[] withMar = marTrainer.model().forward(b.inputs(), b.tokenInfo(), false).logits().toArray();
                float[] without = plain.forward(b.inputs(), b.tokenInfo(), false).logits().toArray();
                assertSameBits(without, withMar, "eval logits");
            }
        }
        Map<String, float[]> memAfter = marTrainer.model().routers().get(0).state();
        for (String k : memBefore.keySet()) assertSameBits(memBefore.get(k), memAfter.get(k), "memory after eval: " + k);
        // and the training forward does differ once the memories are filled
        Batch b = validation().get(0);
        try (NoGrad ng = NoGrad.enter()) {
            float[] withMar = marTrainer.model().forward(b.inputs(), b.tokenInfo(), true).logits().toArray();
            float[] without = plain.forward(b.inputs(), b.tokenInfo(), true).logits().toArray();
            boolean differs = false;
            for (int i = 0; i < withMar.length; i++) differs |= withMar[i] != without[i];
            assertTrue(differs, "training routing uses the memories");
        }
    }
}
