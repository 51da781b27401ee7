package moelab.nn;

import moelab.ops.CrossEntropy;
import moelab.ops.Elementwise;
import moelab.routing.TokenInfo;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class TransformerTest {
    static ModelConfig tiny(String moeLayers, boolean tied) {
        return new ModelConfig(17, 8, 2, 3, 12, 16, tied, 10000, 1e-5f, 0.1,
                MoeConfig.defaults(4, 2, 6).withSharedExperts(1).withLayers(moeLayers).withZLossCoef(1e-3));
    }

    @Test
    void everyParameterGetsAGradient() {
        Transformer m = new Transformer(tiny("every:2", false), 3);
        int[] tokens = {1, 5, 2, 16, 0, 3, 3, 9, 11, 4};
        int[] targets = {5, 2, 16, 0, 3, 3, 9, 11, 4, 7};
        Transformer.Output out = m.forward(tokens, TokenInfo.of(2, 5), true);
        assertArrayEquals(new int[]{10, 17}, out.logits().shape());
        assertEquals(1, out.routing().size(), "every:2 over 3 blocks makes block 1 MoE");
        assertNotNull(out.auxLoss());
        Tensor loss = Elementwise.add(CrossEntropy.crossEntropy(out.logits(), targets), out.auxLoss());
        loss.backward();
        for (Map.Entry<String, Tensor> e : m.parameters().asMap().entrySet()) {
            float[] g = e.getValue().grad();
            assertNotNull(g, e.getKey() + " has no gradient");
            double norm = 0;
            for (float v : g) norm += v * v;
            assertTrue(norm > 0 || e.getKey().contains(".w"), e.getKey() + " gradient is zero");
        }
    }

    @Test
    void tiedHeadHasNoSeparateMatrixAndSameSeedGivesSameModel() {
        Transformer a = new Transformer(tiny("all", true), 5), b = new Transformer(tiny("all", true), 5);
        assertFalse(a.parameters().asMap().containsKey("lm_head"));
        int[] tokens = {1, 2, 3, 4};
        assertArrayEquals(a.forward(tokens, TokenInfo.of(1, 4), false).logits().toArray(),
                b.forward(tokens, TokenInfo.of(1, 4), false).logits().toArray());
        assertEquals(3, a.routers().size());
    }

    static ModelConfig tagged(int tags) {
        ModelConfig c = tiny("all", false);
        return new ModelConfig(c.vocabSize(), c.dModel(), c.heads(), c.layers(), c.dFf(), c.maxSeqLen(), c.tiedEmbeddings(),
                c.ropeBase(), c.normEps(), c.initStd(), c.moe(), tags);
    }

    static float loss(Transformer m, int[] tokens, int[] targets, TokenInfo info) {
        Transformer.Output out = m.forward(tokens, info, true);
        Tensor loss = Elementwise.add(CrossEntropy.crossEntropy(out.logits(), targets), out.auxLoss());
        loss.backward();
        return loss.item();
    }

    static double lossOnly(Transformer m, int[] tokens, int[] targets, TokenInfo info) {
        Transformer.Output out = m.forward(tokens, info, true);
        return Elementwise.add(CrossEntropy.crossEntropy(out.logits(), targets), out.auxLoss()).item();
    }

    /** domain_emb [N, d] is added to the token embeddings: other weights as without tags, gradients as finite differences. */
    @Test
    void domainTagsAddALearnedEmbeddingOfEachTokensDomain() {
        Transformer plain = new Transformer(tiny("all", false), 7), tags = new Transformer(tagged(3), 7);
        Map<String, Tensor> p = plain.parameters().asMap(), t = tags.parameters().asMap();
        assertEquals(p.size() + 1, t.size());
        for (String name : p.keySet()) assertArrayEquals(p.get(name).toArray(), t.get(name).toArray(), name);
        Tensor emb = t.get("domain_emb");
        assertArrayEquals(new int[]{3, 8}, emb.shape());

        int[] tokens = {1, 5, 2, 16, 0, 3}, targets = {5, 2, 16, 0, 3, 9};
        int[] domains = {2, 2, 2, 0, 0, 0};                    // domain 1 occurs nowhere
        TokenInfo info = new TokenInfo(2, 3, domains);
        loss(tags, tokens, targets, info);
        float[] g = emb.grad().clone();
        for (int c = 0; c < 8; c++) assertEquals(0f, g[8 + c], "the row of an absent domain gets no gradient");
        double norm = 0;
        for (float v : g) norm += v * v;
        assertTrue(norm > 0);
        // central differences on a few entries of the used rows
        float h = 1e-3f;
        for (int idx : new int[]{0, 5, 16, 23}) {
            float[] w = emb.data();
            float keep = w[idx];
            w[idx] = keep + h;
            double up = lossOnly(tags, tokens, targets, info);
            w[idx] = keep - h;
            double down = lossOnly(tags, tokens, targets, info);
            w[idx] = keep;
            double fd = (up - down) / (2 * h);
            assertEquals(fd, g[idx], 2e-3 + 0.05 * Math.abs(fd), "domain_emb[" + idx + "]");
        }
        // a different tag changes the output; the same tokens without labels are refused, naming the key
        assertFalse(java.util.Arrays.equals(tags.forward(tokens, info, false).logits().toArray(),
                tags.forward(tokens, new TokenInfo(2, 3, new int[]{1, 1, 1, 0, 0, 0}), false).logits().toArray()));
        var e = assertThrows(IllegalArgumentException.class, () -> tags.forward(tokens, TokenInfo.of(2, 3), false));
        assertTrue(e.getMessage().contains("model.domain_tags") && e.getMessage().contains("no domain labels"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> tags.forward(tokens, new TokenInfo(2, 3, new int[]{0, 0, 0, 3, 3, 3}), false));
        assertTrue(e2.getMessage().contains("token 3 has domain 3"), e2.getMessage());
        var e3 = assertThrows(moelab.config.ConfigException.class, () -> tagged(-1));
        assertTrue(e3.getMessage().startsWith("model.domain_tags"), e3.getMessage());
    }

    @Test
    void configErrorsNameTheKey() {
        var e = assertThrows(moelab.config.ConfigException.class,
                () -> MoeConfig.defaults(4, 5, 6));
        assertTrue(e.getMessage().startsWith("model.moe.top_k"), e.getMessage());
        var e2 = assertThrows(moelab.config.ConfigException.class,
                () -> MoeConfig.defaults(4, 2, 6).withDropPolicy(null));
        assertTrue(e2.getMessage().contains("model.moe.drop_policy") && e2.getMessage().contains("probs or position"), e2.getMessage());
        var e3 = assertThrows(moelab.config.ConfigException.class,
                () -> new ModelConfig(17, 9, 2, 1, 4, 8, false, 1e4, 1e-5f, 0.02, null));
        assertTrue(e3.getMessage().startsWith("model.heads"), e3.getMessage());
    }

    @Test
    void aModelThatCannotFitIsRefusedBeforeAnythingIsAllocated() {
        ModelConfig huge = new ModelConfig(4096, 256, 4, Integer.MAX_VALUE, 1024, 256, false, 1e4, 1e-5f, 0.02, null);
        var e = assertThrows(moelab.config.ConfigException.class, () -> new Transformer(huge, 1));
        assertTrue(e.getMessage().contains("GiB") && e.getMessage().contains("-Xmx"), e.getMessage());
        ModelConfig wide = new ModelConfig(1 << 20, 4096, 4, 1, 8, 16, false, 1e4, 1e-5f, 0.02, null);
        var e2 = assertThrows(moelab.config.ConfigException.class, () -> wide.requireFits(Long.MAX_VALUE));
        assertTrue(e2.getMessage().contains("largest Java array"), e2.getMessage());
        ModelConfig small = tiny("all", false);
        small.requireFits(16 * small.parameterUpperBound()); // exactly enough: accepted
        assertThrows(moelab.config.ConfigException.class, () -> small.requireFits(16 * small.parameterUpperBound() - 1));
    }
}
