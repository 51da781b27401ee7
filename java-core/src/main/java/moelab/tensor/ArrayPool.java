package moelab.tensor;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;

/**
 * Float arrays recycled by length, one pool per thread. Two kinds of arrays come back here: the
 * gradients of intermediate tensors (backward drops each as soon as its node has passed it on, see
 * {@link Autograd#backward}) and a training step's activations ({@link StepArena}). A step needs
 * the same lengths every time, so after the first step it runs on arrays already paged in instead
 * of hundreds of MB of fresh ones (the page faults on fresh heap memory cost more than the zeroing).
 * Leaf gradients (parameters) never come from here: they are kept. At most {@link #MAX_FLOATS}
 * floats are kept per thread, and lengths nobody took for two generations (one per arena step) are
 * dropped, so a length seen once (a batch of another shape) does not pin memory.
 */
public final class ArrayPool {
    /** Floats kept at most per thread (1 GiB): beyond, dropped arrays go to the garbage collector. */
    static final long MAX_FLOATS = 1L << 28;

    private static final ThreadLocal<ArrayPool> POOL = ThreadLocal.withInitial(ArrayPool::new);

    /** The free arrays of one length and the generation that last took one. */
    private static final class Bin {
        final ArrayDeque<float[]> free = new ArrayDeque<>();
        long lastTaken;
    }

    private final HashMap<Integer, Bin> bins = new HashMap<>();
    private long kept, cap = MAX_FLOATS, generation;

    private ArrayPool() {}

    /** A zeroed array of length n: a recycled one when this thread has one. */
    public static float[] take(int n) {
        ArrayPool p = POOL.get();
        Bin bin = p.bins.get(n);
        if (bin == null) {
            bin = new Bin();
            p.bins.put(n, bin);
        }
        bin.lastTaken = p.generation;
        float[] a = bin.free.pollLast();
        if (a == null) return new float[n];
        p.kept -= n;
        Arrays.fill(a, 0f);
        return a;
    }

    /** Gives back an array no one reads any more (the caller drops every reference to it). */
    static void give(float[] a) {
        if (a == null || a.length == 0) return;
        ArrayPool p = POOL.get();
        if (p.kept + a.length > p.cap) return;
        p.bins.computeIfAbsent(a.length, n -> new Bin()).free.addLast(a);
        p.kept += a.length;
    }

    /** Ends a generation: drops the arrays of every length not taken in this one or the one before. */
    static void endGeneration() {
        ArrayPool p = POOL.get();
        for (Iterator<Bin> it = p.bins.values().iterator(); it.hasNext(); ) {
            Bin bin = it.next();
            if (bin.lastTaken >= p.generation - 1) continue;
            for (float[] a : bin.free) p.kept -= a.length;
            it.remove();
        }
        p.generation++;
    }

    /** Floats this thread keeps for reuse (for tests). */
    static long keptFloats() { return POOL.get().kept; }

    /** Sets this thread's cap (for tests); returns the previous one. */
    static long setCap(long floats) {
        ArrayPool p = POOL.get();
        long old = p.cap;
        p.cap = floats;
        return old;
    }
}
