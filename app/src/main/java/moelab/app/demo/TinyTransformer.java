package moelab.app.demo;

import moelab.autograd.Parameters;
import moelab.ops.Attention;
import moelab.ops.Activations;
import moelab.ops.Elementwise;
import moelab.ops.Embedding;
import moelab.ops.MatMul;
import moelab.ops.RmsNorm;
import moelab.tensor.Tensor;

import java.util.Random;

/**
 * The demo's model: a byte-level decoder-only transformer with dense SwiGLU feed-forward blocks.
 * Small on purpose; the MoE model of the engine replaces it as the main job.
 *
 * <p>tokens [B*S] -> embedding [B*S,d] -> L x (RMSNorm, causal attention with RoPE, residual,
 * RMSNorm, SwiGLU MLP, residual) -> RMSNorm -> logits [B*S,V].
 */
public final class TinyTransformer {
    public static final int VOCAB = 256;
    private final int dModel, heads, layers, dFf;
    private final Parameters params = new Parameters();

    public TinyTransformer(int dModel, int heads, int layers, int dFf, long seed) {
        if (dModel % heads != 0) throw new IllegalArgumentException("dModel " + dModel + " must be divisible by heads " + heads);
        this.dModel = dModel; this.heads = heads; this.layers = layers; this.dFf = dFf;
        Random rng = new Random(seed);
        float std = 0.02f, outStd = (float) (0.02 / Math.sqrt(2.0 * layers)); // GPT-2 style scaled residual init
        params.add("tok_emb", Tensor.randn(rng, std, VOCAB, dModel));
        for (int l = 0; l < layers; l++) {
            String p = "layers." + l + ".";
            params.add(p + "attn_norm", Tensor.full(1f, dModel));
            params.add(p + "wq", Tensor.randn(rng, std, dModel, dModel));
            params.add(p + "wk", Tensor.randn(rng, std, dModel, dModel));
            params.add(p + "wv", Tensor.randn(rng, std, dModel, dModel));
            params.add(p + "wo", Tensor.randn(rng, outStd, dModel, dModel));
            params.add(p + "ffn_norm", Tensor.full(1f, dModel));
            params.add(p + "w1", Tensor.randn(rng, std, dModel, dFf));
            params.add(p + "w3", Tensor.randn(rng, std, dModel, dFf));
            params.add(p + "w2", Tensor.randn(rng, outStd, dFf, dModel));
        }
        params.add("final_norm", Tensor.full(1f, dModel));
        params.add("lm_head", Tensor.randn(rng, std, dModel, VOCAB));
    }

    public Parameters parameters() { return params; }

    /** tokens [batch*seq] -> logits [batch*seq, VOCAB]. */
    public Tensor forward(int[] tokens, int batch, int seq) {
        if (tokens.length != batch * seq)
            throw new IllegalArgumentException("forward: " + tokens.length + " tokens for batch " + batch + " x seq " + seq);
        Tensor x = Embedding.embedding(params.get("tok_emb"), tokens);           // [B*S, d]
        for (int l = 0; l < layers; l++) {
            String p = "layers." + l + ".";
            Tensor h = RmsNorm.rmsnorm(x, params.get(p + "attn_norm"), 1e-5f);
            x = Elementwise.add(x, attention(h, p, batch, seq));
            h = RmsNorm.rmsnorm(x, params.get(p + "ffn_norm"), 1e-5f);
            Tensor gate = MatMul.matmul(h, params.get(p + "w1"));                // [B*S, f]
            Tensor up = MatMul.matmul(h, params.get(p + "w3"));                  // [B*S, f]
            x = Elementwise.add(x, MatMul.matmul(Activations.swiglu(gate, up), params.get(p + "w2")));
        }
        x = RmsNorm.rmsnorm(x, params.get("final_norm"), 1e-5f);
        return MatMul.matmul(x, params.get("lm_head"));                           // [B*S, V]
    }

    // h [B*S, d] -> [B*S, d]
    private Tensor attention(Tensor h, String p, int batch, int seq) {
        int dh = dModel / heads;
        Tensor q = Attention.rope(splitHeads(MatMul.matmul(h, params.get(p + "wq")), batch, seq, dh), 10000);
        Tensor k = Attention.rope(splitHeads(MatMul.matmul(h, params.get(p + "wk")), batch, seq, dh), 10000);
        Tensor v = splitHeads(MatMul.matmul(h, params.get(p + "wv")), batch, seq, dh);
        Tensor o = Attention.causal(q, k, v);                                     // [B, H, S, dh]
        Tensor merged = o.transpose(1, 2).contiguous().reshape(batch * seq, dModel);
        return MatMul.matmul(merged, params.get(p + "wo"));
    }

    // [B*S, d] -> [B, H, S, dh]
    private Tensor splitHeads(Tensor x, int batch, int seq, int dh) {
        return x.reshape(batch, seq, heads, dh).transpose(1, 2).contiguous();
    }

    public int dModel() { return dModel; }
    public int dFf() { return dFf; }
}
