package moelab.app.data;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class BalancerTest {
    /** Random multi-line text of about {@code bytes} bytes made of {@code word}. */
    static String text(Random r, String word, int bytes) {
        StringBuilder sb = new StringBuilder();
        while (Utf8.bytes(sb) < bytes) {
            int n = 3 + r.nextInt(8);
            for (int i = 0; i < n; i++) sb.append(word).append(i == n - 1 ? "\n" : " ");
        }
        return sb.toString();
    }

    /**
     * Four domains of different sizes; "a", "b", "c" share 30 parallel documents (of different
     * lengths per language, as translations are), "c" lacks parallel doc p07, "d" has none.
     */
    static Map<String, List<Doc>> synthetic(long seed) {
        Random r = new Random(seed);
        Map<String, List<Doc>> m = new LinkedHashMap<>();
        String[] doms = {"a", "b", "c", "d"};
        String[] words = {"alpha", "beta", "日本語", "дельта"};
        int[] own = {40, 80, 60, 50};
        for (int k = 0; k < doms.length; k++) {
            List<Doc> l = new ArrayList<>();
            if (k < 3)
                for (int i = 0; i < 30; i++) {
                    if (k == 2 && i == 7) continue;
                    l.add(new Doc(doms[k], String.format("p%02d", i), "par", true, text(r, words[k], 500 + r.nextInt(3000))));
                }
            for (int i = 0; i < own[k]; i++)
                l.add(new Doc(doms[k], String.format("man-%03d", i), "own", false, text(r, words[k], 300 + r.nextInt(20000))));
            m.put(doms[k], l);
        }
        return m;
    }

    static Balancer.Options opts(double heldOut, long cap, Measure m) {
        return new Balancer.Options(heldOut, 7, m, cap, 256);
    }

    @Test
    void balancesSplitsAndHoldsOutTheSameParallelIds() {
        for (Measure m : Measure.values()) {
            Map<String, List<Doc>> docs = synthetic(1);
            Balancer.Plan p = Balancer.plan(docs, opts(0.1, 0, m));
            long smallest = docs.values().stream().mapToLong(l -> Balancer.size(l, m)).min().orElseThrow();
            assertEquals(smallest, p.cap());
            assertTrue(p.trainBudget() + p.valBudget() <= p.cap());
            assertTrue(p.valBudget() > 0.09 * p.cap() && p.valBudget() <= 0.1 * p.cap(), "val budget " + p.valBudget());
            assertFalse(p.heldOutParallel().isEmpty(), "some parallel documents are held out");
            assertFalse(p.heldOutParallel().contains("p07"), "p07 is missing in c, so it cannot be held out everywhere");
            for (Balancer.DomainPlan d : p.domains().values()) {
                assertEquals(Balancer.size(d.train(), m), d.trainSize());
                assertEquals(Balancer.size(d.val(), m), d.valSize());
                assertTrue(d.trainSize() <= p.trainBudget() && d.trainSize() > p.trainBudget() - Balancer.SLACK, d.domain() + " train " + d.trainSize());
                assertTrue(d.valSize() <= p.valBudget() && d.valSize() > p.valBudget() - Balancer.SLACK, d.domain() + " val " + d.valSize());
                Set<String> train = ids(d.train()), val = ids(d.val());
                for (String id : val) assertFalse(train.contains(id), d.domain() + ": " + id + " in both splits");
                for (String id : p.heldOutParallel()) {
                    assertFalse(train.contains(id), d.domain() + ": held-out parallel " + id + " in train");
                    if (!d.domain().equals("d")) assertTrue(val.contains(id), d.domain() + ": held-out parallel " + id + " missing from val");
                }
                // parallel docs in val are exactly the chosen ones, and they are whole
                for (Doc v : d.val())
                    if (v.parallel()) {
                        assertTrue(p.heldOutParallel().contains(v.id()));
                        String original = docs.get(d.domain()).stream().filter(x -> x.id().equals(v.id())).findFirst().orElseThrow().text();
                        assertEquals(original, v.text());
                    }
                // every text is a prefix of its original and ends with a newline
                for (Doc x : concat(d.train(), d.val())) {
                    String original = docs.get(d.domain()).stream().filter(o -> o.id().equals(x.id())).findFirst().orElseThrow().text();
                    assertTrue(original.startsWith(x.text()) || original.startsWith(x.text().substring(0, x.text().length() - 1)), x.id());
                    assertTrue(x.text().endsWith("\n"));
                }
            }
        }
    }

    @Test
    void deterministicAndSeedDependent() {
        Balancer.Plan a = Balancer.plan(synthetic(1), opts(0.1, 0, Measure.BYTES));
        Balancer.Plan b = Balancer.plan(synthetic(1), opts(0.1, 0, Measure.BYTES));
        assertEquals(a, b);
        Balancer.Plan c = Balancer.plan(synthetic(1), new Balancer.Options(0.1, 8, Measure.BYTES, 0, 256));
        assertNotEquals(ids(a.domains().get("d").val()), ids(c.domains().get("d").val()), "another seed holds out other documents");
    }

    @Test
    void sampleCapLimitsEveryDomain() {
        Balancer.Plan p = Balancer.plan(synthetic(2), opts(0.05, 20_000, Measure.BYTES));
        assertEquals(20_000, p.cap());
        for (Balancer.DomainPlan d : p.domains().values()) {
            assertTrue(d.trainSize() + d.valSize() <= 20_000);
            assertTrue(d.trainSize() + d.valSize() > 20_000 - 2 * Balancer.SLACK - 1000, d.domain() + " " + (d.trainSize() + d.valSize()));
        }
    }

    @Test
    void noHeldOutMeansNoValidation() {
        Balancer.Plan p = Balancer.plan(synthetic(3), opts(0, 0, Measure.BYTES));
        assertEquals(0, p.valBudget());
        for (Balancer.DomainPlan d : p.domains().values()) assertTrue(d.val().isEmpty());
    }

    @Test
    void charsMeasureCountsCodePoints() {
        Map<String, List<Doc>> m = new LinkedHashMap<>();
        m.put("en", List.of(new Doc("en", "x", "s", false, "abcdef\n".repeat(100))));
        m.put("ja", List.of(new Doc("ja", "x", "s", false, "日本語です\n".repeat(200))));
        Balancer.Plan bytes = Balancer.plan(m, opts(0, 0, Measure.BYTES));
        Balancer.Plan chars = Balancer.plan(m, opts(0, 0, Measure.CHARS));
        assertEquals(700, bytes.cap());
        assertEquals(700, chars.cap());
        assertEquals(700 / 16 * 16, bytes.domains().get("ja").trainSize(), "cut at a line end: 16-byte lines");
        assertEquals(700 / 6 * 6, chars.domains().get("ja").trainSize(), "cut at a line end: 6-character lines");
    }

    @Test
    void errorsNameTheDomainAndDocument() {
        Map<String, List<Doc>> m = new LinkedHashMap<>();
        m.put("en", List.of());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Balancer.plan(m, opts(0.1, 0, Measure.BYTES))).getMessage().contains("en"));
        m.put("en", List.of(new Doc("en", "x", "s", false, "a\n"), new Doc("en", "x", "s", false, "b\n")));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Balancer.plan(m, opts(0.1, 0, Measure.BYTES))).getMessage().contains("duplicate document id x"));
        assertThrows(IllegalArgumentException.class, () -> opts(0.7, 0, Measure.BYTES));
        assertThrows(IllegalArgumentException.class, () -> new Doc("en", "../x", "s", false, ""));
    }

    @Test
    void truncateCutsAtLineEndsWithinBudget() {
        String t = "aaaa\nbbbb\ncccc\n";
        assertEquals(t, Measure.BYTES.truncate(t, 100, 256));
        assertEquals("aaaa\nbbbb\n", Measure.BYTES.truncate(t, 12, 256));
        assertEquals("aaaa\nbb\n", Measure.BYTES.truncate(t, 8, 2), "line end too far back: cut inside the line, add a newline");
        String ja = "日本語\n";                                  // 3 x 3 bytes + 1
        assertEquals("日\n", Measure.BYTES.truncate(ja, 5, 0), "never splits a character");
        assertEquals("日本\n", Measure.CHARS.truncate(ja, 3, 0));
        assertEquals("", Measure.BYTES.truncate(ja, 3, 0));
        for (int b = 0; b < 12; b++) assertTrue(Measure.BYTES.of(Measure.BYTES.truncate(ja + ja, b, 4)) <= b);
    }

    private static Set<String> ids(List<Doc> l) {
        Set<String> s = new HashSet<>();
        for (Doc d : l) s.add(d.id());
        return s;
    }

    private static List<Doc> concat(List<Doc> a, List<Doc> b) {
        List<Doc> l = new ArrayList<>(a);
        l.addAll(b);
        return l;
    }
}
