package moelab.app.data;

import java.util.Arrays;

/**
 * Hashed character shingles: every run of {@link #K} consecutive code points of a text after
 * normalisation (lower case, every whitespace run one space), as 64-bit hashes. Characters, not
 * words, so the same measure works for scripts without spaces (ja, zh) and for code.
 * K = 32 code points is about 5-6 English words: long enough that a shared shingle is almost never
 * chance in prose, short enough that an edited sentence still shares most of its shingles.
 */
final class Shingles {
    static final int K = 32;

    private Shingles() {}

    /** The shingle hashes of text in order ([] when it has fewer than K code points after normalisation). */
    static long[] of(String text) {
        int[] cp = normalise(text);
        if (cp.length < K) return new long[0];
        long[] out = new long[cp.length - K + 1];
        for (int i = 0; i < out.length; i++) {
            long h = 0xcbf29ce484222325L;                  // FNV-1a over the K code points, then a final mix
            for (int j = i; j < i + K; j++) { h ^= cp[j]; h *= 0x100000001b3L; }
            h ^= h >>> 33; h *= 0xff51afd7ed558ccdL; h ^= h >>> 33;
            out[i] = h;
        }
        return out;
    }

    static int[] normalise(String text) {
        int[] cp = text.codePoints().toArray();
        int n = 0;
        boolean space = true;                                // drops leading whitespace
        for (int c : cp) {
            if (Character.isWhitespace(c)) {
                if (!space) cp[n++] = ' ';
                space = true;
            } else {
                cp[n++] = Character.toLowerCase(c);
                space = false;
            }
        }
        if (n > 0 && cp[n - 1] == ' ') n--;
        return Arrays.copyOf(cp, n);
    }

    /** An open-addressing set of 64-bit hashes, each with the index of the source that added it first. */
    static final class Table {
        private long[] keys = new long[1 << 12];
        private int[] owner = new int[1 << 12];
        private boolean[] used = new boolean[1 << 12];
        private int size;

        /** The owner of h, or -1. */
        int owner(long h) {
            int mask = keys.length - 1;
            for (int i = (int) h & mask; used[i]; i = (i + 1) & mask) if (keys[i] == h) return owner[i];
            return -1;
        }

        boolean contains(long h) { return owner(h) >= 0; }

        /** Adds h owned by src unless it is there already. */
        void add(long h, int src) {
            if (2 * (size + 1) > keys.length) grow();
            int mask = keys.length - 1, i = (int) h & mask;
            for (; used[i]; i = (i + 1) & mask) if (keys[i] == h) return;
            used[i] = true; keys[i] = h; owner[i] = src; size++;
        }

        int size() { return size; }

        private void grow() {
            long[] k = keys; int[] o = owner; boolean[] u = used;
            keys = new long[k.length * 2]; owner = new int[k.length * 2]; used = new boolean[k.length * 2];
            size = 0;
            for (int i = 0; i < k.length; i++) if (u[i]) add(k[i], o[i]);
        }
    }
}
