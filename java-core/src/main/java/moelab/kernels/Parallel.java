package moelab.kernels;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A fixed pool of worker threads shared by the kernels of one back end. {@link #run} splits work
 * into a fixed number of tasks; which task computes which output never depends on timing (only
 * which thread runs a task does), so results are deterministic.
 *
 * <p>Handing a task over must cost far less than the kernels it splits: a training step of the
 * small config makes 3,584 attention GEMMs of ~14 microseconds each. With an executor and
 * futures (a thread parked and woken per call) each call cost ~100 microseconds more on 2 threads
 * of a 2-vCPU VM than on 1, and the attention GEMMs took 3-8x longer in all. So a worker that finished spins for a while ({@link #SPIN_NANOS}) watching for the next
 * call before it parks, and the caller spins while it waits for the last task; a caller that
 * finds a worker parked wakes it with an unpark.
 */
public final class Parallel {
    /**
     * How long an idle worker (or a waiting caller) spins before it parks, in nanoseconds:
     * longer than the gaps between the kernel calls of a step (single-threaded work between
     * them), short enough that a pool left idle stops using a core within a fraction of a
     * millisecond. Set with -Dmoelab.spinMicros (0 parks at once).
     */
    static final long SPIN_NANOS = Long.getLong("moelab.spinMicros", 200) * 1000L;

    private final int threads;
    private final Worker[] workers;
    /** One call at a time; a call made from inside a task runs its tasks inline. */
    private final ReentrantLock callLock = new ReentrantLock();
    /** The latest call; a worker runs each new one it sees. */
    private volatile Call current;
    /** Calls this thread is running tasks of as a caller (of any pool). */
    private static final ThreadLocal<int[]> CALLER_DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    /**
     * One call's tasks and counters. A new object per call: a worker that arrives late at an
     * old call only finds its counters exhausted, and can never run an old body as a new task.
     */
    private static final class Call {
        private static final VarHandle NEXT, DONE;
        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                NEXT = l.findVarHandle(Call.class, "next", int.class);
                DONE = l.findVarHandle(Call.class, "done", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
        final IntConsumer body;
        final int tasks;
        @SuppressWarnings("unused") private volatile int next;
        private volatile int done;
        volatile Throwable failure;
        volatile Thread waitingCaller;

        Call(IntConsumer body, int tasks) { this.body = body; this.tasks = tasks; }

        /** Claims and runs tasks until none is left. */
        void work() {
            for (int t; (t = (int) NEXT.getAndAdd(this, 1)) < tasks; ) {
                try {
                    body.accept(t);
                } catch (Throwable e) {
                    if (failure == null) failure = e;
                } finally {
                    if ((int) DONE.getAndAdd(this, 1) + 1 == tasks) {
                        Thread c = waitingCaller;
                        if (c != null) LockSupport.unpark(c);
                    }
                }
            }
        }

        /** Spins, then parks, until every task is done. */
        void await() {
            long start = System.nanoTime();
            while (done < tasks) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                    continue;
                }
                waitingCaller = Thread.currentThread();
                if (done < tasks) LockSupport.park(this);
                waitingCaller = null;
            }
        }
    }

    public Parallel(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker();
            workers[i].setName("moelab-kernels-" + (i + 1));
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    public int threads() { return threads; }

    /**
     * True on a thread that is running a task of some pool's call (a worker, or a caller taking
     * its share): a call made there runs its tasks inline, and per-thread scratch must be used.
     */
    public static boolean insideTask() {
        return Thread.currentThread() instanceof Worker || CALLER_DEPTH.get()[0] > 0;
    }

    /**
     * Runs body(0..tasks-1) on the caller and the workers; returns when all are done. Inside a
     * task of any pool the tasks run inline, in order: the threads are already busy.
     */
    public void run(int tasks, IntConsumer body) {
        if (tasks <= 0) return;
        if (tasks == 1 || workers.length == 0 || insideTask()) {
            for (int t = 0; t < tasks; t++) body.accept(t);
            return;
        }
        callLock.lock();
        int[] depth = CALLER_DEPTH.get();
        try {
            Call call = new Call(body, tasks);
            current = call;
            for (Worker w : workers) if (w.parked) LockSupport.unpark(w);
            depth[0]++;
            try {
                call.work();
            } finally {
                depth[0]--;
            }
            call.await();
            Throwable f = call.failure;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            if (f != null) throw new IllegalStateException(f);
        } finally {
            callLock.unlock();
        }
    }

    /** A pool thread: runs the tasks of each new call, spinning between calls, then parking. */
    private final class Worker extends Thread {
        volatile boolean parked;

        @Override
        public void run() {
            Call seen = current;
            while (true) {
                long start = System.nanoTime();
                Call c;
                while ((c = current) == seen) {
                    if (System.nanoTime() - start < SPIN_NANOS) {
                        Thread.onSpinWait();
                        continue;
                    }
                    parked = true;
                    if (current == seen) LockSupport.park(Parallel.this);
                    parked = false;
                }
                seen = c;
                c.work();
            }
        }
    }
}
