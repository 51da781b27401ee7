package moelab.routing;

import moelab.tensor.Parameters;
import moelab.config.ConfigException;
import moelab.nn.MoeConfig;
import moelab.nn.MoeFeedForward;
import moelab.nn.Routers;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Capacity: C = ceil(cf * k * T / E) and which routes each drop policy keeps. */
class CapacityTest {

    @Test
    void capacityFormulaOnHandCases() {
        assertEquals(4, Capacity.perExpert(1.0, 2, 8, 4));    // 16/4 exactly
        assertEquals(7, Capacity.perExpert(1.25, 2, 10, 4));  // 6.25 -> 7
        assertEquals(2, Capacity.perExpert(1.0, 1, 3, 2));    // 1.5 -> 2
        assertEquals(1, Capacity.perExpert(2.0, 1, 4, 8));    // exactly 1
        assertEquals(1, Capacity.perExpert(0.5, 1, 3, 4));    // 0.375 -> 1
        assertEquals(3, Capacity.perExpert(1.1, 2, 10, 8));   // 2.75 -> 3
        assertEquals(0, Capacity.perExpert(1.0, 2, 0, 4));    // no tokens
    }

    // T = 4, k = 1, E = 2, every token asks for expert 0; C = ceil(1 * 1 * 4 / 2) = 2
    static final int[] ALL_TO_ZERO = {0, 0, 0, 0};
    static final float[] PROBS = {0.6f, 0.4f, 0.9f, 0.1f, 0.7f, 0.3f, 0.8f, 0.2f}; // [T, E]

    @Test
    void probsPolicyKeepsTheHighestProbabilityRoutes() {
        boolean[] kept = Capacity.apply(ALL_TO_ZERO, PROBS, 4, 2, 1, 1.0, DropPolicy.PROBS);
        assertArrayEquals(new boolean[]{false, true, false, true}, kept); // p = 0.9 and 0.8
    }

    @Test
    void positionPolicyKeepsTheEarliestRoutes() {
        assertArrayEquals(new boolean[]{true, true, false, false}, Capacity.apply(ALL_TO_ZERO, PROBS, 4, 2, 1, 1.0, DropPolicy.POSITION));
    }

    @Test
    void probsPolicyTiesGoToTheEarlierSlotAndExpertsAreIndependent() {
        // T = 3, k = 2, E = 3: C = ceil(1 * 2 * 3 / 3) = 2; expert 1 is asked by all three tokens with equal p
        int[] routes = {1, 0, 1, 2, 1, 0};
        float[] probs = {0.3f, 0.5f, 0.2f, 0.1f, 0.5f, 0.4f, 0.4f, 0.5f, 0.1f};
        assertArrayEquals(new boolean[]{true, true, true, true, false, true}, Capacity.apply(routes, probs, 3, 3, 2, 1.0, DropPolicy.PROBS));
    }

    @Test
    void droplessKeepsAll() {
        assertArrayEquals(new boolean[]{true, true, true, true}, Capacity.apply(ALL_TO_ZERO, PROBS, 4, 2, 1, 0, DropPolicy.PROBS));
    }

    @Test
    void unknownPolicyIsAConfigError() {
        var e = assertThrows(ConfigException.class, () -> ConfigException.named("model.moe.drop_policy", "random", DropPolicy.class));
        assertTrue(e.getMessage().contains("probs, position"), e.getMessage());
    }

    @Test
    void evalRoutingIsDroplessEvenWithCapacityFactor() {
        // T = 16, k = 2, E = 4, cf = 0.5: C = 4, so at most 16 of the 32 routes fit in training
        MoeConfig cfg = MoeConfig.defaults(4, 2, 3).withCapacityFactor(0.5);
        MoeFeedForward ffn = new MoeFeedForward("moe.", 0, 6, cfg, 0.5, 0.5, new Parameters(), new Random(1), Routers.create(cfg, 0));
        Tensor x = Tensor.randn(new Random(2), 1f, 16, 6);
        RoutingRecord train = ffn.forward(x, TokenInfo.of(2, 8), true).routing();
        RoutingRecord eval = ffn.forward(x, TokenInfo.of(2, 8), false).routing();
        assertTrue(train.dropRate() >= 0.5, "training drops at least half, got " + train.dropRate());
        assertEquals(0.0, eval.dropRate());
        for (boolean k : eval.kept()) assertTrue(k);
        assertArrayEquals(train.selected(), eval.selected(), "capacity does not change the requested routes");
    }
}
