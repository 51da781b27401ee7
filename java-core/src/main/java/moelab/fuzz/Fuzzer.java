package moelab.fuzz;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;

/**
 * Feeds mutated inputs to a reader and records what is not a clean outcome. A clean outcome is
 * the reader accepting the input or refusing it with one of its own error types. Findings:
 * any other exception or error, an input that takes longer than the time limit (a hang), and
 * an input that makes the reader allocate more than {@link #allocationLimit} (so a length field
 * can never make a reader allocate what the input does not hold).
 */
public final class Fuzzer {
    /** A reader under test: parses the input, throwing its own error types when it refuses it. */
    @FunctionalInterface
    public interface Target {
        void read(byte[] input) throws Exception;
    }

    /** What went wrong with one input; input is its bytes in hex (the first 256). */
    public record Finding(long index, String problem, String input) {}

    /** A run's counts: inputs tried, accepted, refused with an own error, and the findings. */
    public record Report(String target, long inputs, long accepted, long refused, List<Finding> findings) {
        public String summary() {
            return String.format("%s: %d inputs, %d accepted, %d refused with its own error, %d findings",
                    target, inputs, accepted, refused, findings.size());
        }
    }

    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private Fuzzer() {}

    /** Bytes a reader may allocate for an input of n bytes: 64 per input byte (parsed JSON, boxed numbers, strings) plus 1 MiB. */
    public static long allocationLimit(int n) { return 64L * n + (1L << 20); }

    /**
     * Runs count inputs from mutator through target, each under timeoutMs; fix (may be identity)
     * repairs an input before it is read, e.g. recomputes a checksum so the reader gets past it.
     * Stops at the first hang (the stuck thread cannot be reclaimed) and after 20 findings.
     */
    public static Report run(String name, Target target, List<Class<? extends Throwable>> ownErrors, Mutator mutator,
                             UnaryOperator<byte[]> fix, long count, long timeoutMs) {
        List<Finding> findings = new ArrayList<>();
        long accepted = 0, refused = 0, i = 0;
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-" + name);
            t.setDaemon(true);
            return t;
        });
        try {
            for (; i < count && findings.size() < 20; i++) {
                byte[] input = fix.apply(mutator.next());
                Future<Throwable> f = worker.submit(() -> attempt(target, input));
                Throwable outcome;
                try {
                    outcome = f.get(timeoutMs, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    findings.add(new Finding(i, "no answer within " + timeoutMs + " ms (a hang?)", hex(input)));
                    i++;
                    break;
                } catch (InterruptedException | ExecutionException e) {
                    throw new IllegalStateException("fuzz worker failed", e);
                }
                if (outcome == null) accepted++;
                else if (outcome instanceof AllocationExceeded a) findings.add(new Finding(i, a.getMessage(), hex(input)));
                else if (ownErrors.stream().anyMatch(c -> c.isInstance(outcome))) refused++;
                else findings.add(new Finding(i, outcome.getClass().getName() + ": " + outcome.getMessage(), hex(input)));
            }
        } finally {
            worker.shutdownNow();
        }
        return new Report(name, i, accepted, refused, List.copyOf(findings));
    }

    /** null when the target accepted the input, else what it threw (OutOfMemoryError included). */
    private static Throwable attempt(Target target, byte[] input) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        Throwable thrown = null;
        try {
            target.read(input);
        } catch (Throwable t) {
            thrown = t;
        }
        long used = THREADS.getCurrentThreadAllocatedBytes() - before;
        if (used > allocationLimit(input.length))
            return new AllocationExceeded("allocated " + used + " bytes for a " + input.length + "-byte input (limit "
                    + allocationLimit(input.length) + ")" + (thrown == null ? "" : ", then " + thrown.getClass().getSimpleName()));
        return thrown;
    }

    private static String hex(byte[] b) { return HexFormat.of().formatHex(b, 0, Math.min(b.length, 256)); }

    private static final class AllocationExceeded extends RuntimeException {
        AllocationExceeded(String m) { super(m, null, false, false); }
    }
}
