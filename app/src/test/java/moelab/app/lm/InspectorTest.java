package moelab.app.lm;

import moelab.tensor.NoGrad;
import moelab.data.Tokenizer;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import moelab.nn.Transformer;
import moelab.routing.RoutingRecord;
import moelab.routing.TokenInfo;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class InspectorTest {
    /** Bytes as ids: enough of a tokenizer for these tests. */
    static final Tokenizer BYTES = new Tokenizer() {
        @Override public String name() { return "test-bytes"; }
        @Override public int vocabSize() { return 256; }
        @Override public int[] encode(String text) {
            byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
            int[] ids = new int[b.length];
            for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xff;
            return ids;
        }
        @Override public String decode(int[] ids) {
            byte[] b = new byte[ids.length];
            for (int i = 0; i < ids.length; i++) b[i] = (byte) ids[i];
            return new String(b, StandardCharsets.ISO_8859_1);
        }
    };

    static ModelConfig tiny(boolean normTopK, String moeLayers) {
        return new ModelConfig(256, 16, 2, 3, 24, 12, false, 1e4, 1e-5f, 0.2,
                MoeConfig.defaults(5, 2, 8).withLayers(moeLayers).withNormTopK(normTopK));
    }

    @Test
    void gatesAndExpertsPerTokenPerLayerMatchWhatTheModelDid() {
        RoutingTrace trace = new RoutingTrace();
        Transformer model = new Transformer(tiny(false, "0,2"), 11, trace.routers());
        String text = "Hi\tyou\n";
        Inspector.Result r = Inspector.inspect(model, trace, BYTES, text);
        assertEquals(7, r.ids().length);
        assertFalse(r.truncated());
        assertEquals(List.of(0, 2), r.layers().stream().map(Inspector.LayerRoute::layer).toList());

        // the same forward without tracing gives the same choices, and gates are the router probabilities (no renormalisation)
        Transformer plain = new Transformer(tiny(false, "0,2"), 11);
        List<RoutingRecord> records;
        try (var _ = NoGrad.enter()) {
            records = plain.forward(r.ids(), TokenInfo.of(1, r.ids().length), false).routing();
        }
        for (int i = 0; i < 2; i++) {
            Inspector.LayerRoute l = r.layers().get(i);
            RoutingRecord rec = records.get(i);
            assertArrayEquals(rec.selected(), l.selected());
            assertEquals(2, l.topK());
            for (int t = 0; t < r.ids().length; t++) {
                assertNotEquals(l.selected()[t * 2], l.selected()[t * 2 + 1], "k distinct experts");
                for (int j = 0; j < 2; j++)
                    assertEquals(rec.probs()[t * 5 + l.selected()[t * 2 + j]], l.gates()[t * 2 + j], 1e-6f);
                assertTrue(l.gates()[t * 2] >= l.gates()[t * 2 + 1], "top-1 first");
            }
        }

        String table = Inspector.table(r);
        String[] lines = table.split("\n");
        assertTrue(lines[0].matches("pos  token\\s+\\| layer 0\\s+\\| layer 2\\s*"), lines[0]);
        assertTrue(lines[2].startsWith("  0  'H' "), lines[2]);
        assertTrue(lines[4].startsWith("  2  '\\t'"), lines[4]);
        assertTrue(lines[8].startsWith("  6  '\\n'"), lines[8]);
        Inspector.LayerRoute l2 = r.layers().get(1);
        String cell = l2.selected()[6 * 2] + ":" + String.format(java.util.Locale.ROOT, "%.2f", l2.gates()[6 * 2]) + " "
                + l2.selected()[6 * 2 + 1] + ":" + String.format(java.util.Locale.ROOT, "%.2f", l2.gates()[6 * 2 + 1]);
        assertTrue(lines[8].endsWith("| " + cell) || lines[8].contains("| " + cell + " "), lines[8] + " should show " + cell);
        assertTrue(table.contains("routes per expert"));
        long routes = 0;
        for (String part : lines[lines.length - 1].substring(lines[lines.length - 1].indexOf(':') + 1).trim().split(" "))
            routes += Long.parseLong(part.split(":")[1]);
        assertEquals(7 * 2, routes, "every token's k routes counted: " + lines[lines.length - 1]);
    }

    @Test
    void renormalisedGatesSumToOneAndLongTextsAreCut() {
        RoutingTrace trace = new RoutingTrace();
        Transformer model = new Transformer(tiny(true, "all"), 3, trace.routers());
        Inspector.Result r = Inspector.inspect(model, trace, BYTES, "a text longer than twelve bytes");
        assertTrue(r.truncated());
        assertEquals(12, r.ids().length);
        assertEquals(3, r.layers().size());
        for (Inspector.LayerRoute l : r.layers())
            for (int t = 0; t < 12; t++) assertEquals(1f, l.gates()[2 * t] + l.gates()[2 * t + 1], 1e-5f);
        assertTrue(Inspector.table(r).contains("cut to the first 12 tokens"));
    }

    @Test
    void clearErrors() {
        RoutingTrace trace = new RoutingTrace();
        Transformer model = new Transformer(tiny(false, "all"), 3, trace.routers());
        assertThrows(IllegalArgumentException.class, () -> Inspector.inspect(model, trace, BYTES, ""));
        Transformer untraced = new Transformer(tiny(false, "all"), 3);
        var e = assertThrows(IllegalStateException.class, () -> Inspector.inspect(untraced, trace, BYTES, "x"));
        assertTrue(e.getMessage().contains("RoutingTrace.routers()"));
        Transformer small = new Transformer(new ModelConfig(64, 16, 2, 1, 24, 12, false, 1e4, 1e-5f, 0.2, null), 1);
        var v = assertThrows(IllegalArgumentException.class, () -> Inspector.inspect(small, trace, BYTES, "~"));
        assertTrue(v.getMessage().contains("outside model.vocab_size 64"), v.getMessage());
        assertEquals("'\\x07'", Inspector.show("\u0007"));
    }

    @Test
    void denseModelSaysSo() {
        RoutingTrace trace = new RoutingTrace();
        Transformer dense = new Transformer(new ModelConfig(256, 16, 2, 1, 24, 12, false, 1e4, 1e-5f, 0.2, null), 1, trace.routers());
        Inspector.Result r = Inspector.inspect(dense, trace, BYTES, "ab");
        assertTrue(Inspector.table(r).startsWith("no MoE layers"));
    }

    @Test
    void multiByteCharactersShowTheCharacterAndWhichByteEachTokenHolds() {
        var tok = new moelab.data.ByteTokenizer();
        int[] ids = tok.encode("aü語");
        assertEquals(List.of("a", "ü 1/2", "ü 2/2", "語 1/3", "語 2/3", "語 3/3"), Inspector.tokenTexts(ids, tok));
        assertFalse(String.join("", Inspector.tokenTexts(ids, tok)).contains("\uFFFD"));
    }
}
