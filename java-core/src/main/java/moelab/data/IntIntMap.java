package moelab.data;

/**
 * Open-addressing int -> int hash map (linear probing, no boxing, no removal), for the BPE
 * pair counts and merge ranks where a HashMap of boxed keys would dominate the run time.
 * Missing keys read as the map's default value.
 */
final class IntIntMap {
    private int[] keys, vals;
    private boolean[] used;
    private int size, mask;
    private final int missing;

    IntIntMap(int expected, int missing) {
        int cap = Integer.highestOneBit(Math.max(expected, 8) * 2 - 1) << 1;
        keys = new int[cap];
        vals = new int[cap];
        used = new boolean[cap];
        mask = cap - 1;
        this.missing = missing;
    }

    private static int slot(int key, int mask) {
        int h = key * 0x9E3779B9;
        return (h ^ (h >>> 16)) & mask;
    }

    int get(int key) {
        for (int i = slot(key, mask); used[i]; i = (i + 1) & mask) if (keys[i] == key) return vals[i];
        return missing;
    }

    void put(int key, int val) {
        int i = slot(key, mask);
        for (; used[i]; i = (i + 1) & mask) {
            if (keys[i] == key) { vals[i] = val; return; }
        }
        used[i] = true; keys[i] = key; vals[i] = val;
        if (++size * 2 > keys.length) grow();
    }

    /** Adds delta to the value of key (missing counts as the default) and returns the new value. */
    int add(int key, int delta) {
        int i = slot(key, mask);
        for (; used[i]; i = (i + 1) & mask) {
            if (keys[i] == key) return vals[i] += delta;
        }
        used[i] = true; keys[i] = key; vals[i] = missing + delta;
        int v = vals[i];
        if (++size * 2 > keys.length) grow();
        return v;
    }

    int size() { return size; }

    /** Keys in slot order (deterministic for the same sequence of insertions). */
    int[] keys() {
        int[] out = new int[size];
        int k = 0;
        for (int i = 0; i < keys.length; i++) if (used[i]) out[k++] = keys[i];
        return out;
    }

    private void grow() {
        int[] ok = keys, ov = vals;
        boolean[] ou = used;
        int cap = ok.length * 2;
        keys = new int[cap]; vals = new int[cap]; used = new boolean[cap]; mask = cap - 1;
        size = 0;
        for (int i = 0; i < ok.length; i++) if (ou[i]) put(ok[i], ov[i]);
    }
}
