package moelab.routing;

import moelab.tensor.Parameters;
import moelab.config.ConfigException;
import moelab.nn.MoeConfig;
import moelab.nn.MoeFeedForward;
import moelab.nn.RouterKind;
import moelab.nn.Routers;
import moelab.ops.Indexing;
import moelab.ops.Softmax;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Reference router: every route of a domain-d token lands in block d, at train and eval; config errors. */
class ReferenceRouterTest {
    static MoeConfig cfg(int e, int k, int domains, ReferenceGates gates) {
        MoeConfig base = MoeConfig.defaults(e, k, 4).withRouter(RouterKind.REFERENCE);
        return base.withBalance(BalanceConfig.defaults().withDomains(domains, gates));
    }

    @Test
    void everyRouteLandsInTheTokensDomainBlock() {
        for (int[] s : new int[][]{{8, 2, 4}, {8, 1, 4}, {12, 2, 3}, {6, 3, 2}}) {
            int e = s[0], k = s[1], d = s[2], t = 23, block = e / d;
            MoeConfig c = cfg(e, k, d, ReferenceGates.LEARNED);
            MoeFeedForward ffn = new MoeFeedForward("moe.", 0, 6, c, 0.5, 0.5, new Parameters(), new Random(1), Routers.create(c, 0));
            int[] domains = new int[t];
            Random rng = new Random(e + k);
            for (int x = 0; x < t; x++) domains[x] = rng.nextInt(d);
            Tensor x = Tensor.randn(new Random(2), 1f, t, 6);
            for (boolean training : new boolean[]{true, false}) {
                RoutingRecord r = ffn.forward(x, new TokenInfo(1, t, domains), training).routing();
                for (int y = 0; y < t; y++) {
                    for (int j = 0; j < k; j++) {
                        int ex = r.selected()[y * k + j];
                        assertEquals(domains[y], ex / block, "token " + y + " slot " + j + " training=" + training);
                        for (int j2 = 0; j2 < j; j2++) assertNotEquals(r.selected()[y * k + j2], ex);
                    }
                }
            }
        }
    }

    @Test
    void gatesLearnedOrUniform() {
        Tensor z = Tensor.randn(new Random(3), 1f, 5, 8);
        int[] dom = {0, 1, 2, 3, 1};
        RoutingInput in = new RoutingInput(0, Tensor.zeros(5, 1), z, 2, new TokenInfo(1, 5, dom), true);
        Routing learned = new ReferenceRouter(4, false).route(in);
        assertNull(learned.auxLoss());
        assertArrayEquals(Softmax.softmax(Indexing.gather(z, learned.experts(), 2), -1).toArray(), learned.gates().toArray(), 1e-7f);
        // E/D = k: the whole block, in descending logit order
        for (int x = 0; x < 5; x++) {
            int a = learned.experts()[x * 2], b = learned.experts()[x * 2 + 1];
            assertEquals(dom[x] * 2 + dom[x] * 2 + 1, a + b);
            assertTrue(z.toArray()[x * 8 + a] >= z.toArray()[x * 8 + b]);
        }
        Routing uniform = new ReferenceRouter(4, true).route(in);
        for (float g : uniform.gates().toArray()) assertEquals(0.5f, g);
    }

    @Test
    void missingDomainLabelsAndBadConfigsAreClearErrors() {
        Router r = new ReferenceRouter(4, false);
        var e = assertThrows(IllegalArgumentException.class,
                () -> r.route(new RoutingInput(0, Tensor.zeros(3, 1), Tensor.zeros(3, 8), 2, TokenInfo.of(1, 3), false)));
        assertTrue(e.getMessage().contains("domain labels"), e.getMessage());
        var out = assertThrows(IllegalArgumentException.class,
                () -> r.route(new RoutingInput(0, Tensor.zeros(2, 1), Tensor.zeros(2, 8), 2, new TokenInfo(1, 2, new int[]{0, 4}), true)));
        assertTrue(out.getMessage().contains("domain 4"), out.getMessage());
        var div = assertThrows(ConfigException.class, () -> Routers.create(cfg(8, 2, 3, ReferenceGates.LEARNED), 0));
        assertTrue(div.getMessage().contains("model.moe.balance.domains"), div.getMessage());
        var big = assertThrows(ConfigException.class, () -> Routers.create(cfg(8, 3, 4, ReferenceGates.LEARNED), 0));
        assertTrue(big.getMessage().contains("model.moe.top_k"), big.getMessage());
        assertThrows(ConfigException.class, () -> ConfigException.named("model.moe.balance.reference_gates", "random", ReferenceGates.class));
    }
}
