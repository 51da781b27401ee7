package moelab.kernels;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.*;

class ParallelTest {

    /** Many short calls back to back: each task of each call runs exactly once, before run returns. */
    @Test
    void everyTaskRunsOncePerCall() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            Parallel p = new Parallel(threads);
            for (int call = 0; call < 20_000; call++) {
                int tasks = 1 + call % 7;
                AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                p.run(tasks, runs::incrementAndGet);
                for (int t = 0; t < tasks; t++)
                    assertEquals(1, runs.get(t), "threads " + threads + ", call " + call + ", task " + t);
            }
        }
    }

    /** Workers that spun out and parked are woken by the next call. */
    @Test
    void wakesParkedWorkers() throws InterruptedException {
        Parallel p = new Parallel(2);
        for (int call = 0; call < 5; call++) {
            Thread.sleep(2 + Parallel.SPIN_NANOS / 1_000_000);
            AtomicIntegerArray runs = new AtomicIntegerArray(4);
            p.run(4, runs::incrementAndGet);
            for (int t = 0; t < 4; t++) assertEquals(1, runs.get(t));
        }
    }

    @Test
    void taskFailureReachesTheCaller() {
        Parallel p = new Parallel(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.run(4, t -> {
            if (t == 3) throw new IllegalArgumentException("task 3 failed");
        }));
        assertEquals("task 3 failed", e.getMessage());
        AtomicIntegerArray runs = new AtomicIntegerArray(3);
        p.run(3, runs::incrementAndGet); // the pool still works after a failure
        for (int t = 0; t < 3; t++) assertEquals(1, runs.get(t));
    }

    /** A call from inside a task runs inline; calls from two threads take turns. */
    @Test
    void nestedAndConcurrentCalls() throws InterruptedException {
        Parallel p = new Parallel(2);
        AtomicIntegerArray inner = new AtomicIntegerArray(3 * 5);
        p.run(3, t -> p.run(5, u -> inner.incrementAndGet(t * 5 + u)));
        for (int i = 0; i < 15; i++) assertEquals(1, inner.get(i));

        AtomicIntegerArray a = new AtomicIntegerArray(4), b = new AtomicIntegerArray(4);
        Thread other = new Thread(() -> { for (int i = 0; i < 2000; i++) p.run(4, a::incrementAndGet); });
        other.start();
        for (int i = 0; i < 2000; i++) p.run(4, b::incrementAndGet);
        other.join();
        for (int t = 0; t < 4; t++) {
            assertEquals(2000, a.get(t));
            assertEquals(2000, b.get(t));
        }
    }

    /** A task of one pool that calls another pool runs that call inline, on its own thread: no thread oversubscribes the cores. */
    @Test
    void callsFromATaskOfAnotherPoolRunInline() {
        Parallel outer = new Parallel(2), inner = new Parallel(2);
        assertFalse(Parallel.insideTask());
        java.util.concurrent.ConcurrentHashMap<Integer, String> ranOn = new java.util.concurrent.ConcurrentHashMap<>();
        AtomicIntegerArray inside = new AtomicIntegerArray(4);
        for (int round = 0; round < 200; round++)
            outer.run(4, t -> {
                String me = Thread.currentThread().getName();
                if (Parallel.insideTask()) inside.incrementAndGet(t);
                inner.run(3, u -> { if (!Thread.currentThread().getName().equals(me)) ranOn.put(t * 3 + u, Thread.currentThread().getName()); });
            });
        assertTrue(ranOn.isEmpty(), "inner tasks ran on other threads: " + ranOn);
        for (int t = 0; t < 4; t++) assertEquals(200, inside.get(t));
        assertFalse(Parallel.insideTask(), "the caller is outside every task again");
    }

    @Test
    void rejectsNoThreads() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Parallel(0));
        assertTrue(e.getMessage().contains("threads must be >= 1"), e.getMessage());
    }
}
