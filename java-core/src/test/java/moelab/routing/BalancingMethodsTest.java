package moelab.routing;

import moelab.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BalancingMethodsTest {
    @Test
    void everyNameBuildsTheMethodOfThatName() {
        assertEquals(List.of("none", "lbl", "eb", "sh", "ba"), BalancingMethods.names());
        for (String name : BalancingMethods.names()) {
            BalancingMethod m = BalancingMethods.create(new BalanceConfig(name, "micro_batch"), 4, 0.01);
            assertEquals(name, m.name());
        }
    }

    @Test
    void onlySinkhornAndAssignmentSelectJointly() {
        for (String name : BalancingMethods.names())
            assertEquals(name.equals("sh") || name.equals("ba"), BalancingMethods.joint(name), name);
    }

    @Test
    void anUnknownNameIsAConfigErrorListingTheKnownOnes() {
        var e = assertThrows(ConfigException.class, () -> new BalanceConfig("aux", "global"));
        assertTrue(e.getMessage().contains("model.moe.balance.method"), e.getMessage());
        assertTrue(e.getMessage().contains("none, lbl, eb, sh, ba"), e.getMessage());
        assertThrows(ConfigException.class, () -> BalancingMethods.joint("aux"));
    }
}
