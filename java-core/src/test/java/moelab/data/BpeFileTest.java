package moelab.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

class BpeFileTest {
    @TempDir Path dir;

    private BpeTokenizer trained() { return BpeTokenizer.train(List.of(TokenizerTest.corpusText()), 400); }

    @Test
    void saveLoadRoundTripAndNoTempFileLeft() throws IOException {
        BpeTokenizer t = trained();
        Path f = dir.resolve("run/tokenizer.bpe");
        t.save(f);
        t.save(f); // overwrite in place
        try (var s = Files.list(f.getParent())) { assertEquals(List.of(f), s.toList(), "only the final file remains"); }
        BpeTokenizer u = BpeTokenizer.load(f);
        assertEquals(t.vocabSize(), u.vocabSize());
        for (int id = 0; id < t.vocabSize(); id++) assertArrayEquals(t.tokenBytes(id), u.tokenBytes(id));
        String text = TokenizerTest.corpusText();
        assertArrayEquals(t.encode(text), u.encode(text));
        List<String> lines = Files.readAllLines(f);
        assertEquals("moelab-bpe 1", lines.get(0));
        assertEquals("merges " + t.merges(), lines.get(2));
    }

    /** Rewrites the saved file with edit and returns the load error's message. */
    private String corrupt(UnaryOperator<List<String>> edit) throws IOException {
        Path f = dir.resolve("v.bpe");
        trained().save(f);
        List<String> lines = edit.apply(new ArrayList<>(Files.readAllLines(f)));
        Files.write(f, lines, StandardCharsets.US_ASCII);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BpeTokenizer.load(f));
        assertTrue(e.getMessage().startsWith(f.toString()), "names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void corruptFilesNameFileAndLine() throws IOException {
        assertTrue(corrupt(l -> { l.set(0, "something else"); return l; }).contains(":1: not a BPE vocabulary"));
        assertTrue(corrupt(l -> { l.set(0, "moelab-bpe 9"); return l; }).contains(":1: format version '9'"));
        assertTrue(corrupt(l -> { l.set(1, "pretokenizer gpt2"); return l; }).contains(":2: pretokenizer 'gpt2'"));
        assertTrue(corrupt(l -> { l.set(2, "merges many"); return l; }).contains(":3: merge count 'many'"));
        String m = corrupt(l -> { String[] f = l.get(9).split(" "); l.set(9, f[0] + " " + f[1] + " 00"); return l; });
        assertTrue(m.contains(":10: merge 6") && m.contains("corrupt"), m);
        m = corrupt(l -> { l.set(5, "1 x 0102"); return l; });
        assertTrue(m.contains(":6: right id 'x' is not an integer"), m);
        m = corrupt(l -> { l.set(4, "900 1 0102"); return l; });
        assertTrue(m.contains(":5: left id 900 is outside [0, 256]"), m);
        m = corrupt(l -> new ArrayList<>(l.subList(0, 20)));
        assertTrue(m.contains(":20: file ends after 17 of 144 merges"), m);
        m = corrupt(l -> { l.removeLast(); return l; });
        assertTrue(m.contains("expected 'end'"), m);
        m = corrupt(l -> { l.add("junk"); return l; });
        assertTrue(m.contains("unexpected content after 'end'"), m);
    }

    @Test
    void missingFileIsAnIoErrorNamingIt() {
        Path f = dir.resolve("none.bpe");
        var e = assertThrows(java.io.UncheckedIOException.class, () -> BpeTokenizer.load(f));
        assertTrue(e.getMessage().contains(f.toString()));
    }
}
