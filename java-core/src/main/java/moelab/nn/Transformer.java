package moelab.nn;

import moelab.tensor.Parameters;
import moelab.losses.ExpertLossConfig;
import moelab.losses.ExpertLosses;
import moelab.ops.Attention;
import moelab.ops.Elementwise;
import moelab.ops.Embedding;
import moelab.ops.MatMul;
import moelab.ops.RmsNorm;
import moelab.routing.Router;
import moelab.routing.RoutingRecord;
import moelab.routing.TokenInfo;
import moelab.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;

/**
 * Decoder-only transformer with pre-norm blocks: tokens [B*S] -> embedding [B*S, d] ->
 * L x (x += attn(RMSNorm(x)); x += ffn(RMSNorm(x))) -> RMSNorm -> logits [B*S, V]. Attention is
 * causal multi-head with RoPE; the feed-forward of each block is dense SwiGLU or MoE (config).
 *
 * <p>Parameter names (the safetensors names): tok_emb [V,d]; layers.i.attn_norm [d];
 * layers.i.attn.wq|wk|wv|wo [d,d]; layers.i.ffn_norm [d]; dense: layers.i.ffn.w1|w3 [d,f],
 * layers.i.ffn.w2 [f,d]; MoE: layers.i.moe.router [d,E], layers.i.moe.w1|w3 [E,d,f],
 * layers.i.moe.w2 [E,f,d], layers.i.moe.shared.w1|w3|w2; final_norm [d]; lm_head [d,V] unless tied;
 * domain_emb [N,d] with N = model.domain_tags > 0.
 * Matrices are [in, out]: y = x·W (PyTorch's nn.Linear stores the transpose).
 */
public final class Transformer {
    private final ModelConfig cfg;
    private final Parameters params = new Parameters();
    private final Tensor tokEmb, finalNorm, lmHead, domainEmb;
    private final List<Block> blocks = new ArrayList<>();
    private final ExpertLosses expertLosses;

    private record Block(Tensor attnNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo, Tensor ffnNorm,
                         DenseFeedForward dense, MoeFeedForward moe) {}

    /** Model with the routers named by the config. */
    public Transformer(ModelConfig cfg, long seed) { this(cfg, seed, Routers::forLayer); }

    /** Model with custom routers: routerFactory(moeConfig, layerIndex). */
    public Transformer(ModelConfig cfg, long seed, BiFunction<MoeConfig, Integer, Router> routerFactory) {
        cfg.requireFits(Runtime.getRuntime().maxMemory());
        this.cfg = cfg;
        Random rng = new Random(seed);
        int d = cfg.dModel();
        double std = cfg.initStd(), outStd = cfg.initStd() / Math.sqrt(2.0 * cfg.layers()); // scaled residual init
        expertLosses = new ExpertLosses(cfg.moe() != null ? cfg.moe().expertLosses() : ExpertLossConfig.off());
        tokEmb = params.add("tok_emb", Tensor.randn(rng, (float) std, cfg.vocabSize(), d));
        for (int l = 0; l < cfg.layers(); l++) {
            String p = "layers." + l + ".";
            Tensor attnNorm = params.add(p + "attn_norm", Tensor.full(1f, d));
            Tensor wq = params.add(p + "attn.wq", Tensor.randn(rng, (float) std, d, d));
            Tensor wk = params.add(p + "attn.wk", Tensor.randn(rng, (float) std, d, d));
            Tensor wv = params.add(p + "attn.wv", Tensor.randn(rng, (float) std, d, d));
            Tensor wo = params.add(p + "attn.wo", Tensor.randn(rng, (float) outStd, d, d));
            Tensor ffnNorm = params.add(p + "ffn_norm", Tensor.full(1f, d));
            DenseFeedForward dense = null;
            MoeFeedForward moe = null;
            if (cfg.isMoeLayer(l))
                moe = new MoeFeedForward(p + "moe.", l, d, cfg.moe(), std, outStd, params, rng, routerFactory.apply(cfg.moe(), l), expertLosses);
            else
                dense = new DenseFeedForward(p + "ffn.", d, cfg.dFf(), std, outStd, params, rng);
            blocks.add(new Block(attnNorm, wq, wk, wv, wo, ffnNorm, dense, moe));
        }
        finalNorm = params.add("final_norm", Tensor.full(1f, d));
        lmHead = cfg.tiedEmbeddings() ? null : params.add("lm_head", Tensor.randn(rng, (float) std, d, cfg.vocabSize()));
        // drawn last, so a model without tags initialises every other weight exactly as with them
        domainEmb = cfg.domainTags() == 0 ? null : params.add("domain_emb", Tensor.randn(rng, (float) std, cfg.domainTags(), d));
    }

