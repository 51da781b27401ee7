package moelab.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * This machine's fp32 FMA peak through the Vector API, the ceiling GemmBench is compared with.
 * Each call runs {@link #STEPS} rounds of {@link #CHAINS} independent 256-bit FMA chains
 * (acc = x * y + acc).
 * Zen 3 has 2 FMA pipes with 4 cycles latency: 8 chains in flight saturate them; 12 leave slack
 * for loop overhead while still fitting AVX2's 16 ymm registers (12 accumulators + x + y).
 * Result: "gflop" (ops/s) = GFLOP/s; {@code oneThread} on 1 thread, {@code allThreads} on all
 * hardware threads (JMH sums them).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class FmaPeakBench {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    static final int CHAINS = 12;
    static final int STEPS = 4096;
    /** 2 flops (multiply + add) per lane per FMA. */
    static final double GFLOP_PER_CALL = 2.0 * S.length() * CHAINS * STEPS * 1e-9;

    /** Scalars, not vectors: a vector read from a field has no exact class for C2 and is not intrinsified. */
    @State(Scope.Thread)
    public static class Operands {
        // x * y = 1e-6 per step: after STEPS steps the sums stay small and normal (no overflow, no denormals)
        float x = 0.001f, y = 0.001f;
    }

    @Benchmark
    @Threads(1)
    public float oneThread(Operands o, FlopCounter flops) { return run(o, flops); }

    @Benchmark
    @Threads(Threads.MAX)
    public float allThreads(Operands o, FlopCounter flops) { return run(o, flops); }

    private static float run(Operands o, FlopCounter flops) {
        FloatVector x = FloatVector.broadcast(S, o.x), y = FloatVector.broadcast(S, o.y);
        // distinct start values: identical chains would be merged by C2 (same inputs, same ops)
        FloatVector a0 = FloatVector.broadcast(S, o.x * 1), a1 = FloatVector.broadcast(S, o.x * 2);
        FloatVector a2 = FloatVector.broadcast(S, o.x * 3), a3 = FloatVector.broadcast(S, o.x * 4);
        FloatVector a4 = FloatVector.broadcast(S, o.x * 5), a5 = FloatVector.broadcast(S, o.x * 6);
        FloatVector a6 = FloatVector.broadcast(S, o.x * 7), a7 = FloatVector.broadcast(S, o.x * 8);
        FloatVector a8 = FloatVector.broadcast(S, o.x * 9), a9 = FloatVector.broadcast(S, o.x * 10);
        FloatVector a10 = FloatVector.broadcast(S, o.x * 11), a11 = FloatVector.broadcast(S, o.x * 12);
        for (int i = 0; i < STEPS; i++) {
            // acc = x * y + acc: the accumulator is the FMA's addend, so no register copies
            a0 = x.fma(y, a0); a1 = x.fma(y, a1); a2 = x.fma(y, a2); a3 = x.fma(y, a3);
            a4 = x.fma(y, a4); a5 = x.fma(y, a5); a6 = x.fma(y, a6); a7 = x.fma(y, a7);
            a8 = x.fma(y, a8); a9 = x.fma(y, a9); a10 = x.fma(y, a10); a11 = x.fma(y, a11);
        }
        flops.gflop += GFLOP_PER_CALL;
        // combine the chains so none is dead code
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }
}
