package moelab.nn;

import moelab.tensor.Parameters;
import moelab.config.ConfigException;
import moelab.routing.BalanceConfig;
import moelab.routing.Balancing;
import moelab.routing.Capacity;
import moelab.routing.DropPolicy;
import moelab.routing.Router;
import moelab.routing.RoutingRecord;
import moelab.routing.Scope;
import moelab.routing.TokenInfo;
import moelab.routing.TopKRouter;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Router construction from the config, the grad_accum rule, and capacity per emulated micro-batch. */
class RoutersTest {

    @Test
    void buildsEveryMethodAndScope() {
        for (Balancing m : Balancing.values())
            for (Scope s : Scope.values()) {
                MoeConfig c = MoeConfig.defaults(4, 2, 3).withBalance(new BalanceConfig(m, s).withGroupSequences(1));
                if (m == Balancing.EC) {
                    // expert choice: one slot per (token, expert); at cf 0.25 each expert takes ceil(0.25*2*T_G/4) tokens
                    // of a group, so some tokens get no expert and their MoE output is exactly zero (residual only)
                    Router ec = Routers.create(c.withCapacityFactor(0.25), 0);
                    assertInstanceOf(moelab.routing.ExpertChoiceRouter.class, ec);
                    MoeFeedForward ffn = new MoeFeedForward("moe.", 0, 6, c.withCapacityFactor(0.25), 0.5, 0.5, new Parameters(), new Random(1), ec);
                    MoeFeedForward.Output o = ffn.forward(Tensor.randn(new Random(2), 1f, 12, 6), TokenInfo.of(3, 4), true);
                    assertEquals(48, o.routing().selected().length, m + "/" + s);
                    float[] y = o.y().toArray();
                    int untaken = 0;
                    for (int t = 0; t < 12; t++) {
                        boolean any = false;
                        for (int x = 0; x < 4; x++) any |= o.routing().kept()[t * 4 + x];
                        if (any) continue;
                        untaken++;
                        for (int j = 0; j < 6; j++) assertEquals(0f, y[t * 6 + j], m + "/" + s + " token " + t);
                    }
                    assertTrue(untaken > 0, m + "/" + s);
                    continue;
                }
                TopKRouter r = (TopKRouter) Routers.create(c, 0);
                assertEquals(m.toString(), r.method().name());
                assertEquals(s, r.scope());
                MoeFeedForward ffn = new MoeFeedForward("moe.", 0, 6, c, 0.5, 0.5, new Parameters(), new Random(1), r);
                RoutingRecord rec = ffn.forward(Tensor.randn(new Random(2), 1f, 12, 6), TokenInfo.of(3, 4), true).routing();
                assertEquals(24, rec.selected().length, m + "/" + s);
            }
        var e = assertThrows(ConfigException.class, () -> ConfigException.named("model.moe.balance.method", "aux", Balancing.class));
        assertTrue(e.getMessage().contains("model.moe.balance.method"), e.getMessage());
    }

    @Test
    void jointMethodsAtGlobalScopeNeedOneForwardPass() {
        for (Balancing m : new Balancing[]{Balancing.SH, Balancing.BA}) {
            MoeConfig c = MoeConfig.defaults(4, 2, 3).withBalance(new BalanceConfig(m, Scope.GLOBAL));
            var e = assertThrows(ConfigException.class, () -> Routers.checkGradAccum(c, 4));
            assertTrue(e.getMessage().contains("train.grad_accum: 1") && e.getMessage().contains("group_sequences"), e.getMessage());
            Routers.checkGradAccum(c, 1);
            Routers.checkGradAccum(MoeConfig.defaults(4, 2, 3).withBalance(new BalanceConfig(m, Scope.MICRO_BATCH)), 4);
        }
        Routers.checkGradAccum(MoeConfig.defaults(4, 2, 3).withBalance(new BalanceConfig(Balancing.LBL, Scope.GLOBAL)), 4);
        Routers.checkGradAccum(MoeConfig.defaults(4, 2, 3).withBalance(new BalanceConfig(Balancing.EB, Scope.GLOBAL)), 4);
    }

    @Test
    void capacityIsAppliedPerEmulatedMicroBatch() {
        // 4 sequences of 3 tokens, 2 sequences per micro-batch: C = ceil(cf k T_mb / E) = ceil(1 * 1 * 6 / 2) = 3 per group
        int[] experts = new int[12];   // everyone asks for expert 0
        float[] probs = new float[24];
        boolean[] kept = Capacity.applyGroups(experts, probs, Scope.microBatches(TokenInfo.of(4, 3), 12, 2), 2, 1, 1.0, DropPolicy.POSITION);
        boolean[] want = {true, true, true, false, false, false, true, true, true, false, false, false};
        assertArrayEquals(want, kept);
        assertEquals(3, Capacity.perExpert(1.0, 1, 6, 2));
        // one group: C = ceil(12 / 2) = 6
        boolean[] whole = Capacity.applyGroups(experts, probs, Scope.microBatches(TokenInfo.of(4, 3), 12, 0), 2, 1, 1.0, DropPolicy.POSITION);
        int n = 0;
        for (boolean b : whole) if (b) n++;
        assertEquals(6, n);
        // through the layer: every emulated micro-batch keeps at most C routes per expert
        MoeConfig c = MoeConfig.defaults(4, 2, 3).withCapacityFactor(1.0)
                .withBalance(new BalanceConfig(Balancing.NONE, Scope.MICRO_BATCH).withGroupSequences(1));
        MoeFeedForward ffn = new MoeFeedForward("moe.", 0, 6, c, 0.5, 0.5, new Parameters(), new Random(1), Routers.create(c, 0));
        RoutingRecord r = ffn.forward(Tensor.randn(new Random(3), 1f, 15, 6), TokenInfo.of(3, 5), true).routing();
        int cap = Capacity.perExpert(1.0, 2, 5, 4);
        for (int g = 0; g < 3; g++) {
            int[] keptPerExpert = new int[4];
            for (int s = g * 10; s < (g + 1) * 10; s++) if (r.kept()[s]) keptPerExpert[r.selected()[s]]++;
            for (int x : keptPerExpert) assertTrue(x <= cap, "sequence " + g + " keeps " + x + " > C=" + cap);
        }
    }
}