    public ModelConfig config() { return cfg; }
    public Parameters parameters() { return params; }

    /** The orthogonality / variance loss state shared by the MoE blocks (coefficients, last raw values). */
    public ExpertLosses expertLosses() { return expertLosses; }

    /** The MoE feed-forward of every MoE block, in block order. */
    public List<MoeFeedForward> moeLayers() {
        List<MoeFeedForward> ls = new ArrayList<>();
        for (Block b : blocks) if (b.moe != null) ls.add(b.moe);
        return ls;
    }

    /** The router of every MoE block, in block order. */
    public List<Router> routers() {
        List<Router> rs = new ArrayList<>();
        for (Block b : blocks) if (b.moe != null) rs.add(b.moe.router());
        return rs;
    }

    /**
     * @param logits   [B*S, V]
     * @param auxLoss  sum over MoE layers of their auxiliary losses (scalar), or null
     * @param routing  one record per MoE layer
     */
    public record Output(Tensor logits, Tensor auxLoss, List<RoutingRecord> routing) {}

    /** tokens [B*S] (row-major sequences) -> logits [B*S, V]. training selects training routing. */
    public Output forward(int[] tokens, TokenInfo info, boolean training) {
        if (tokens.length != info.tokens())
            throw new IllegalArgumentException("forward: " + tokens.length + " tokens for batch " + info.batch() + " x seq " + info.seqLen());
        if (info.seqLen() > cfg.maxSeqLen())
            throw new IllegalArgumentException("forward: sequence length " + info.seqLen() + " exceeds model.max_seq_len " + cfg.maxSeqLen());
        Tensor x = Embedding.embedding(tokEmb, tokens);                             // [T, d]
        if (domainEmb != null) x = Elementwise.add(x, Embedding.embedding(domainEmb, domainTags(info))); // + tag [T, d]
        Tensor aux = null;
        List<RoutingRecord> routing = new ArrayList<>();
        for (Block b : blocks) {
            x = Elementwise.add(x, attention(b, RmsNorm.rmsnorm(x, b.attnNorm, cfg.normEps()), info));
            Tensor h = RmsNorm.rmsnorm(x, b.ffnNorm, cfg.normEps());
            if (b.moe != null) {
                MoeFeedForward.Output o = b.moe.forward(h, info, training);
                x = Elementwise.add(x, o.y());
                if (o.auxLoss() != null) aux = aux == null ? o.auxLoss() : Elementwise.add(aux, o.auxLoss());
                routing.add(o.routing());
            } else {
                x = Elementwise.add(x, b.dense.forward(h));
            }
        }
        x = RmsNorm.rmsnorm(x, finalNorm, cfg.normEps());
        Tensor logits = MatMul.matmul(x, lmHead != null ? lmHead : tokEmb.t());    // [T, V]
        return new Output(logits, aux, Collections.unmodifiableList(routing));
    }

    /** The domain of every token, checked against model.domain_tags. */
    private int[] domainTags(TokenInfo info) {
        int[] dom = info.domains();
        if (dom == null)
            throw new IllegalArgumentException("model.domain_tags=" + cfg.domainTags() + ": the tokens carry no domain labels (TokenInfo.domains is null)");
        for (int t = 0; t < dom.length; t++)
            if (dom[t] < 0 || dom[t] >= cfg.domainTags())
                throw new IllegalArgumentException("model.domain_tags=" + cfg.domainTags() + ": token " + t + " has domain " + dom[t]
                        + ", outside [0, " + cfg.domainTags() + ")");
        return dom;
    }

    // h [B*S, d] -> [B*S, d]; q, k, v and the attention output stay [B*S, H*dh] (no head transposes)
    private Tensor attention(Block b, Tensor h, TokenInfo info) {
        int batch = info.batch(), heads = cfg.heads();
        Tensor q = Attention.ropeHeads(MatMul.matmul(h, b.wq), batch, heads, cfg.ropeBase());
        Tensor k = Attention.ropeHeads(MatMul.matmul(h, b.wk), batch, heads, cfg.ropeBase());
        Tensor v = MatMul.matmul(h, b.wv);
        Tensor o = Attention.causalHeads(q, k, v, batch, heads);                   // [B*S, H*dh]
        return MatMul.matmul(o, b.wo);
    }
}
