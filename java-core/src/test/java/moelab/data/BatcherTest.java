package moelab.data;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class BatcherTest {
    static final int STRIDE = 10_000; // token value = domain * STRIDE + position in the stream

    /** Domain d's stream holds d*STRIDE + p at position p, so every token tells its domain and position. */
    static TokenizedCorpus corpus(int... lengths) {
        int nd = lengths.length;
        int[][] tr = new int[nd][], va = new int[nd][];
        List<String> names = new ArrayList<>();
        for (int d = 0; d < nd; d++) {
            names.add("dom" + d);
            tr[d] = new int[lengths[d]];
            for (int p = 0; p < lengths[d]; p++) tr[d][p] = d * STRIDE + p;
            va[d] = new int[40 + 7 * d];
            for (int p = 0; p < va[d].length; p++) va[d][p] = d * STRIDE + 5000 + p;
        }
        return new TokenizedCorpus(names, tr, va, nd * STRIDE + 1, nd * STRIDE, "test");
    }

    static final int S = 16, B = 4;

    /** Checks one batch: each sequence one domain, contiguous in its stream, targets shifted by one; returns each sequence's (domain, start). */
    static List<int[]> check(Batch b) {
        assertEquals(B, b.batch());
        assertEquals(S, b.seqLen());
        List<int[]> seqs = new ArrayList<>();
        for (int s = 0; s < B; s++) {
            int d = b.domains()[s * S];
            int start = b.inputs()[s * S] - d * STRIDE;
            for (int i = 0; i < S; i++) {
                int k = s * S + i;
                assertEquals(d, b.domains()[k], "one domain per sequence");
                assertEquals(d * STRIDE + start + i, b.inputs()[k], "contiguous window of the domain's stream");
                assertEquals(b.inputs()[k] + 1, b.targets()[k], "targets = inputs shifted by one");
            }
            seqs.add(new int[]{d, start});
        }
        return seqs;
    }

    @Test
    void randomCompositionCoversEachEpochWithoutOverlapAndMixesDomains() {
        TokenizedCorpus c = corpus(2000, 3000, 1500);
        Batcher bt = new Batcher(c, B, S, "random", 11);
        for (int epoch = 0; epoch < 3; epoch++) {
            assertEquals(epoch, bt.epoch());
            int n = bt.batchesInEpoch();
            List<Set<Integer>> starts = List.of(new HashSet<>(), new HashSet<>(), new HashSet<>());
            int mixed = 0;
            for (int i = 0; i < n; i++) {
                List<int[]> seqs = check(bt.next());
                Set<Integer> doms = new HashSet<>();
                for (int[] s : seqs) {
                    assertTrue(starts.get(s[0]).add(s[1]), "window used twice in one epoch");
                    doms.add(s[0]);
                }
                if (doms.size() > 1) mixed++;
            }
            int windows = 0;
            for (int d = 0; d < 3; d++) {
                Set<Integer> mod = new HashSet<>();
                for (int st : starts.get(d)) { mod.add(st % S); assertTrue(st + S + 1 <= c.trainTokens(d).length); }
                assertEquals(1, mod.size(), "windows of an epoch do not overlap (one offset per domain)");
                windows += starts.get(d).size();
            }
            int all = 0;
            for (int d = 0; d < 3; d++) all += (c.trainTokens(d).length - 1 - starts.get(d).iterator().next() % S) / S;
            assertEquals(all / B * B, windows, "the whole epoch is used except the last partial micro-batch");
            assertTrue(mixed > n / 2, "random composition mixes domains: " + mixed + " of " + n);
        }
    }

    @Test
    void domainHomogeneousMicroBatchesAndBalancedShares() {
        TokenizedCorpus c = corpus(1600, 1600, 1600);
        Batcher bt = new Batcher(c, B, S, "domain_homogeneous", 5);
        int[] perDomain = new int[3];
        int n = bt.batchesInEpoch();
        List<Integer> sequence = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<int[]> seqs = check(bt.next());
            for (int[] s : seqs) assertEquals(seqs.getFirst()[0], s[0], "one domain per micro-batch");
            perDomain[seqs.getFirst()[0]]++;
            sequence.add(seqs.getFirst()[0]);
        }
        assertEquals(perDomain[0], perDomain[1], 1);
        assertEquals(perDomain[0], perDomain[2], 1);
        assertNotEquals(sequence.stream().sorted().toList(), sequence, "micro-batch domains are shuffled, not blocked");
    }

    @Test
    void stratifiedMicroBatchesHoldEveryDomainEquallyAndNoWindowTwicePerEpoch() {
        TokenizedCorpus c = corpus(1700, 1300, 1500); // the smallest domain sets the rounds of an epoch
        int mb = 6;                                    // 2 sequences of each of 3 domains
        Batcher bt = new Batcher(c, mb, S, "stratified", 7);
        for (int epoch = 0; epoch < 2; epoch++) {
            int n = bt.batchesInEpoch();
            int rounds = Integer.MAX_VALUE;
            List<Set<Integer>> starts = List.of(new HashSet<>(), new HashSet<>(), new HashSet<>());
            List<Integer> firstDomains = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Batch b = bt.next();
                int[] perDomain = new int[3];
                for (int s = 0; s < mb; s++) {
                    int d = b.domains()[s * S], start = b.inputs()[s * S] - d * STRIDE;
                    for (int t = 0; t < S; t++) assertEquals(d * STRIDE + start + t, b.inputs()[s * S + t], "contiguous window");
                    assertTrue(starts.get(d).add(start), "window used twice in one epoch");
                    perDomain[d]++;
                }
                assertArrayEquals(new int[]{2, 2, 2}, perDomain, "micro-batch " + i + " of epoch " + epoch);
                firstDomains.add(b.domains()[0]);
            }
            for (int d = 0; d < 3; d++) rounds = Math.min(rounds, (c.trainTokens(d).length - 1 - starts.get(d).iterator().next() % S) / S);
            assertEquals(rounds * 3 / mb, n, "an epoch has as many rounds as the smallest domain has windows");
            assertTrue(new HashSet<>(firstDomains).size() > 1, "the domain order within rounds is shuffled");
        }
        // micro-batches smaller than the number of domains: mostly distinct domains (a pair can straddle two rounds)
        Batcher two = new Batcher(c, 2, S, "stratified", 7);
        int mixedPairs = 0, pairs = two.batchesInEpoch();
        for (int i = 0; i < pairs; i++) {
            Batch b = two.next();
            if (b.domains()[0] != b.domains()[S]) mixedPairs++;
        }
        assertTrue(mixedPairs > pairs * 0.6, mixedPairs + " of " + pairs + " pairs hold two domains");
        var e = assertThrows(IllegalArgumentException.class, () -> new Batcher(corpus(400, 60), 10, S, "stratified", 1));
        assertTrue(e.getMessage().contains("stratified") && e.getMessage().contains("fewer than micro_batch 10"), e.getMessage());
    }

    static List<Batch> take(Batcher b, int n) {
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(b.next());
        return out;
    }

    static void assertSame(List<Batch> x, List<Batch> y) {
        assertEquals(x.size(), y.size());
        for (int i = 0; i < x.size(); i++) {
            assertArrayEquals(x.get(i).inputs(), y.get(i).inputs(), "batch " + i);
            assertArrayEquals(x.get(i).targets(), y.get(i).targets(), "batch " + i);
            assertArrayEquals(x.get(i).domains(), y.get(i).domains(), "batch " + i);
        }
    }

    @Test
    void sameSeedSameBatchesOtherSeedOtherBatches() {
        for (String comp : List.of("random", "domain_homogeneous", "stratified")) {
            TokenizedCorpus c = corpus(900, 700, 800);
            List<Batch> a = take(new Batcher(c, B, S, comp, 3), 60);
            assertSame(a, take(new Batcher(c, B, S, comp, 3), 60));
            List<Batch> other = take(new Batcher(c, B, S, comp, 4), 60);
            assertFalse(Arrays.equals(a.getFirst().inputs(), other.getFirst().inputs()) && Arrays.equals(a.get(1).inputs(), other.get(1).inputs()));
        }
    }

    @Test
    void saveRestoreContinuesIdenticallyAcrossEpochs() {
        for (String comp : List.of("random", "domain_homogeneous", "stratified")) {
            TokenizedCorpus c = corpus(700, 500, 600);
            Batcher straight = new Batcher(c, B, S, comp, 9);
            int perEpoch = straight.batchesInEpoch();
            take(straight, perEpoch - 3);
            byte[] state = straight.saveState();
            List<Batch> rest = take(straight, 3 * perEpoch); // crosses several epoch boundaries

            Batcher resumed = new Batcher(c, B, S, comp, 9);
            take(resumed, 5); // whatever it did before is overwritten
            resumed.restoreState(state);
            assertSame(rest, take(resumed, 3 * perEpoch));
            assertArrayEquals(straight.saveState(), resumed.saveState());

            // a state saved exactly at the end of an epoch
            Batcher e = new Batcher(c, B, S, comp, 9);
            take(e, e.batchesInEpoch());
            byte[] end = e.saveState();
            List<Batch> next = take(e, 4);
            Batcher f = new Batcher(c, B, S, comp, 9);
            f.restoreState(end);
            assertSame(next, take(f, 4));
        }
    }

    @Test
    void restoreRefusesAStateFromAnotherCorpusOrSetting() {
        TokenizedCorpus c = corpus(700, 500, 600);
        byte[] state = new Batcher(c, B, S, "random", 9).saveState();
        String[][] cases = {
                {"seq_len 16, this run has 8"}, {"micro_batch 4, this run has 2"}, {"composition random, this run has domain_homogeneous"},
                {"seed 9, this run has 10"}, {"different corpus or tokenizer"}, {"composition random, this run has stratified"}};
        Batcher[] others = {
                new Batcher(c, B, 8, "random", 9), new Batcher(c, 2, S, "random", 9), new Batcher(c, B, S, "domain_homogeneous", 9),
                new Batcher(c, B, S, "random", 10), new Batcher(corpus(700, 500, 601), B, S, "random", 9),
                new Batcher(c, B, S, "stratified", 9)};
        for (int i = 0; i < cases.length; i++) {
            Batcher o = others[i];
            var e = assertThrows(IllegalArgumentException.class, () -> o.restoreState(state));
            assertTrue(e.getMessage().contains(cases[i][0]), e.getMessage());
        }
        Batcher b = new Batcher(c, B, S, "random", 9);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.restoreState(new byte[10])).getMessage().contains("45-byte"));
        byte[] junk = state.clone();
        junk[0] = 0;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.restoreState(junk)).getMessage().contains("bad magic"));
        byte[] far = state.clone();
        java.nio.ByteBuffer.wrap(far).putInt(41, 1_000_000);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.restoreState(far)).getMessage().contains("corrupt"));
    }

    @Test
    void tooShortDomainsAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Batcher(corpus(700, 10, 600), B, S, "random", 1));
        assertTrue(e.getMessage().contains("'dom1'") && e.getMessage().contains("10 training tokens"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Batcher(corpus(700, 40, 600), B, S, "domain_homogeneous", 1));
        assertTrue(e.getMessage().contains("'dom1'") && e.getMessage().contains("micro_batch 4"), e.getMessage());
        new Batcher(corpus(700, 40, 600), B, S, "random", 1).next(); // fine when micro-batches may mix domains
        e = assertThrows(IllegalArgumentException.class, () -> new Batcher(corpus(40), B, S, "random", 1));
        assertTrue(e.getMessage().contains("fewer than micro_batch"), e.getMessage());
    }

    @Test
    void validationBatchesCoverEveryTokenOncePerDomain() {
        TokenizedCorpus c = corpus(700, 500, 600); // validation lengths 40, 47, 54
        List<Batch> vb = ValidationBatches.build(c, S, 2, 0);
        assertSame(vb, ValidationBatches.build(c, S, 2, 0));
        int[][] seen = new int[3][];
        for (int d = 0; d < 3; d++) seen[d] = new int[c.validationTokens(d).length];
        for (Batch b : vb) {
            int d = b.domains()[0];
            for (int k = 0; k < b.inputs().length; k++) {
                assertEquals(d, b.domains()[k], "one domain per validation batch");
                if (b.targets()[k] == moelab.ops.CrossEntropy.IGNORE) {
                    assertEquals(c.separator(), b.inputs()[k], "padding input");
                    continue;
                }
                assertEquals(b.inputs()[k] + 1, b.targets()[k]);
                seen[d][b.targets()[k] - d * STRIDE - 5000]++;
            }
        }
        for (int d = 0; d < 3; d++) {
            assertEquals(0, seen[d][0], "the first token is never a target");
            for (int p = 1; p < seen[d].length; p++) assertEquals(1, seen[d][p], "domain " + d + " target " + p);
        }
        List<Batch> few = ValidationBatches.build(c, S, 8, 2);
        assertEquals(3, few.size());
        for (Batch b : few) assertEquals(2, b.batch());
    }
}
