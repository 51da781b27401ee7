package moelab.data;

import moelab.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class DomainCorpusTest {
    @TempDir Path root;

    /** Three domains (de, en, ja in name order) of 20 chapters each; ja also has a subfolder and a non-txt file. */
    static void writeCorpus(Path root, int docs) throws IOException {
        String[][] dom = {{"de", "Die Katze schläft auf dem Sofa. "}, {"en", "The cat sleeps on the sofa. "}, {"ja", "猫はソファで寝ています。"}};
        for (String[] d : dom) {
            Path dir = Files.createDirectories(root.resolve(d[0]));
            for (int i = 0; i < docs; i++) {
                Path f = d[0].equals("ja") && i >= docs - 2 ? dir.resolve("extra").resolve(String.format("ch%02d.txt", i)) : dir.resolve(String.format("ch%02d.txt", i));
                Files.createDirectories(f.getParent());
                Files.writeString(f, (d[1] + i + " ").repeat(5 + i));
            }
        }
        Files.writeString(root.resolve("ja/README.md"), "not a document");
        Files.writeString(root.resolve("ja/.hidden.txt"), "hidden");
        Files.writeString(root.resolve("notes.txt"), "root files are not documents");
    }

    @Test
    void loadsDomainsWithLabelsAndSplitsByDocumentDeterministically() throws IOException {
        writeCorpus(root, 20);
        DomainCorpus c = DomainCorpus.load(root, 42, 0.1, 0);
        assertEquals(List.of("de", "en", "ja"), c.domains());
        assertFalse(c.splitFromFile());
        for (int d = 0; d < 3; d++) {
            Set<String> tr = new HashSet<>(), va = new HashSet<>();
            for (var doc : c.train(d)) { assertEquals(d, doc.domain()); tr.add(doc.id()); }
            for (var doc : c.validation(d)) { assertEquals(d, doc.domain()); va.add(doc.id()); }
            assertEquals(20, tr.size() + va.size(), "every document in exactly one split");
            Set<String> both = new HashSet<>(tr);
            both.retainAll(va);
            assertTrue(both.isEmpty(), "no document in both splits: " + both);
            assertFalse(va.isEmpty());
            long vb = 0, all = 0;
            for (var doc : c.validation(d)) vb += doc.text().getBytes(StandardCharsets.UTF_8).length;
            all = vb + c.trainBytes(d);
            assertTrue(vb >= 0.1 * all && vb < 0.4 * all, "held-out share " + (double) vb / all);
        }
        assertTrue(c.train(2).stream().anyMatch(doc -> doc.id().equals("extra/ch19.txt")) || c.validation(2).stream().anyMatch(doc -> doc.id().equals("extra/ch19.txt")));
        assertTrue(c.validation(0).getFirst().text().startsWith("Die Katze"));
        // same seed, same split and order; the rank depends on the id, so parallel domains hold out the same chapters
        DomainCorpus again = DomainCorpus.load(root, 42, 0.1, 0);
        for (int d = 0; d < 3; d++) {
            assertEquals(ids(c.train(d)), ids(again.train(d)));
            assertEquals(ids(c.validation(d)), ids(again.validation(d)));
        }
        assertEquals(ids(c.validation(0)), ids(c.validation(1)), "de and en hold out the same chapters");
        boolean differs = false;
        for (long seed = 1; seed < 6 && !differs; seed++) differs = !ids(DomainCorpus.load(root, seed, 0.1, 0).validation(0)).equals(ids(c.validation(0)));
        assertTrue(differs, "the split depends on the seed");
    }

    static List<String> ids(List<DomainCorpus.Document> docs) { return docs.stream().map(DomainCorpus.Document::id).toList(); }

    @Test
    void splitFileHoldsOutTheSameDocumentsInEveryDomain() throws IOException {
        writeCorpus(root, 6);
        Files.writeString(root.resolve("split.txt"), "# held-out chapters\nch01.txt\n\n**/ch05.txt\n");
        DomainCorpus c = DomainCorpus.load(root, 1, 0.3, 0);
        assertTrue(c.splitFromFile());
        assertEquals(List.of("ch01.txt", "ch05.txt"), ids(c.validation(0)));
        assertEquals(List.of("ch01.txt", "ch05.txt"), ids(c.validation(1)));
        assertEquals(List.of("ch01.txt", "extra/ch05.txt"), ids(c.validation(2)));

        Files.writeString(root.resolve("split.txt"), "ch01.txt\nch99.txt\n");
        var e = assertThrows(IllegalArgumentException.class, () -> DomainCorpus.load(root, 1, 0.1, 0));
        assertTrue(e.getMessage().contains("split.txt:2") && e.getMessage().contains("ch99.txt"), e.getMessage());

        Files.writeString(root.resolve("split.txt"), "ch00.txt\nextra/*\n");
        DomainCorpus ok = DomainCorpus.load(root, 1, 0.1, 0);
        assertEquals(List.of("ch00.txt", "extra/ch04.txt", "extra/ch05.txt"), ids(ok.validation(2)));

        Files.writeString(root.resolve("split.txt"), "extra/*\n");
        e = assertThrows(IllegalArgumentException.class, () -> DomainCorpus.load(root, 1, 0.1, 0));
        assertTrue(e.getMessage().contains("holds out no document of domain 'de'"), e.getMessage());
        Files.writeString(root.resolve("split.txt"), "*.txt\n");
        e = assertThrows(IllegalArgumentException.class, () -> DomainCorpus.load(root, 1, 0.1, 0));
        assertTrue(e.getMessage().contains("every document of domain 'de'"), e.getMessage());
    }

    @Test
    void errorsNameThePath() throws IOException {
        Path missing = root.resolve("nope");
        var e = assertThrows(IllegalArgumentException.class, () -> DomainCorpus.load(missing, 1, 0.1, 0));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        ConfigException ce = assertThrows(ConfigException.class, () -> DomainCorpus.load(DataConfig.defaults(missing.toString()), 1));
        assertEquals("data.path", ce.key());

        e = assertThrows(IllegalArgumentException.class, () -> DomainCorpus.load(root, 1, 0.1, 0));
        assertTrue(e.getMessage().contains("no domain folders"), e.getMessage());

        writeCorpus(root, 4);
        Files.createDirectories(root.resolve("zz"));
        Files.writeString(root.resolve("zz/readme.md"), "x");
        e = assertThrows(IllegalArgumentException.class, () -> DomainCorpus.load(root, 1, 0.1, 0));
        assertTrue(e.getMessage().contains("domain 'zz'") && e.getMessage().contains("no .txt documents"), e.getMessage());
        Files.writeString(root.resolve("zz/a.txt"), "");
        e = assertThrows(IllegalArgumentException.class, () -> DomainCorpus.load(root, 1, 0.1, 0));
        assertTrue(e.getMessage().contains("domain 'zz'") && e.getMessage().contains("empty"), e.getMessage());

        Path bad = root.resolve("zz/a.txt");
        Files.write(bad, new byte[]{'o', 'k', ' ', (byte) 0xC3, (byte) 0x28, 'x'});
        e = assertThrows(IllegalArgumentException.class, () -> DomainCorpus.load(root, 1, 0.1, 0));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("byte offset 3") && e.getMessage().contains("0xC3"), e.getMessage());

        Files.writeString(bad, "one document only");
        e = assertThrows(IllegalArgumentException.class, () -> DomainCorpus.load(root, 1, 0.1, 0));
        assertTrue(e.getMessage().contains("domain 'zz' has one document"), e.getMessage());
        assertEquals(4, DomainCorpus.load(root, 1, 0.0, 0).domainCount(), "val_fraction 0 needs no split");
    }

    @Test
    void utf8BomIsDroppedAndBadOffsetCountsFromFileStart() throws IOException {
        Path f = root.resolve("x.txt");
        Files.write(f, new byte[]{(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, 'h', 'i'});
        assertEquals("hi", DomainCorpus.readUtf8(f));
        Files.write(f, new byte[]{(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, 'h', (byte) 0xFF});
        var e = assertThrows(IllegalArgumentException.class, () -> DomainCorpus.readUtf8(f));
        assertTrue(e.getMessage().contains("byte offset 4"), e.getMessage());
    }

    @Test
    void byteCapBpeSampleAndTokenBalance() throws IOException {
        writeCorpus(root, 10);
        DomainCorpus full = DomainCorpus.load(root, 3, 0.1, 0);
        DomainCorpus capped = DomainCorpus.load(root, 3, 0.1, 1000);
        for (int d = 0; d < 3; d++) {
            long b = capped.trainBytes(d);
            assertTrue(b <= 1000 && b >= 998, "domain " + d + " cut to the byte cap at a character boundary: " + b);
            assertEquals(ids(full.validation(d)), ids(capped.validation(d)), "the cap leaves validation alone");
        }
        // BPE sample: the same bytes from each domain
        List<String> sample = full.bpeSample(500);
        long total = 0;
        for (String s : sample) total += s.getBytes(StandardCharsets.UTF_8).length;
        assertTrue(total <= 1500 && total >= 1494, "about 500 bytes per domain: " + total);

        // byte tokenizer: one token per byte plus one separator per document
        TokenizedCorpus raw = full.tokenize(new ByteTokenizer(), false);
        for (int d = 0; d < 3; d++) {
            assertEquals(full.trainBytes(d) + full.train(d).size(), raw.trainTokens(d).length);
            int seps = 0;
            for (int t : raw.trainTokens(d)) if (t == ByteTokenizer.DOC_SEPARATOR) seps++;
            assertEquals(full.train(d).size(), seps);
            assertEquals(ByteTokenizer.DOC_SEPARATOR, raw.trainTokens(d)[raw.trainTokens(d).length - 1]);
        }
        TokenizedCorpus bal = full.tokenize(new ByteTokenizer(), true);
        int min = Integer.MAX_VALUE, minVal = Integer.MAX_VALUE;
        for (int d = 0; d < 3; d++) { min = Math.min(min, raw.trainTokens(d).length); minVal = Math.min(minVal, raw.validationTokens(d).length); }
        for (int d = 0; d < 3; d++) {
            assertEquals(min, bal.trainTokens(d).length, "balanced by tokens");
            assertEquals(minVal, bal.validationTokens(d).length);
            assertArrayEquals(java.util.Arrays.copyOf(raw.trainTokens(d), min), bal.trainTokens(d), "balance keeps the prefix");
        }
        assertNotEquals(raw.fingerprint(), bal.fingerprint());
        assertTrue(raw.unigramEntropy() > 1 && raw.unigramEntropy() < Math.log(256));
    }

    @Test
    void bpeTokenizerFromConfigBalancesByTokensNotBytes() throws IOException {
        writeCorpus(root, 10);
        DataConfig cfg = new DataConfig(root.toString(), "bpe", 320, 0, 0.1, "random", true, 0);
        DomainCorpus c = DomainCorpus.load(cfg, 5);
        Tokenizer tok = c.buildTokenizer(cfg);
        assertEquals("bpe", tok.name());
        assertEquals(320, tok.vocabSize());
        TokenizedCorpus tc = c.tokenize(tok, cfg.balance());
        assertEquals(tc.trainTokens(0).length, tc.trainTokens(2).length);
        for (int d = 0; d < 3; d++) {
            StringBuilder sb = new StringBuilder();
            for (var doc : c.train(d)) sb.append(doc.text()).append('\uFFFD'); // the separator decodes as U+FFFD
            String decoded = tok.decode(tc.trainTokens(d));
            assertTrue(sb.toString().startsWith(decoded), "stream of domain " + d + " decodes to its documents");
        }
    }

    @Test
    void domainPrefixedSplitLinesApplyToOneDomainAndUnderscoreFoldersAreNotDomains() throws IOException {
        writeCorpus(root, 6);
        Files.createDirectories(root.resolve("_licenses"));
        Files.writeString(root.resolve("_licenses/GPL.txt"), "licence text, not a domain");
        Files.writeString(root.resolve("split.txt"), "de/ch01.txt\nen/ch02.txt\nja/extra/ch05.txt\n");
        DomainCorpus c = DomainCorpus.load(root, 1, 0.1, 0);
        assertEquals(List.of("de", "en", "ja"), c.domains());
        assertEquals(List.of("ch01.txt"), ids(c.validation(0)));
        assertEquals(List.of("ch02.txt"), ids(c.validation(1)));
        assertEquals(List.of("extra/ch05.txt"), ids(c.validation(2)));
        Files.writeString(root.resolve("split.txt"), "de/ch01.txt\nen/ch99.txt\n");
        var e = assertThrows(IllegalArgumentException.class, () -> DomainCorpus.load(root, 1, 0.1, 0));
        assertTrue(e.getMessage().contains("split.txt:2"), e.getMessage());
    }
}
