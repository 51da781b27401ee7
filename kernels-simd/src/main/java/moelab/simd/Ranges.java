package moelab.simd;

import moelab.kernels.Parallel;

/**
 * Splits [0, n) into contiguous ranges, one per task, and runs them on the shared {@link Parallel}
 * pool. The split is a fixed function of n, the work size and the thread count, never of timing;
 * callers make every output depend only on its own range, so results do not depend on the split.
 */
final class Ranges {
    private Ranges() {}

    /** Work on the items [from, to). */
    interface Body { void run(int from, int to); }

    /**
     * Runs body over [0, n) in at most parallel.threads() ranges, each at least minWork/itemWork
     * items (handing a task to the pool costs tens of microseconds), cut at multiples of align.
     */
    static void forEach(Parallel parallel, int n, long itemWork, long minWork, int align, Body body) {
        if (n <= 0) return;
        long total = (long) n * Math.max(1, itemWork);
        int units = (n + align - 1) / align;
        int tasks = (int) Math.min(Math.min(parallel.threads(), units), Math.max(1, total / minWork));
        if (tasks <= 1) {
            body.run(0, n);
            return;
        }
        parallel.run(tasks, t -> {
            int from = (int) ((long) units * t / tasks) * align;
            int to = (int) Math.min(n, (long) units * (t + 1) / tasks * align);
            if (from < to) body.run(from, to);
        });
    }
}
