package moelab.data;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;

/**
 * Learns byte-level BPE merges. The texts are cut into chunks ({@link PreTokenizer}) and equal
 * chunks are counted once with their frequency ("words"). Pair counts are kept up to date
 * incrementally: a merge only revisits the words that contain the merged pair (an index from
 * pair to words), and the best pair comes from a max-heap with lazy deletion (an entry whose
 * count is out of date is skipped when popped), so each merge costs about the size of the words
 * it touches rather than a pass over the whole text.
 *
 * <p>Determinism: the pair with the highest count wins; ties go to the smaller pair key
 * (left id, then right id). Counts are sums, so neither hash order nor word order matters.
 */
final class BpeTrainer {
    private BpeTrainer() {}

    static BpeTokenizer train(List<String> texts, int vocabSize) {
        if (vocabSize < 256 || vocabSize > BpeTokenizer.MAX_VOCAB)
            throw new IllegalArgumentException("BpeTokenizer.train: vocabSize " + vocabSize + " is outside [256, " + BpeTokenizer.MAX_VOCAB + "]");

        // 1. distinct chunks and their counts (latin-1 strings hold the raw bytes one char each)
        HashMap<String, int[]> counts = new HashMap<>();
        IntList ends = new IntList(1024);
        for (String text : texts) {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            ends.clear();
            PreTokenizer.split(b, 0, b.length, ends);
            int s = 0;
            for (int c = 0; c < ends.size(); c++) {
                int e = ends.get(c);
                if (e - s >= 2) counts.computeIfAbsent(new String(b, s, e - s, StandardCharsets.ISO_8859_1), k -> new int[1])[0]++;
                s = e;
            }
        }

        // 2. words as symbol arrays; pair counts and the pair -> words index
        int nw = counts.size();
        int[][] sym = new int[nw][];
        int[] len = new int[nw], freq = new int[nw];
        IntIntMap pairCount = new IntIntMap(1 << 16, 0);
        HashMap<Integer, IntList> where = new HashMap<>();
        int w = 0;
        for (var e : counts.entrySet()) {
            String k = e.getKey();
            int[] s = new int[k.length()];
            for (int i = 0; i < s.length; i++) s[i] = k.charAt(i);
            sym[w] = s; len[w] = s.length; freq[w] = e.getValue()[0];
            for (int p = 0; p + 1 < s.length; p++) {
                int key = BpeTokenizer.pair(s[p], s[p + 1]);
                pairCount.add(key, freq[w]);
                where.computeIfAbsent(key, x -> new IntList(4)).add(w);
            }
            w++;
        }
        counts = null;
        LongHeap heap = new LongHeap(pairCount.size() + 16);
        for (int key : pairCount.keys()) heap.push(entry(pairCount.get(key), key));

        // 3. merge the best pair until the vocabulary is full or no pair repeats
        int target = vocabSize - 256;
        int[] left = new int[target], right = new int[target];
        int m = 0;
        while (m < target && heap.size() > 0) {
            long top = heap.pop();
            int count = (int) (top >>> 32), key = ~(int) top;
            if (pairCount.get(key) != count) continue; // stale entry
            if (count < 2) break;
            int a = key >>> 16, b = key & 0xFFFF, id = 256 + m;
            left[m] = a; right[m] = b; m++;
            IntList ws = where.remove(key);
            IntIntMap delta = new IntIntMap(64, 0);
            for (int i = 0; i < ws.size(); i++) {
                int x = ws.get(i);
                int[] s = sym[x];
                int n = len[x], f = freq[x];
                boolean has = false;
                for (int p = 0; p + 1 < n && !has; p++) has = s[p] == a && s[p + 1] == b;
                if (!has) continue; // already merged (listed twice) or index entry out of date
                for (int p = 0; p + 1 < n; p++) delta.add(BpeTokenizer.pair(s[p], s[p + 1]), -f);
                int o = 0;
                for (int p = 0; p < n; ) {
                    if (p + 1 < n && s[p] == a && s[p + 1] == b) { s[o++] = id; p += 2; } else s[o++] = s[p++];
                }
                len[x] = n = o;
                for (int p = 0; p + 1 < n; p++) {
                    int k2 = BpeTokenizer.pair(s[p], s[p + 1]);
                    delta.add(k2, f);
                    if (s[p] == id || s[p + 1] == id) where.computeIfAbsent(k2, y -> new IntList(4)).add(x);
                }
            }
            for (int k2 : delta.keys()) {
                int d = delta.get(k2);
                if (d == 0) continue;
                int c = pairCount.add(k2, d);
                if (c > 0) heap.push(entry(c, k2));
            }
        }
        return new BpeTokenizer(Arrays.copyOf(left, m), Arrays.copyOf(right, m));
    }

    /** Heap order: higher count first, then the smaller pair key (~key is larger for smaller keys, unsigned). */
    private static long entry(int count, int key) { return ((long) count << 32) | (~key & 0xFFFFFFFFL); }

    /** A binary max-heap of longs. */
    private static final class LongHeap {
        private long[] h;
        private int n;

        LongHeap(int cap) { h = new long[Math.max(cap, 16)]; }

        int size() { return n; }

        void push(long v) {
            if (n == h.length) h = Arrays.copyOf(h, n * 2);
            int i = n++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (h[p] >= v) break;
                h[i] = h[p];
                i = p;
            }
            h[i] = v;
        }

        long pop() {
            long top = h[0], v = h[--n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) break;
                if (c + 1 < n && h[c + 1] > h[c]) c++;
                if (h[c] <= v) break;
                h[i] = h[c];
                i = c;
            }
            h[i] = v;
            return top;
        }
    }
}
