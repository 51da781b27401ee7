package moelab.app.data;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Near-duplicate removal and the train/validation overlap on crafted corpora. */
class NearDuplicatesTest {
    /** n random lower-case words of 3-8 letters from the given alphabet: text no other call repeats by chance. */
    static String words(Random r, int n, String alphabet) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) sb.append(' ');
            int len = 3 + r.nextInt(6);
            for (int j = 0; j < len; j++) sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    static final String LATIN = "abcdefghijklmnopqrstuvwxyz", HAN = "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以会可里后自之过";

    static Doc doc(String domain, String id, String source, String... paragraphs) {
        return new Doc(domain, id, source, false, String.join("\n\n", paragraphs) + "\n");
    }

    @Test
    void anEditedExcerptInAnotherPackageIsRemovedAndAttributedToItsOriginal() {
        Random r = new Random(1);
        String p1 = words(r, 60, HAN), p2 = words(r, 60, HAN), fresh = words(r, 60, HAN);
        // the fortune quotes p1 from an older edition: 3 characters changed
        char[] c = p1.toCharArray();
        for (int i : new int[]{40, 90, 150}) c[i] = c[i] == '的' ? '一' : '的';
        String edited = new String(c);
        Map<String, List<Doc>> docs = new LinkedHashMap<>();
        docs.put("zh", List.of(doc("zh", "debref-01.01", "debian-reference-zh-cn", p1, p2),
                doc("zh", "fortune-zh-000", "fortunes-zh", fresh, edited)));
        NearDuplicates.Result res = NearDuplicates.remove(docs, 0.5, 20);
        List<Doc> zh = res.docs().get("zh");
        assertEquals(2, zh.size());
        assertEquals(docs.get("zh").get(0).text(), zh.get(0).text(), "the first copy stays as it was");
        assertEquals(fresh + "\n", zh.get(1).text(), "the fortune keeps only its own paragraph");
        NearDuplicates.SourceResult f = res.sources().get(1);
        assertEquals("fortunes-zh", f.source());
        long removed = NearDuplicates.utf8(edited + "\n");              // the last paragraph, with the document's final newline
        assertEquals(removed, f.removedBytes());
        assertEquals(Map.of("debian-reference-zh-cn", removed), f.duplicateOf());
        assertEquals(0, res.sources().get(0).removedBytes());
    }

    @Test
    void theThresholdIsTheShareOfAParagraphsShinglesSeenBefore() {
        Random r = new Random(2);
        String a = words(r, 40, LATIN), b = words(r, 40, LATIN);
        // half old, half new (cross-boundary shingles are new): kept at 0.6, removed at 0.3
        for (double threshold : new double[]{0.6, 0.3}) {
            Map<String, List<Doc>> docs = new LinkedHashMap<>();
            docs.put("en", List.of(doc("en", "d1", "p1", a), doc("en", "d2", "p2", a + " " + b)));
            long[] sh = Shingles.of(a + " " + b);
            long seen = Shingles.of(a).length;
            assertTrue(seen < 0.6 * sh.length && seen > 0.3 * sh.length, "the crafted share " + (double) seen / sh.length);
            List<Doc> out = NearDuplicates.remove(docs, threshold, 20).docs().get("en");
            assertEquals(threshold == 0.6 ? 2 : 1, out.size(), "threshold " + threshold);
        }
    }

    @Test
    void duplicatesWithinADomainOnlyAndShortParagraphsAreNeverJudged() {
        Random r = new Random(3);
        String p = words(r, 50, LATIN), own = words(r, 50, LATIN);
        Map<String, List<Doc>> docs = new LinkedHashMap<>();
        docs.put("en", List.of(doc("en", "a", "s1", p)));
        docs.put("de", List.of(doc("de", "a", "s2", "kurz", p, "kurz", own)));
        NearDuplicates.Result res = NearDuplicates.remove(docs, 0.5, 20);
        assertEquals(docs.get("de").get(0).text(), res.docs().get("de").get(0).text(), "another domain is not compared; 'kurz' (under 32 code points) repeats freely");
        // in one domain a repeated document goes entirely, and a document left under minBytes is dropped
        docs.put("de", List.of(doc("de", "a", "s2", p, own), doc("de", "b", "s3", "kurz", p)));
        res = NearDuplicates.remove(docs, 0.5, 20);
        assertEquals(1, res.docs().get("de").size());
        assertEquals(1, res.sources().stream().filter(s -> s.source().equals("s3")).findFirst().orElseThrow().droppedDocs());
    }

    @Test
    void normalisationIgnoresCaseAndWhitespace() {
        assertArrayEquals(Shingles.of("The quick brown fox jumps over the lazy dog again"),
                Shingles.of("  the QUICK brown\n fox\tjumps  over the lazy dog again\n"));
        assertEquals(0, Shingles.of("short").length);
    }

    @Test
    void validationOverlapCountsTheShareOfValidationShinglesFoundInTraining() {
        Random r = new Random(4);
        String a = words(r, 80, LATIN), b = words(r, 80, LATIN), other = words(r, 80, LATIN);
        Doc train = doc("markup", "html-ch1", "dev-ref", a, other);
        Doc val = new Doc("markup", "rst-ch1", "dev-ref", false, a + " " + b + "\n");
        ValidationOverlap.Domain o = ValidationOverlap.domain("markup", List.of(train), List.of(val));
        int la = a.length(), lb = b.length(), k = Shingles.K;
        assertEquals(la + 1 + lb - k + 1, o.valShingles());
        // the shingles inside a, plus the one ending in the space after it (training has a paragraph break there, also one space)
        assertEquals(la - k + 2, o.shared());
        assertEquals("markup/rst-ch1.txt", o.worstDoc());
        assertEquals((double) (la - k + 2) / (la + lb - k + 2), o.share(), 1e-12);
        assertEquals(0.0, ValidationOverlap.domain("markup", List.of(train), List.of(doc("markup", "x", "s", b))).share());
    }
}
