package moelab.nn;

import moelab.config.ConfigException;
import moelab.routing.BalanceConfig;
import moelab.routing.Balancing;
import moelab.routing.Scope;
import moelab.routing.mar.MarConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What data-parallel ranks refuse, and what they accept. */
class RoutersRanksTest {
    static MoeConfig moe(Balancing m, Scope s, int groupSequences) {
        return MoeConfig.defaults(8, 2, 16).withBalance(new BalanceConfig(m, s).withGroupSequences(groupSequences));
    }

    static void refused(MoeConfig cfg, int ranks, int shard, String key, String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> Routers.checkRanks(cfg, ranks, shard));
        assertTrue(e.getMessage().contains(key) && e.getMessage().contains(text), e.getMessage());
    }

    @Test
    void jointMethodsAtGlobalScopeAreRefused() {
        refused(moe(Balancing.SH, Scope.GLOBAL, 0), 2, 4, "model.moe.balance.scope", "method sh solves the whole global batch jointly");
        refused(moe(Balancing.BA, Scope.GLOBAL, 0), 2, 4, "model.moe.balance.scope", "method ba");
        assertDoesNotThrow(() -> Routers.checkRanks(moe(Balancing.SH, Scope.MICRO_BATCH, 2), 2, 4));
        assertDoesNotThrow(() -> Routers.checkRanks(moe(Balancing.SH, Scope.GLOBAL, 0), 1, 8));   // one process
    }

    @Test
    void microBatchesMustNotStraddleRanks() {
        refused(moe(Balancing.LBL, Scope.MICRO_BATCH, 3), 2, 4, "model.moe.balance.group_sequences", "must divide the 4 sequences");
        assertDoesNotThrow(() -> Routers.checkRanks(moe(Balancing.LBL, Scope.MICRO_BATCH, 2), 2, 4));
        assertDoesNotThrow(() -> Routers.checkRanks(moe(Balancing.EB, Scope.GLOBAL, 0), 2, 4));
    }

    @Test
    void memoryAwareRoutingIsRefused() {
        MoeConfig cfg = moe(Balancing.LBL, Scope.GLOBAL, 0).withMar(new MarConfig(true, 0.1, 8));
        refused(cfg, 2, 4, "model.moe.mar.enabled", "2 data-parallel ranks");
    }
}
