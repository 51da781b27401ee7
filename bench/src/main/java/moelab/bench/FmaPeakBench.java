package moelab.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
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
 * This machine's fp32 FMA peak through the Vector API at each vector width, the ceiling every
 * kernel is compared with. Each call runs {@link #STEPS} rounds of independent FMA chains
 * (acc = x * y + acc): {@code oneThread} / {@code allThreads} at the widest width the CPU has (512
 * bits with AVX-512: the peak every "% of peak" is against), {@code oneThread256} /
 * {@code allThreads256} with 256-bit vectors (what AVX2 code gets on the same machine).
 * Zen 3 (2 FMA pipes, 4 cycles latency) needs 8 chains in flight; 12 leave slack and still fit
 * AVX2's 16 ymm registers (12 accumulators + x + y). With 32 zmm registers the wide loop runs 16.
 * Result: "gflop" (ops/s) = GFLOP/s; allThreads on all hardware threads (JMH sums them).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class FmaPeakBench {
    private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;
    /** The widest float vectors this CPU runs natively (512 with AVX-512, else 256). */
    static final int WIDEST_BITS = VectorShape.preferredShape().vectorBitSize() >= 512 ? 512 : 256;
    static final int STEPS = 4096;
    /** 2 flops (multiply + add) per lane per FMA. */
    static final double GFLOP_PER_CALL_256 = 2.0 * S256.length() * 12 * STEPS * 1e-9;
    static final double GFLOP_PER_CALL_512 = 2.0 * S512.length() * 16 * STEPS * 1e-9;

    /** Scalars, not vectors: a vector read from a field has no exact class for C2 and is not intrinsified. */
    @State(Scope.Thread)
    public static class Operands {
        // x * y = 1e-6 per step: after STEPS steps the sums stay small and normal (no overflow, no denormals)
        float x = 0.001f, y = 0.001f;
    }

    @Benchmark
    @Threads(1)
    public float oneThread(Operands o, FlopCounter flops) { return widest(o, flops); }

    @Benchmark
    @Threads(Threads.MAX)
    public float allThreads(Operands o, FlopCounter flops) { return widest(o, flops); }

    @Benchmark
    @Threads(1)
    public float oneThread256(Operands o, FlopCounter flops) { return run256(o, flops); }

    @Benchmark
    @Threads(Threads.MAX)
    public float allThreads256(Operands o, FlopCounter flops) { return run256(o, flops); }

    static float widest(Operands o, FlopCounter flops) {
        return WIDEST_BITS == 512 ? run512(o, flops) : run256(o, flops);
    }

    static float run256(Operands o, FlopCounter flops) {
        final VectorSpecies<Float> S = S256;
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
        flops.gflop += GFLOP_PER_CALL_256;
        // combine the chains so none is dead code
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    static float run512(Operands o, FlopCounter flops) {
        final VectorSpecies<Float> S = S512;
        FloatVector x = FloatVector.broadcast(S, o.x), y = FloatVector.broadcast(S, o.y);
        FloatVector a0 = FloatVector.broadcast(S, o.x * 1), a1 = FloatVector.broadcast(S, o.x * 2);
        FloatVector a2 = FloatVector.broadcast(S, o.x * 3), a3 = FloatVector.broadcast(S, o.x * 4);
        FloatVector a4 = FloatVector.broadcast(S, o.x * 5), a5 = FloatVector.broadcast(S, o.x * 6);
        FloatVector a6 = FloatVector.broadcast(S, o.x * 7), a7 = FloatVector.broadcast(S, o.x * 8);
        FloatVector a8 = FloatVector.broadcast(S, o.x * 9), a9 = FloatVector.broadcast(S, o.x * 10);
        FloatVector a10 = FloatVector.broadcast(S, o.x * 11), a11 = FloatVector.broadcast(S, o.x * 12);
        FloatVector a12 = FloatVector.broadcast(S, o.x * 13), a13 = FloatVector.broadcast(S, o.x * 14);
        FloatVector a14 = FloatVector.broadcast(S, o.x * 15), a15 = FloatVector.broadcast(S, o.x * 16);
        for (int i = 0; i < STEPS; i++) {
            a0 = x.fma(y, a0); a1 = x.fma(y, a1); a2 = x.fma(y, a2); a3 = x.fma(y, a3);
            a4 = x.fma(y, a4); a5 = x.fma(y, a5); a6 = x.fma(y, a6); a7 = x.fma(y, a7);
            a8 = x.fma(y, a8); a9 = x.fma(y, a9); a10 = x.fma(y, a10); a11 = x.fma(y, a11);
            a12 = x.fma(y, a12); a13 = x.fma(y, a13); a14 = x.fma(y, a14); a15 = x.fma(y, a15);
        }
        flops.gflop += GFLOP_PER_CALL_512;
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .add(a12).add(a13).add(a14).add(a15).reduceLanes(VectorOperators.ADD);
    }
}
