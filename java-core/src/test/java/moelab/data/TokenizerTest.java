package moelab.data;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class TokenizerTest {
    static final String[] SAMPLES = {
            "", "a", "Hello, world!  Two  spaces\tand a tab\nnew line\r\n",
            "Grüße aus Köln: Straße, Äpfel, ÖL, ß", "Привет, мир! Это тест.",
            "日本語のテキストです。漢字とひらがなとカタカナ。", "中文文本，没有空格的句子很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长。",
            "emoji 😀🎉👍🏽 family 👨‍👩‍👧‍👦 flags 🇩🇪🇯🇵", "numbers 1234567 3.14159 2026-04-09", "   leading and trailing   ",
            "mixed: déjà vu, naïve café, ñandú, x² ≤ ∞, ½ € £ ¥", "combining: e\u0301 a\u0308 \u0915\u094D\u0937"
    };

    static String corpusText() {
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < 30; r++)
            for (String s : SAMPLES) sb.append(s).append(' ').append(r).append('\n');
        sb.append("the quick brown fox jumps over the lazy dog. ".repeat(50));
        sb.append("der schnelle braune Fuchs springt über den faulen Hund. ".repeat(50));
        return sb.toString();
    }

    @Test
    void byteTokenizerRoundTripsTextAndBytes() {
        ByteTokenizer t = new ByteTokenizer();
        assertEquals(256, t.vocabSize());
        for (String s : SAMPLES) {
            int[] ids = t.encode(s);
            assertEquals(s.getBytes(StandardCharsets.UTF_8).length, ids.length);
            assertEquals(s, t.decode(ids));
            for (int id : ids) assertNotEquals(ByteTokenizer.DOC_SEPARATOR, id, "0xFF never occurs in UTF-8");
        }
        byte[] raw = {(byte) 0xFF, (byte) 0xC3, 0x41, (byte) 0xE2, (byte) 0x82, 0, (byte) 0x80};
        assertArrayEquals(raw, t.decodeBytes(t.encodeBytes(raw)));
    }

    @Test
    void decodeToleratesACharacterCutInTheMiddle() {
        ByteTokenizer t = new ByteTokenizer();
        int[] ids = t.encode("ab€"); // € = E2 82 AC
        String cut = t.decode(Arrays.copyOf(ids, ids.length - 1));
        assertTrue(cut.startsWith("ab") && cut.endsWith("\uFFFD"), cut);
        assertEquals("\uFFFD", t.decode(new int[]{0xFF}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.decode(new int[]{65, 256}));
        assertTrue(e.getMessage().contains("256") && e.getMessage().contains("position 1"), e.getMessage());
    }

    @Test
    void preTokenizerChunks() {
        assertEquals(List.of("Hello", ",", " world", "!", " ", " two", "\n\n", "next"), chunks("Hello, world!  two\n\nnext"));
        assertEquals(List.of("123", "456", "7", " ", " 42"), chunks("1234567  42"));
        assertEquals(List.of("日本語", "の", "テキスト", "です", "。"), chunks("日本語のテキストです。"));
        assertEquals(List.of(" Straße", " ḱ"), chunks(" Straße ḱ"));
        // invalid bytes are single chunks and everything is covered exactly
        byte[] b = {'a', 'b', (byte) 0xFF, (byte) 0xE2, (byte) 0x82, 'c'};
        IntList ends = new IntList();
        PreTokenizer.split(b, 0, b.length, ends);
        assertArrayEquals(new int[]{2, 3, 4, 5, 6}, ends.toArray());
        // long runs are cut at a character boundary, never above the cap
        String han = "漢".repeat(100);
        List<String> c = chunks(han);
        assertEquals(han, String.join("", c));
        for (String x : c) assertTrue(x.getBytes(StandardCharsets.UTF_8).length <= PreTokenizer.MAX_CHUNK_BYTES);
    }

    static List<String> chunks(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        IntList ends = new IntList();
        PreTokenizer.split(b, 0, b.length, ends);
        List<String> out = new ArrayList<>();
        int st = 0;
        for (int i = 0; i < ends.size(); i++) { out.add(new String(b, st, ends.get(i) - st, StandardCharsets.UTF_8)); st = ends.get(i); }
        return out;
    }

    @Test
    void bpeRoundTripsAnyTextAndAnyBytes() {
        BpeTokenizer t = BpeTokenizer.train(List.of(corpusText()), 600);
        for (String s : SAMPLES) {
            int[] ids = t.encode(s);
            assertEquals(s, t.decode(ids), "round trip of " + s);
            for (int id : ids) assertNotEquals(ByteTokenizer.DOC_SEPARATOR, id);
        }
        Random r = new Random(7);
        for (int k = 0; k < 200; k++) {
            byte[] b = new byte[r.nextInt(300)];
            r.nextBytes(b);
            byte[] alphabet = "aé 日😀,\n".getBytes(StandardCharsets.UTF_8); // mostly valid, some cut characters
            if (k % 2 == 0) for (int i = 0; i < b.length; i++) b[i] = alphabet[Math.floorMod(b[i], alphabet.length)];
            assertArrayEquals(b, t.decodeBytes(t.encodeBytes(b)));
        }
    }

    @Test
    void bpeTrainingIsDeterministicIndependentOfTextOrderAndCompresses() {
        List<String> texts = new ArrayList<>(List.of(corpusText().split("\n")));
        BpeTokenizer a = BpeTokenizer.train(texts, 600);
        Collections.shuffle(texts, new Random(3));
        BpeTokenizer b = BpeTokenizer.train(texts, 600);
        assertEquals(600, a.vocabSize());
        for (int id = 0; id < a.vocabSize(); id++) assertArrayEquals(a.tokenBytes(id), b.tokenBytes(id), "token " + id);
        String text = corpusText();
        double perByte = (double) a.encode(text).length / text.getBytes(StandardCharsets.UTF_8).length;
        assertTrue(perByte < 0.5, "BPE should compress its training text, tokens/byte = " + perByte);
    }

    @Test
    void bpeStopsWhenNoPairRepeats() {
        BpeTokenizer t = BpeTokenizer.train(List.of("abab abab"), 5000);
        assertTrue(t.vocabSize() < 300, "a tiny text cannot fill the vocabulary: " + t.vocabSize());
        assertEquals(1, t.encode("abab").length);
    }

    /**
     * The incremental trainer against a direct one that recounts every pair before each merge,
     * on text with overlapping repeats ("aaaa"), and encoding against the final training
     * segmentation of every chunk.
     */
    @Test
    void bpeMatchesNaiveTrainerAndEncodingReproducesTrainingSegmentation() {
        List<String> texts = List.of("aaaa aaa aa a bbbb abab abba baab ", "aaaaaaa xyxyxy xyx yxy ", corpusText().substring(0, 3000));
        int vocab = 420;
        BpeTokenizer fast = BpeTokenizer.train(texts, vocab);

        java.util.LinkedHashMap<String, Integer> counts = new java.util.LinkedHashMap<>();
        for (String s : texts) for (String c : chunks(s)) counts.merge(c, 1, Integer::sum);
        List<int[]> words = new ArrayList<>();
        List<String> wordText = new ArrayList<>();
        List<Integer> freq = new ArrayList<>();
        for (var e : counts.entrySet()) {
            byte[] b = e.getKey().getBytes(StandardCharsets.UTF_8);
            int[] w = new int[b.length];
            for (int i = 0; i < b.length; i++) w[i] = b[i] & 0xFF;
            words.add(w); wordText.add(e.getKey()); freq.add(e.getValue());
        }
        List<int[]> merges = new ArrayList<>();
        while (256 + merges.size() < vocab) {
            java.util.TreeMap<Long, Long> pc = new java.util.TreeMap<>();
            for (int i = 0; i < words.size(); i++) {
                int[] w = words.get(i);
                for (int p = 0; p + 1 < w.length; p++) pc.merge(((long) w[p] << 16) | w[p + 1], (long) freq.get(i), Long::sum);
            }
            long best = -1, bestCount = 1;
            for (var e : pc.entrySet()) if (e.getValue() > bestCount) { best = e.getKey(); bestCount = e.getValue(); } // TreeMap order: smallest key wins ties
            if (best < 0) break;
            int a = (int) (best >>> 16), b = (int) (best & 0xFFFF), id = 256 + merges.size();
            merges.add(new int[]{a, b});
            for (int i = 0; i < words.size(); i++) {
                int[] w = words.get(i);
                int[] o = new int[w.length];
                int n = 0;
                for (int p = 0; p < w.length; ) if (p + 1 < w.length && w[p] == a && w[p + 1] == b) { o[n++] = id; p += 2; } else o[n++] = w[p++];
                words.set(i, Arrays.copyOf(o, n));
            }
        }
        assertEquals(merges.size(), fast.merges());
        for (int r = 0; r < merges.size(); r++) {
            byte[] want = concat(tokenBytesOf(merges, merges.get(r)[0]), tokenBytesOf(merges, merges.get(r)[1]));
            assertArrayEquals(want, fast.tokenBytes(256 + r), "merge " + r);
        }
        for (int i = 0; i < words.size(); i++)
            assertArrayEquals(words.get(i), fast.encode(wordText.get(i)), "segmentation of '" + wordText.get(i) + "'");
    }

    private static byte[] tokenBytesOf(List<int[]> merges, int id) {
        if (id < 256) return new byte[]{(byte) id};
        int[] m = merges.get(id - 256);
        return concat(tokenBytesOf(merges, m[0]), tokenBytesOf(merges, m[1]));
    }

    private static byte[] concat(byte[] x, byte[] y) {
        byte[] t = Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, t, x.length, y.length);
        return t;
    }
}
