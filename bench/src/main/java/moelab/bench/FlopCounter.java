package moelab.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Floating-point work done, as a JMH secondary result. Benchmarks add the GFLOP each call
 * performs; in Throughput mode with {@code @OutputTimeUnit(SECONDS)} JMH reports the field as
 * "gflop" in ops/s, which is GFLOP/s (summed over JMH threads, like the primary score).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class FlopCounter {
    /** GFLOP done in the current iteration. */
    public double gflop;

    @Setup(Level.Iteration)
    public void reset() { gflop = 0; }
}
