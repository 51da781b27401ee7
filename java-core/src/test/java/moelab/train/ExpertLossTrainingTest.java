package moelab.train;

import moelab.losses.ExpertLossConfig;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static moelab.train.TrainerFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** Orthogonality / variance losses in whole training runs: off changes nothing, auto-scale survives a resume. */
class ExpertLossTrainingTest {
    static ModelConfig with(ExpertLossConfig lc) {
        ModelConfig m = model();
        MoeConfig moe = MoeConfig.defaults(4, 2, 12).withLayers("1").withZLossCoef(1e-3).withExpertLosses(lc);
        return new ModelConfig(m.vocabSize(), m.dModel(), m.heads(), m.layers(), m.dFf(), m.maxSeqLen(), m.tiedEmbeddings(),
                m.ropeBase(), m.normEps(), m.initStd(), moe);
    }

    @Test
    void lossesOffTrainBitForBitAsBefore() {
        TrainConfig tc = train(4, 4, 2);
        Trainer before = trainer(with(ExpertLossConfig.off()), tc);
        Trainer zeroCoefs = trainer(with(new ExpertLossConfig(0, "pairwise", 0, "per_expert", true, true)), tc);
        Trainer on = trainer(with(new ExpertLossConfig(1e-2, "subspace", 1e-2, "per_token")), tc);
        boolean differs = false;
        for (int i = 0; i < 4; i++) {
            StepMetrics a = before.step(), b = zeroCoefs.step(), c = on.step();
            assertEquals(Double.doubleToRawLongBits(a.auxLoss()), Double.doubleToRawLongBits(b.auxLoss()), "aux of step " + i);
            assertEquals(Double.doubleToRawLongBits(a.loss()), Double.doubleToRawLongBits(b.loss()), "loss of step " + i);
            differs |= a.auxLoss() != c.auxLoss();
        }
        assertSameWeights(before.model(), zeroCoefs.model());
        assertTrue(differs, "losses on must change the aux loss");
    }

    @Test
    void autoScaledCoefficientsAreCheckpointedAndAResumeIsBitExact(@TempDir Path dir) {
        ModelConfig mc = with(new ExpertLossConfig(1e-4, "subspace", 1e-3, "per_token", false, true));
        TrainConfig tc = train(6, 4, 1);
        Trainer straight = trainer(mc, tc);
        List<StepMetrics> all = new ArrayList<>();
        for (int i = 0; i < 6; i++) all.add(straight.step());
        assertTrue(straight.model().expertLosses().resolved());

        Trainer half = trainer(mc, tc);
        for (int i = 0; i < 3; i++) half.step();
        Path file = dir.resolve("half.ckpt");
        half.saveCheckpoint(file, "cfg");

        Trainer resumed = trainer(mc, tc, 777, new PatternSource(4242, VOCAB, 4, SEQ), List.of());
        assertFalse(resumed.model().expertLosses().resolved());
        resumed.loadCheckpoint(file, "cfg");
        assertTrue(resumed.model().expertLosses().resolved());
        assertEquals((float) straight.model().expertLosses().orthCoef(), (float) resumed.model().expertLosses().orthCoef());
        assertEquals((float) straight.model().expertLosses().varCoef(), (float) resumed.model().expertLosses().varCoef());
        for (int i = 3; i < 6; i++)
            assertEquals(Double.doubleToRawLongBits(all.get(i).loss()), Double.doubleToRawLongBits(resumed.step().loss()), "loss of step " + i);
        assertSameWeights(straight.model(), resumed.model());
    }
}
