package moelab.nn;

import moelab.config.ConfigException;

/**
 * Decoder-only transformer settings (YAML section {@code model}, snake_case keys).
 *
 * @param vocabSize      tokens in the vocabulary (256 for the byte tokenizer)
 * @param dModel         residual width
 * @param heads          attention heads; dModel % heads == 0 and dModel/heads even (RoPE)
 * @param layers         transformer blocks
 * @param dFf            hidden width of the dense SwiGLU feed-forward (blocks that are not MoE)
 * @param maxSeqLen      longest sequence the model is used with
 * @param tiedEmbeddings LM head shares the token embedding matrix
 * @param ropeBase       RoPE frequency base
 * @param normEps        RMSNorm epsilon
 * @param initStd        std of the normal initialisation of weight matrices
 * @param moe            MoE feed-forward settings; null = all blocks dense
 * @param domainTags     number of domain tags: > 0 adds a learned embedding of each token's domain
 *                       to its token embedding (the input-tag control for the reference router);
 *                       0 = off
 */
public record ModelConfig(int vocabSize, int dModel, int heads, int layers, int dFf, int maxSeqLen,
                          boolean tiedEmbeddings, double ropeBase, float normEps, double initStd, MoeConfig moe,
                          int domainTags) {
    /** A model without domain tags. */
    public ModelConfig(int vocabSize, int dModel, int heads, int layers, int dFf, int maxSeqLen,
                       boolean tiedEmbeddings, double ropeBase, float normEps, double initStd, MoeConfig moe) {
        this(vocabSize, dModel, heads, layers, dFf, maxSeqLen, tiedEmbeddings, ropeBase, normEps, initStd, moe, 0);
    }

    public ModelConfig {
        ConfigException.require(vocabSize >= 2, "model.vocab_size", "must be >= 2, got " + vocabSize);
        ConfigException.require(dModel >= 2, "model.d_model", "must be >= 2, got " + dModel);
        ConfigException.require(heads >= 1 && dModel % heads == 0, "model.heads", "must divide d_model=" + dModel + ", got " + heads);
        ConfigException.require((dModel / heads) % 2 == 0, "model.heads", "head size d_model/heads=" + (dModel / Math.max(heads, 1)) + " must be even for RoPE");
        ConfigException.require(layers >= 1, "model.layers", "must be >= 1, got " + layers);
        ConfigException.require(dFf >= 1, "model.d_ff", "must be >= 1, got " + dFf);
        ConfigException.require(maxSeqLen >= 1, "model.max_seq_len", "must be >= 1, got " + maxSeqLen);
        ConfigException.require(ropeBase > 0, "model.rope_base", "must be > 0, got " + ropeBase);
        ConfigException.require(normEps > 0, "model.norm_eps", "must be > 0, got " + normEps);
        ConfigException.require(initStd > 0, "model.init_std", "must be > 0, got " + initStd);
        ConfigException.require(domainTags >= 0, "model.domain_tags", "must be >= 0 (0 = off), got " + domainTags);
    }

    public boolean isMoeLayer(int layer) { return moe != null && moe.isMoeLayer(layer, layers); }

    /**
     * An upper bound on the parameter count (every block as its larger kind, dense or MoE), in
     * long arithmetic: enough to refuse a model that cannot fit before any array is allocated.
     */
    public long parameterUpperBound() {
        long d = dModel, dense = 3 * d * dFf;
        long moeBlock = moe == null ? 0 : (3L * moe.experts() + 3L * moe.sharedExperts()) * d * moe.dFf() + d * moe.experts();
        long block = 4 * d * d + 2 * d + Math.max(dense, moeBlock);
        return (tiedEmbeddings ? 1 : 2) * (long) vocabSize * d + (long) domainTags * d + d + (long) layers * block;
    }

    /**
     * Refuses a model whose largest tensor exceeds a Java array or whose weights, gradients and
     * AdamW moments (16 bytes per parameter) exceed maxBytes of heap, naming the sizes.
     */
    public void requireFits(long maxBytes) {
        long expert = moe == null ? 0 : (long) moe.experts() * dModel * moe.dFf();
        long largest = Math.max(Math.max((long) vocabSize * dModel, 3L * dModel * dFf), expert);
        ConfigException.require(largest <= Integer.MAX_VALUE - 8, "model",
                "a weight tensor of " + largest + " values is larger than the largest Java array (2^31 - 9 values)");
        long params = parameterUpperBound(), need = 16 * params;
        ConfigException.require(need <= maxBytes, "model", String.format(java.util.Locale.ROOT,
                "up to %,d parameters need up to %.1f GiB for weights, gradients and AdamW state, but this JVM may use %.1f GiB"
                        + " (shrink the model or raise -Xmx)", params, need / 1073741824.0, maxBytes / 1073741824.0));
    }
}
