package moelab.routing;

import moelab.config.ConfigException;
import moelab.nn.MoeConfig;
import moelab.nn.Routers;
import moelab.ops.Softmax;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Expert choice: exactly C tokens per expert and group, no pair twice, gates p, eval without look-ahead. */
class ExpertChoiceRouterTest {
    static Routing route(Router r, Tensor z, int k, TokenInfo info, boolean training) {
        return r.route(new RoutingInput(0, Tensor.zeros(z.dim(0), 1), z, k, info, training));
    }

    @Test
    void handCaseEachExpertTakesItsTopCTokens() {
        // 4 tokens, E = 2, k = 1, cf = 1: C = 1 * 1 * 4 / 2 = 2 per expert.
        // p(expert 0) = [0.9, 0.8, 0.6, 0.3]: expert 0 takes tokens 0, 1; p(expert 1) = [0.1, 0.2, 0.4, 0.7]: tokens 3, 2
        float[] p = {0.9f, 0.1f, 0.8f, 0.2f, 0.6f, 0.4f, 0.3f, 0.7f};
        boolean[] taken = ExpertChoiceRouter.take(p, new int[]{0, 4}, 2, 1, 1.0);
        assertArrayEquals(new boolean[]{true, false, true, false, false, true, false, true}, taken);
        // cf 1.5: C = 3; expert 0 takes 0, 1, 2 and expert 1 takes 3, 2, 1: token 0 gets one, token 1 and 2 two each
        boolean[] more = ExpertChoiceRouter.take(p, new int[]{0, 4}, 2, 1, 1.5);
        assertArrayEquals(new boolean[]{true, false, true, true, true, true, false, true}, more);
        // cf 0.5: C = 1; tokens 1 and 2 get no expert (they pass through the residual)
        boolean[] fewer = ExpertChoiceRouter.take(p, new int[]{0, 4}, 2, 1, 0.5);
        assertArrayEquals(new boolean[]{true, false, false, false, false, false, false, true}, fewer);
    }

    @Test
    void exactlyCPerExpertPerGroupAndNoTokenTwiceToOneExpert() {
        for (Scope scope : Scope.values()) {
            int seqs = 4, len = 10, e = 6, k = 2, t = seqs * len;
            Tensor z = Tensor.randn(new Random(4), 1.5f, t, e);
            ExpertChoiceRouter r = new ExpertChoiceRouter(1.25, true, 0, scope, 2);
            TokenInfo info = TokenInfo.of(seqs, len);
            Routing out = route(r, z, k, info, true);
            assertEquals(t * e, out.experts().length);
            assertArrayEquals(new int[]{t, e}, out.gates().shape(), "one slot per (token, expert)");
            int[] groups = scope.groups(info, t, 2);
            for (int g = 0; g + 1 < groups.length; g++) {
                int tg = groups[g + 1] - groups[g], c = ExpertChoiceRouter.perExpert(1.25, k, tg, e);
                assertEquals((int) Math.ceil(1.25 * k * tg / e), c);
                for (int x = 0; x < e; x++) {
                    int n = 0;
                    for (int tok = groups[g]; tok < groups[g + 1]; tok++) {
                        // each (token, expert) pair is one slot, and that slot is expert x: no token reaches x twice
                        assertEquals(x, out.experts()[tok * e + x]);
                        if (out.taken()[tok * e + x]) n++;
                    }
                    assertEquals(c, n, scope + " group " + g + " expert " + x);
                }
            }
            assertArrayEquals(Softmax.softmax(z, -1).toArray(), out.gates().toArray(), 1e-7f, "gates are p");
        }
    }

    @Test
    void trainingLeaksTheFutureAndEvalDoesNot() {
        int t = 8, e = 4, k = 1;
        Tensor z = Tensor.randn(new Random(6), 1f, t, e);
        ExpertChoiceRouter r = new ExpertChoiceRouter(1.0, true, 0, Scope.SEQUENCE, 0);
        TokenInfo info = TokenInfo.of(1, t);
        // make the last token want every expert: at training it displaces earlier tokens
        float[] later = z.toArray();
        for (int i = 0; i < e; i++) later[(t - 1) * e + i] = 0f;
        later[(t - 1) * e + 2] = 8f;
        Tensor z2 = Tensor.of(later, t, e);
        boolean[] before = route(r, z, k, info, true).taken(), after = route(r, z2, k, info, true).taken();
        assertFalse(Arrays.equals(Arrays.copyOf(before, (t - 1) * e), Arrays.copyOf(after, (t - 1) * e)),
                "training: a later token changes which earlier tokens expert 2 takes (the causal leak)");
        // eval: token-choice TopK(p), row by row: tokens 0..t-2 route and gate exactly as before
        Routing a = route(r, z, k, info, false), b = route(r, z2, k, info, false);
        assertNull(a.taken(), "eval routing is token choice");
        assertArrayEquals(Arrays.copyOf(a.experts(), t - 1), Arrays.copyOf(b.experts(), t - 1));
        assertArrayEquals(Arrays.copyOf(a.gates().toArray(), t - 1), Arrays.copyOf(b.gates().toArray(), t - 1));
        int[] greedy = new int[t];
        float[] zz = z.toArray();
        for (int x = 0; x < t; x++) for (int i = 1; i < e; i++) if (zz[x * e + i] > zz[x * e + greedy[x]]) greedy[x] = i;
        assertArrayEquals(greedy, a.experts(), "eval = token-choice top-1 on the same scores");
    }

    @Test
    void configNeedsACapacityFactorAndRefusesMarAndTheExpertLosses() {
        MoeConfig ec = MoeConfig.defaults(4, 2, 3).withBalance(new BalanceConfig(Balancing.EC, Scope.GLOBAL));
        ConfigException noCf = assertThrows(ConfigException.class, () -> Routers.create(ec, 0));
        assertEquals("model.moe.capacity_factor", noCf.key(), noCf.getMessage());
        assertInstanceOf(ExpertChoiceRouter.class, Routers.create(ec.withCapacityFactor(1.0), 0));
        MoeConfig withMar = ec.withCapacityFactor(1.0).withMar(moelab.routing.mar.MarConfig.on());
        ConfigException mar = assertThrows(ConfigException.class, () -> Routers.forLayer(withMar, 0));
        assertEquals("model.moe.mar.enabled", mar.key(), mar.getMessage());
        MoeConfig withLosses = ec.withCapacityFactor(1.0).withExpertLosses(new moelab.losses.ExpertLossConfig(1.0, "subspace", 0, "per_token"));
        ConfigException losses = assertThrows(ConfigException.class, () -> Routers.forLayer(withLosses, 0));
        assertEquals("model.moe.expert_losses", losses.key(), losses.getMessage());
    }
}
