package moelab.train;

import moelab.losses.ExpertLossConfig;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import moelab.nn.RouterKind;
import moelab.routing.BalanceConfig;
import moelab.routing.Balancing;
import moelab.routing.RoutingRecord;
import moelab.routing.Scope;
import moelab.routing.mar.MarConfig;
import moelab.tensor.StepArena;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static moelab.train.TrainerFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Recycling a step's activations changes no bit: training with step arenas on and off gives the
 * same weights, losses, routing records, router state and evaluation. The tests run with
 * -Dmoelab.poisonRecycled=true, so anything read after its step was recycled turns into NaN here.
 */
class StepArenaTrainingTest {

    private static ModelConfig withMoe(MoeConfig moe) {
        ModelConfig mc = model();
        return new ModelConfig(mc.vocabSize(), mc.dModel(), mc.heads(), mc.layers(), mc.dFf(), mc.maxSeqLen(), mc.tiedEmbeddings(),
                mc.ropeBase(), mc.normEps(), mc.initStd(), moe);
    }

    private static List<ModelConfig> models() {
        MoeConfig base = model().moe();
        return List.of(
                model(0.01, 1.25),                                                                    // LBL, capacity dropping
                withMoe(base.withMar(new MarConfig(true, 0.5, 5, "step_mean", "all", "fifo", false, false, 3, 1))),
                withMoe(base.withMar(new MarConfig(true, 0.5, 5, "token", "all", "fifo", false, false, 3, 1))),
                withMoe(base.withRouter(RouterKind.TOPK).withBalance(new BalanceConfig(Balancing.EB, Scope.MICRO_BATCH))),
                withMoe(base.withBalance(new BalanceConfig(Balancing.SH, Scope.SEQUENCE))),
                withMoe(base.withCapacityFactor(1.0).withBalance(new BalanceConfig(Balancing.BA, Scope.MICRO_BATCH))),
                withMoe(base.withExpertLosses(new ExpertLossConfig(1e-2, "subspace", 1e-2, "per_token"))));
    }

    @Test
    void trainingWithAndWithoutArenasIsBitIdentical() {
        for (ModelConfig mc : models()) {
            TrainConfig tc = train(4, 4, 2);
            Trainer fresh = trainer(mc, tc), pooled = trainer(mc, tc);
            for (int i = 0; i < 4; i++) {
                StepMetrics want;
                boolean old = StepArena.setEnabled(false);
                try {
                    want = fresh.step();
                } finally {
                    StepArena.setEnabled(old);
                }
                compareSteps(pooled.step(), want, mc);
            }
            assertSameWeights(fresh.model(), pooled.model());
            Map<String, float[]> a = fresh.model().routers().get(0).state(), b = pooled.model().routers().get(0).state();
            assertEquals(a.keySet(), b.keySet());
            for (String k : a.keySet()) assertSameBits(a.get(k), b.get(k), "router state " + k);
            EvalMetrics ea = fresh.evaluate(), eb = pooled.evaluate();
            assertEquals(ea.loss(), eb.loss(), 0.0, "eval loss");
            assertEquals(ea.scalars(), eb.scalars());
        }
    }

    private static void compareSteps(StepMetrics got, StepMetrics want, ModelConfig mc) {
        String what = mc.moe() + " step " + got.step();
        assertTrue(Double.isFinite(got.loss()), what);
        assertEquals(want.loss(), got.loss(), 0.0, what + " loss");
        assertEquals(want.auxLoss(), got.auxLoss(), 0.0, what + " aux");
        assertEquals(want.gradNorm(), got.gradNorm(), 0.0, what + " grad norm");
        assertEquals(want.routing().size(), got.routing().size());
        for (int r = 0; r < got.routing().size(); r++) {
            RoutingRecord x = want.routing().get(r), y = got.routing().get(r);
            assertArrayEquals(x.selected(), y.selected(), what + " selected");
            assertArrayEquals(x.kept(), y.kept(), what + " kept");
            assertSameBits(x.probs(), y.probs(), what + " routing probs");
        }
    }
}
