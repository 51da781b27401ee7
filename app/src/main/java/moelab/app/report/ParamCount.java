package moelab.app.report;

import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;

/**
 * Parameter counts of a Transformer, from its config alone (the report has no model at hand).
 *
 * @param total          every trainable float
 * @param activePerToken floats a token's forward pass touches: all but the experts it is not routed to
 * @param embedding      token embedding (and the LM head when untied, and the domain tags)
 */
public record ParamCount(long total, long activePerToken, long embedding) {

    public static ParamCount of(ModelConfig c) {
        long d = c.dModel(), v = c.vocabSize();
        long embedding = v * d * (c.tiedEmbeddings() ? 1 : 2) + (long) c.domainTags() * d;
        long total = embedding + d, active = embedding + d;                 // + final_norm
        for (int l = 0; l < c.layers(); l++) {
            long common = 2 * d + 4 * d * d;                                 // attn_norm, ffn_norm, wq wk wv wo
            total += common;
            active += common;
            if (c.isMoeLayer(l)) {
                MoeConfig m = c.moe();
                long expert = 3 * d * m.dFf();                               // w1, w3 [d,f], w2 [f,d]
                long fixed = d * m.experts() + m.sharedExperts() * expert;   // router, shared experts
                total += fixed + m.experts() * expert;
                active += fixed + m.topK() * expert;
            } else {
                total += 3 * d * c.dFf();
                active += 3 * d * c.dFf();
            }
        }
        return new ParamCount(total, active, embedding);
    }
}
