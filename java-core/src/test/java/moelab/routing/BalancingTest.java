package moelab.routing;

import moelab.config.ConfigException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BalancingTest {
    @Test
    void everyConstantBuildsTheMethodOfItsName() {
        for (Balancing b : Balancing.values()) {
            if (b == Balancing.EC) continue;   // expert choice replaces the router itself (ExpertChoiceRouterTest)
            BalancingMethod m = b.create(new BalanceConfig(b, Scope.MICRO_BATCH), 4, 0.01);
            assertEquals(b.toString(), m.name());
        }
    }

    @Test
    void onlySinkhornAssignmentAndExpertChoiceSelectJointly() {
        for (Balancing b : Balancing.values())
            assertEquals(b == Balancing.SH || b == Balancing.BA || b == Balancing.EC, b.joint(), b.toString());
    }

    @Test
    void configNamesAreTheYamlSpellings() {
        assertEquals(Balancing.EB, ConfigException.named("model.moe.balance.method", "eb", Balancing.class));
        assertEquals(Scope.MICRO_BATCH, Scope.parse("micro_batch"));
        var e = assertThrows(ConfigException.class, () -> ConfigException.named("model.moe.balance.method", "aux", Balancing.class));
        assertTrue(e.getMessage().contains("model.moe.balance.method"), e.getMessage());
        assertTrue(e.getMessage().contains("none, lbl, eb, sh, ba, dsv3, ec"), e.getMessage());
    }
}
