package moelab.kernels;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.function.IntConsumer;

/**
 * A fixed pool of worker threads shared by the kernels of one back end. {@link #run} splits work
 * into a fixed number of tasks; which task computes which output never depends on timing, so results
 * are deterministic.
 */
public final class Parallel {
    private final int threads;
    private final ExecutorService pool;

    public Parallel(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        ThreadFactory tf = r -> {
            Thread t = new Thread(r, "moelab-kernels");
            t.setDaemon(true);
            return t;
        };
        this.pool = threads > 1 ? Executors.newFixedThreadPool(threads - 1, tf) : null;
    }

    public int threads() { return threads; }

    /** Runs body(0..tasks-1): task 0 on the caller, the rest on the pool; returns when all are done. */
    public void run(int tasks, IntConsumer body) {
        if (tasks <= 0) return;
        if (tasks == 1 || pool == null) {
            for (int t = 0; t < tasks; t++) body.accept(t);
            return;
        }
        @SuppressWarnings("unchecked")
        Future<?>[] futures = new Future<?>[tasks - 1];
        for (int t = 1; t < tasks; t++) {
            final int task = t;
            futures[t - 1] = pool.submit(() -> body.accept(task));
        }
        RuntimeException failure = null;
        try {
            body.accept(0);
        } catch (RuntimeException e) {
            failure = e;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for kernel threads", e);
            } catch (java.util.concurrent.ExecutionException e) {
                if (failure == null) failure = e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
            }
        }
        if (failure != null) throw failure;
    }
}
