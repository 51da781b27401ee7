package moelab.data;

import java.util.Arrays;

/** A growable int array (no boxing), used by the tokenizers and the corpus streams. */
final class IntList {
    private int[] a;
    private int n;

    IntList() { this(16); }

    IntList(int capacity) { a = new int[Math.max(capacity, 4)]; }

    void add(int v) {
        if (n == a.length) a = Arrays.copyOf(a, a.length * 2);
        a[n++] = v;
    }

    void addAll(int[] v) {
        ensure(n + v.length);
        System.arraycopy(v, 0, a, n, v.length);
        n += v.length;
    }

    private void ensure(int cap) {
        if (cap > a.length) a = Arrays.copyOf(a, Math.max(cap, a.length * 2));
    }

    int get(int i) { return a[i]; }

    int size() { return n; }

    void clear() { n = 0; }

    int[] toArray() { return Arrays.copyOf(a, n); }
}
