package moelab.train;

import moelab.data.Batch;
import moelab.eval.RoutingStability;
import moelab.nn.ModelConfig;
import moelab.routing.BalanceConfig;
import moelab.routing.Balancing;
import moelab.routing.Router;
import moelab.routing.Scope;
import moelab.routing.mar.MarConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static moelab.train.TrainerFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** The training-routing probe: its batch, its numbers, and that training goes on bit for bit as without it. */
class RoutingStabilityTest {

    static ModelConfig with(ModelConfig mc, moelab.nn.MoeConfig moe) {
        return new ModelConfig(mc.vocabSize(), mc.dModel(), mc.heads(), mc.layers(), mc.dFf(), mc.maxSeqLen(), mc.tiedEmbeddings(),
                mc.ropeBase(), mc.normEps(), mc.initStd(), moe);
    }

    static List<ModelConfig> statefulRouters() {
        ModelConfig m = model();
        return List.of(
                with(m, m.moe().withMar(new MarConfig(true, 0.5, 5, "step_sample", "all", "random", false, false, 3, 1))),
                with(m, m.moe().withMar(new MarConfig(true, 0.5, 5, "token", "all", "fifo", false, false))),
                with(m, m.moe().withBalance(BalanceConfig.defaults().withMethod(Balancing.EB).withScope(Scope.GLOBAL))),
                with(m, m.moe().withBalance(BalanceConfig.defaults().withScope(Scope.GLOBAL))));
    }

    @Test
    void probingBetweenStepsLeavesTrainingBitExact() {
        for (ModelConfig mc : statefulRouters()) {
            TrainConfig tc = train(6, 4, 2);
            Trainer plain = trainer(mc, tc), probed = trainer(mc, tc);
            RoutingStability probe = new RoutingStability(RoutingStability.probeBatch(validation(), PatternSource.DOMAINS.length, 2));
            for (int i = 0; i < 6; i++) {
                StepMetrics a = plain.step(), b = probed.step();
                assertEquals(Double.doubleToRawLongBits(a.loss()), Double.doubleToRawLongBits(b.loss()), mc.moe() + " step " + i);
                probe.measure(probed.model());
            }
            assertSameWeights(plain.model(), probed.model());
            for (int r = 0; r < plain.model().routers().size(); r++) {
                Map<String, float[]> x = plain.model().routers().get(r).state(), y = probed.model().routers().get(r).state();
                assertEquals(x.keySet(), y.keySet());
                for (String k : x.keySet()) assertSameBits(x.get(k), y.get(k), k);
            }
        }
    }

    @Test
    void probeBatchHoldsTheFirstSequencesOfEveryDomainInOrder() {
        List<Batch> val = validation();
        Batch p = RoutingStability.probeBatch(val, PatternSource.DOMAINS.length, 2);
        assertEquals(6, p.batch(), "2 sequences x 3 domains");
        for (int s = 0; s < 6; s++) assertEquals(s / 2, p.domains()[s * SEQ], "sequence " + s);
        assertEquals(3, new RoutingStability(p).domainsCovered());
        // the first domain-0 sequence of the validation batches, copied with its targets
        int src = -1;
        for (int s = 0; s < val.get(0).batch() && src < 0; s++) if (val.get(0).domains()[s * SEQ] == 0) src = s;
        assertArrayEquals(java.util.Arrays.copyOfRange(val.get(0).inputs(), src * SEQ, src * SEQ + SEQ), java.util.Arrays.copyOfRange(p.inputs(), 0, SEQ));
        assertArrayEquals(java.util.Arrays.copyOfRange(val.get(0).targets(), src * SEQ, src * SEQ + SEQ), java.util.Arrays.copyOfRange(p.targets(), 0, SEQ));
    }

    @Test
    void switchRateIsUndefinedFirstZeroWithoutTrainingAndMovesWithIt() {
        ModelConfig mc = statefulRouters().get(0);
        Trainer t = trainer(mc, train(20, 4, 1));
        t.step();
        RoutingStability probe = new RoutingStability(RoutingStability.probeBatch(validation(), PatternSource.DOMAINS.length, 2));
        RoutingStability.Layer first = probe.measure(t.model()).getFirst();
        assertNull(first.switchRate());
        assertEquals(1, first.layer(), "the MoE block");
        RoutingStability.Layer again = probe.measure(t.model()).getFirst();
        assertEquals(0.0, again.switchRate(), "no step in between: the restored state routes the same");
        assertEquals(1.0, again.consistency());
        for (int i = 0; i < 15; i++) t.step();
        RoutingStability.Layer later = probe.measure(t.model()).getFirst();
        assertTrue(later.switchRate() > 0 && later.switchRate() <= 1, "training at lr 1e-2 moves some routes: " + later.switchRate());
        assertTrue(later.trainEvalJaccard() >= 0 && later.trainEvalJaccard() <= 1);
    }

    @Test
    void overlapOfTwoRoutingsByHand() {
        // k = 2: token 0 {0,1} vs {0,2}: 1 shared of 3 -> Jaccard 1/3, switched; token 1 {2,3} both: 1
        double[] o = RoutingStability.overlap(new int[]{0, 1, 2, 3}, new int[]{0, 2, 2, 3}, 2);
        assertEquals(0.5, o[0], 1e-12);
        assertEquals((1.0 / 3 + 1) / 2, o[1], 1e-12);
    }
}
