package moelab.app.lm;

import moelab.tensor.NoGrad;
import moelab.data.Tokenizer;
import moelab.nn.Transformer;
import moelab.routing.TokenInfo;
import moelab.tensor.Tensor;

import java.util.Arrays;
import java.util.Random;

/**
 * Text continuation: feeds the prompt, then repeatedly samples the next token from the last
 * position's logits (temperature, optional top-k; temperature 0 = greedy) and appends it. The
 * context is the last model.max_seq_len tokens. No KV cache: each step reruns the context,
 * which is fine for the small models this engine trains. Seeded: same seed, same text.
 */
public final class Generator {
    private Generator() {}

    /** @param ids the prompt's tokens followed by the generated ones; text the decoded continuation only */
    public record Result(int[] ids, int promptLength, String text) {}

    public static Result generate(Transformer model, Tokenizer tok, String prompt, int maxNewTokens,
                                  double temperature, int topK, long seed) {
        if (maxNewTokens < 0) throw new IllegalArgumentException("generate: --tokens must be >= 0, got " + maxNewTokens);
        if (!(temperature >= 0) || Double.isInfinite(temperature))
            throw new IllegalArgumentException("generate: --temperature must be >= 0 (0 = greedy), got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("generate: --top-k must be >= 0 (0 = all tokens), got " + topK);
        int[] prompted = tok.encode(prompt);
        if (prompted.length == 0) throw new IllegalArgumentException("generate: the prompt gives no tokens; give a non-empty --prompt");
        int vocab = model.config().vocabSize(), window = model.config().maxSeqLen();
        Inspector.checkIds(prompted, vocab, tok);
        int[] ids = Arrays.copyOf(prompted, prompted.length + maxNewTokens);
        Random rng = new Random(seed);
        try (var _ = NoGrad.enter()) {
            for (int n = prompted.length; n < ids.length; n++) {
                int from = Math.max(0, n - window);
                int[] ctx = Arrays.copyOfRange(ids, from, n);
                Tensor logits = model.forward(ctx, TokenInfo.of(1, ctx.length), false).logits();   // [T, V]
                float[] all = logits.toArray();
                ids[n] = sample(all, (ctx.length - 1) * vocab, vocab, temperature, topK, rng);
            }
        }
        return new Result(ids, prompted.length, tok.decode(Arrays.copyOfRange(ids, prompted.length, ids.length)));
    }

    /** Picks a token from logits[off .. off+v): argmax at temperature 0, else softmax(logits / T) over the top k. */
    static int sample(float[] logits, int off, int v, double temperature, int topK, Random rng) {
        if (temperature == 0) {
            int best = 0;
            for (int i = 1; i < v; i++) if (logits[off + i] > logits[off + best]) best = i;
            return best;
        }
        double cutoff = Double.NEGATIVE_INFINITY;
        if (topK > 0 && topK < v) {
            float[] sorted = Arrays.copyOfRange(logits, off, off + v);
            Arrays.sort(sorted);
            cutoff = sorted[v - topK];                                     // ties at the cutoff stay in
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, logits[off + i]);
        double[] p = new double[v];
        double sum = 0;
        for (int i = 0; i < v; i++) {
            p[i] = logits[off + i] >= cutoff ? Math.exp((logits[off + i] - max) / temperature) : 0;
            sum += p[i];
        }
        double u = rng.nextDouble() * sum;
        for (int i = 0; i < v; i++) {
            u -= p[i];
            if (u < 0) return i;
        }
        for (int i = v - 1; i >= 0; i--) if (p[i] > 0) return i;           // rounding left u >= 0
        return 0;
    }
}
