package moelab.app.lm;

import moelab.tensor.NoGrad;
import moelab.data.Tokenizer;
import moelab.nn.Transformer;
import moelab.routing.Routing;
import moelab.routing.TokenInfo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a text's tokens go: runs the model on the text (inference routing, no capacity drops)
 * and reads, per MoE layer, the experts each token was sent to and their gate weights.
 */
public final class Inspector {
    private Inspector() {}

    /**
     * One MoE layer's decision for the text.
     *
     * @param selected expert of slot (t, j) at [t*k + j]
     * @param gates    gate weight of slot (t, j) at [t*k + j]
     */
    public record LayerRoute(int layer, int experts, int topK, int[] selected, float[] gates) {}

    /**
     * @param ids       the token ids inspected
     * @param tokens    each token as text
     * @param layers    one entry per MoE layer, in block order
     * @param truncated the text had more tokens than model.max_seq_len; only the first ones were inspected
     */
    public record Result(int[] ids, List<String> tokens, List<LayerRoute> layers, boolean truncated) {}

    /** The model must have been built with {@code trace.routers()} as its router factory. */
    public static Result inspect(Transformer model, RoutingTrace trace, Tokenizer tok, String text) {
        int[] ids = tok.encode(text);
        if (ids.length == 0) throw new IllegalArgumentException("inspect: the text gives no tokens");
        int max = model.config().maxSeqLen();
        boolean truncated = ids.length > max;
        if (truncated) ids = Arrays.copyOf(ids, max);
        checkIds(ids, model.config().vocabSize(), tok);
        trace.clear();
        try (var _ = NoGrad.enter()) {
            model.forward(ids, TokenInfo.of(1, ids.length), false);
        }
        if (model.config().moe() != null && trace.last().isEmpty())
            throw new IllegalStateException("inspect: the model's routers were not traced; build it with RoutingTrace.routers()");
        List<LayerRoute> layers = new ArrayList<>();
        int experts = model.config().moe() == null ? 0 : model.config().moe().experts();
        for (Map.Entry<Integer, Routing> e : trace.last().entrySet()) {
            Routing r = e.getValue();
            int k = r.experts().length / ids.length;
            layers.add(new LayerRoute(e.getKey(), experts, k, r.experts().clone(), r.gates().toArray()));
        }
        return new Result(ids, tokenTexts(ids, tok), List.copyOf(layers), truncated);
    }

