package moelab.train;

import moelab.config.ConfigException;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import moelab.nn.RouterKind;
import moelab.routing.BaSolver;
import moelab.routing.BalanceConfig;
import moelab.routing.Balancing;
import moelab.routing.ExpertBias;
import moelab.routing.ReferenceGates;
import moelab.routing.RoutingRecord;
import moelab.routing.Scope;
import org.junit.jupiter.api.Test;

import static moelab.train.TrainerFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** Every balancing method and scope, and the reference router, through the trainer. */
class BalancingTrainTest {
    static ModelConfig model(MoeConfig moe) {
        return new ModelConfig(VOCAB, 16, 2, 2, 24, SEQ, false, 10000, 1e-5f, 0.1, moe);
    }

    static MoeConfig moe(int e, int k, RouterKind router, double cf, BalanceConfig b) {
        return MoeConfig.defaults(e, k, 12).withNormTopK(true).withCapacityFactor(cf).withZLossCoef(1e-3).withRouter(router)
                .withBalance(b);
    }

    @Test
    void everyMethodAndScopeTrains() {
        for (Balancing m : Balancing.values())
            for (Scope s : Scope.values()) {
                BalanceConfig b = new BalanceConfig(m, s).withGroupSequences(2);
                Trainer t = trainer(model(moe(4, 2, RouterKind.TOPK, 1.25, b)), train(2, 4, 1));
                for (int i = 0; i < 2; i++) {
                    StepMetrics sm = t.step();
                    assertTrue(Double.isFinite(sm.loss()), m + "/" + s);
                    assertEquals(m == Balancing.LBL, sm.auxLoss() > 0.005, m + "/" + s + " aux " + sm.auxLoss());   // LBL ~ 0.01 + z-loss
                }
            }
    }

    @Test
    void globalExpertBiasMovesOncePerStepWithGradAccumulation() {
        double rate = 1e-3, u = rate / 4;   // the configured rate is relative to the softmax score scale 1/E, E = 4
        BalanceConfig b = new BalanceConfig(Balancing.EB, Scope.GLOBAL, 0, rate, false, 1e-4, 1.0, 1e-4, 1000, BaSolver.FLOW, 1e-3, 8, ReferenceGates.LEARNED);
        Trainer t = trainer(model(moe(4, 2, RouterKind.TOPK, 0, b)), train(2, 2, 3));
        boolean moved = false;
        for (int step = 1; step <= 2; step++) {
            t.step();
            for (var r : t.model().routers()) {
                float[] bias = r.state().get(ExpertBias.STATE_KEY);
                for (float x : bias) {
                    double steps = Math.abs(x) / u;
                    assertEquals(Math.rint(steps), steps, 1e-3, "bias moves in whole steps of u");
                    assertTrue(Math.rint(steps) <= step, "at most one update per optimizer step: " + java.util.Arrays.toString(bias));
                    moved |= x != 0;
                }
            }
        }
        assertTrue(moved, "the step's counts updated the bias");
    }

    @Test
    void jointMethodsAtGlobalScopeRefuseGradAccumulation() {
        var e = assertThrows(ConfigException.class,
                () -> trainer(model(moe(4, 2, RouterKind.TOPK, 0, new BalanceConfig(Balancing.BA, Scope.GLOBAL))), train(2, 2, 2)));
        assertEquals("model.moe.balance.scope", e.key());
    }

    @Test
    void referenceRouterKeepsEveryDomainInItsBlock() {
        // PatternSource has 3 domains: E = 6, k = 2, blocks of 2
        MoeConfig m = moe(6, 2, RouterKind.REFERENCE, 0, BalanceConfig.defaults().withDomains(3, ReferenceGates.LEARNED));
        Trainer t = trainer(model(m), train(2, 4, 1));
        for (int i = 0; i < 2; i++)
            for (RoutingRecord r : t.step().routing())
                for (int s = 0; s < r.selected().length; s++) assertEquals(r.domains()[s / r.topK()], r.selected()[s] / 2);
        EvalMetrics ev = t.evaluate();
        assertTrue(Double.isFinite(ev.loss()));
        assertFalse(ev.routing().isEmpty());
        for (RoutingRecord r : ev.routing())
            for (int s = 0; s < r.selected().length; s++) assertEquals(r.domains()[s / r.topK()], r.selected()[s] / 2, "eval routing");
    }
}
