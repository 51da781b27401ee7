package moelab.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import moelab.kernels.Kernels;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Router top-k: the k best of E expert logits for each of 65536 tokens (standard normal logits,
 * as torch.randn gives bench/pytorch/topk_peer.py). One JMH operation is one row, so the score
 * is rows/s. Compare with {@code python3 bench/pytorch/topk_peer.py}, run right after it on the same machine.
 *
 * <p>Run: {@code ./moe bench TopKBench -f 1 -wi 2 -i 3 -w 1 -r 1}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class TopKBench {
    static final int ROWS = 65536;

    /** experts:k */
    @Param({"64:8", "8:2", "32:4"})
    public String shape;

    @Param({"scalar", "simd-1t", "simd-2t"})
    public String impl;

    Kernels k;
    int experts, topk;
    float[] logits, val;
    int[] idx;

    @Setup
    public void setup() {
        String[] ek = shape.split(":");
        experts = Integer.parseInt(ek[0]);
        topk = Integer.parseInt(ek[1]);
        k = BenchKernels.create(impl);
        Random r = new Random(11);
        logits = new float[ROWS * experts];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
        idx = new int[ROWS * topk];
        val = new float[ROWS * topk];
    }

    // logits [65536, E] -> idx, val [65536, k]
    @Benchmark @OperationsPerInvocation(ROWS)
    public int[] topk() {
        k.topkRows(logits, 0, ROWS, experts, topk, idx, 0, val, 0);
        return idx;
    }
}