    /**
     * Each token as text. A token that holds only part of a multi-byte UTF-8 character (a byte
     * token of 'ü' or '語') shows that character and which of its bytes it holds, "ü 1/2", rather
     * than the replacement character its bytes decode to alone.
     */
    static List<String> tokenTexts(int[] ids, Tokenizer tok) {
        List<byte[]> parts = new ArrayList<>();
        for (int id : ids) parts.add(bytesOf(tok, id));
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) all.writeBytes(p);
        byte[] text = all.toByteArray();
        List<String> out = new ArrayList<>();
        int pos = 0;
        for (int t = 0; t < ids.length; t++) {
            int start = pos, end = pos + parts.get(t).length;
            pos = end;
            int cs = charStart(text, start), ce = end < text.length ? charStart(text, end) : text.length;
            if (cs == start && ce == end) {                          // whole characters
                out.add(new String(text, start, end - start, java.nio.charset.StandardCharsets.UTF_8));
                continue;
            }
            int len = Math.max(1, utf8Length(text[cs]));
            String chars = new String(text, cs, Math.min(Math.max(ce, cs + len), text.length) - cs, java.nio.charset.StandardCharsets.UTF_8);
            out.add(end - start == 1 && ce <= cs + len
                    ? chars + " " + (start - cs + 1) + "/" + len
                    : chars + " (part)");
        }
        return List.copyOf(out);
    }

    private static byte[] bytesOf(Tokenizer tok, int id) {
        if (tok instanceof moelab.data.ByteTokenizer b) return b.decodeBytes(new int[]{id});
        if (tok instanceof moelab.data.BpeTokenizer b) return b.tokenBytes(id);
        return tok.decode(new int[]{id}).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    // the index of the first byte of the UTF-8 character that byte i belongs to (continuation bytes are 10xxxxxx)
    private static int charStart(byte[] b, int i) {
        int s = i;
        while (s > 0 && s > i - 3 && (b[s] & 0xC0) == 0x80) s--;
        return (b[s] & 0xC0) == 0x80 ? i : s;
    }

    private static int utf8Length(byte lead) {
        int v = lead & 0xFF;
        return v < 0x80 ? 1 : v >= 0xF0 ? 4 : v >= 0xE0 ? 3 : v >= 0xC0 ? 2 : 1;
    }

    static void checkIds(int[] ids, int vocab, Tokenizer tok) {
        for (int id : ids)
            if (id < 0 || id >= vocab)
                throw new IllegalArgumentException("token id " + id + " from the " + tok.name() + " tokenizer is outside model.vocab_size " + vocab);
    }

    /**
     * The routing as a table: one row per token, one column per MoE layer with its k experts
     * and gate weights ("3:0.62 5:0.21"), then the routes each expert received per layer.
     */
    public static String table(Result r) {
        StringBuilder sb = new StringBuilder();
        if (r.layers().isEmpty()) return "no MoE layers in this model: every token goes through the dense feed-forward\n";
        int tokW = 5;
        for (String t : r.tokens()) tokW = Math.max(tokW, show(t).length());
        tokW = Math.min(tokW, 16);
        int posW = Math.max(3, Integer.toString(r.ids().length - 1).length());
        List<Integer> cellW = new ArrayList<>();
        for (LayerRoute l : r.layers()) {
            int entry = Integer.toString(l.experts() - 1).length() + 5;     // "e:0.00"
            cellW.add(Math.max(("layer " + l.layer()).length(), l.topK() * entry + (l.topK() - 1)));
        }
        sb.append(pad("pos", posW, true)).append("  ").append(pad("token", tokW, false));
        for (int i = 0; i < r.layers().size(); i++) sb.append(" | ").append(pad("layer " + r.layers().get(i).layer(), cellW.get(i), false));
        sb.append('\n');
        sb.append("-".repeat(posW + 2 + tokW + cellW.stream().mapToInt(w -> w + 3).sum())).append('\n');
        for (int t = 0; t < r.ids().length; t++) {
            sb.append(pad(Integer.toString(t), posW, true)).append("  ").append(pad(show(r.tokens().get(t)), tokW, false));
            for (int i = 0; i < r.layers().size(); i++) {
                LayerRoute l = r.layers().get(i);
                StringBuilder cell = new StringBuilder();
                for (int j = 0; j < l.topK(); j++) {
                    if (j > 0) cell.append(' ');
                    cell.append(l.selected()[t * l.topK() + j]).append(':')
                            .append(String.format(Locale.ROOT, "%.2f", l.gates()[t * l.topK() + j]));
                }
                sb.append(" | ").append(pad(cell.toString(), cellW.get(i), false));
            }
            sb.append('\n');
        }
        sb.append("\nroutes per expert (expert:count)\n");
        for (LayerRoute l : r.layers()) {
            long[] c = new long[l.experts()];
            for (int e : l.selected()) c[e]++;
            sb.append("  layer ").append(l.layer()).append(':');
            for (int e = 0; e < c.length; e++) sb.append(' ').append(e).append(':').append(c[e]);
            sb.append('\n');
        }
        if (r.truncated()) sb.append("(text cut to the first ").append(r.ids().length).append(" tokens, model.max_seq_len)\n");
        return sb.toString();
    }

    /** A token quoted, with control and invisible characters escaped: 'a', ' ', '\n', '\x07'. */
    static String show(String s) {
        StringBuilder b = new StringBuilder("'");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                case '\'' -> b.append("\\'");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
                    else b.append(c);
                }
            }
        }
        String out = b.append('\'').toString();
        return out.codePointCount(0, out.length()) > 16 ? out.substring(0, 14) + "…'" : out;
    }

    private static String pad(String s, int w, boolean right) {
        if (s.length() >= w) return s;
        String sp = " ".repeat(w - s.length());
        return right ? sp + s : s + sp;
    }
}
