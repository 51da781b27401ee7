package moelab.tensor;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;

/**
 * The gradient arrays of intermediate tensors, recycled. Backward allocates one gradient per
 * activation and drops it as soon as that node has passed it on ({@link Autograd#backward}); the
 * next node down usually needs an array of the same length. So instead of a fresh array per
 * gradient (hundreds of MB per training step, all garbage a moment later), a thread keeps the
 * arrays it dropped and hands them out again, zeroed. Leaf gradients (parameters) never come from
 * here: they are kept. One pool per thread (runs on different threads share nothing); at most
 * {@link #MAX_FLOATS} floats are kept.
 */
public final class GradPool {
    /** Floats kept at most per thread (256 MiB): beyond, dropped arrays go to the garbage collector. */
    static final long MAX_FLOATS = 1L << 26;

    private static final ThreadLocal<GradPool> POOL = ThreadLocal.withInitial(GradPool::new);

    private final HashMap<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    private long kept;

    private GradPool() {}

    /** A zeroed array of length n: a recycled one when this thread has one. */
    public static float[] take(int n) {
        GradPool p = POOL.get();
        ArrayDeque<float[]> q = p.free.get(n);
        float[] a = q == null ? null : q.pollLast();
        if (a == null) return new float[n];
        p.kept -= n;
        Arrays.fill(a, 0f);
        return a;
    }

    /** Gives back an array no one reads any more (the caller drops every reference to it). */
    static void give(float[] a) {
        if (a == null || a.length == 0) return;
        GradPool p = POOL.get();
        if (p.kept + a.length > MAX_FLOATS) return;
        p.free.computeIfAbsent(a.length, n -> new ArrayDeque<>()).addLast(a);
        p.kept += a.length;
    }

    /** Floats this thread keeps for reuse (for tests). */
    static long keptFloats() { return POOL.get().kept; }
}
