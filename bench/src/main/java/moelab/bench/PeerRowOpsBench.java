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
 * The router and expert row kernels, simd vs native (C), one thread: softmax over the expert axis
 * and top-k of router logits [T, E] = [4096, 64] with k = 8, and the fused SwiGLU on expert
 * activations [4096, 1024]. Scores are per element (rows x cols, or n) per microsecond.
 *
 * <p>Run: {@code ./moe bench PeerRowOpsBench -f 1 -wi 2 -i 3 -w 1 -r 1}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class PeerRowOpsBench {
    static final int T = 4096, E = 64, K = 8, F = 1024;

    @Param({"simd", "native"})
    public String impl;

    Kernels k;
    float[] logits, probs, dy, dlogits, val, a, b, h, da, db;
    int[] idx;

    @Setup
    public void setup() {
        k = PeerGemmBench.oneThread(impl);
        Random r = new Random(5);
        logits = gaussian(r, T * E);
        dy = gaussian(r, T * E);
        probs = new float[T * E];
        dlogits = new float[T * E];
        val = new float[T * K];
        idx = new int[T * K];
        a = gaussian(r, T * F);
        b = gaussian(r, T * F);
        h = new float[T * F];
        da = new float[T * F];
        db = new float[T * F];
        k.softmaxRows(logits, 0, probs, 0, T, E);
    }

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    // logits [T, E] -> probs [T, E]
    @Benchmark @OperationsPerInvocation(T * E)
    public float[] softmax() { k.softmaxRows(logits, 0, probs, 0, T, E); return probs; }

    // probs, dy [T, E] -> dlogits [T, E] (accumulated)
    @Benchmark @OperationsPerInvocation(T * E)
    public float[] softmaxBackward() { k.softmaxBackwardRows(probs, 0, dy, 0, dlogits, 0, T, E); return dlogits; }

    // logits [T, E] -> idx, val [T, K]
    @Benchmark @OperationsPerInvocation(T * E)
    public int[] topk() { k.topkRows(logits, 0, T, E, K, idx, 0, val, 0); return idx; }

    // a, b [T, F] -> h [T, F]
    @Benchmark @OperationsPerInvocation(T * F)
    public float[] swigluForward() { k.swigluForward(a, 0, b, 0, h, 0, T * F); return h; }

    // a, b, dh [T, F] -> da, db [T, F] (accumulated)
    @Benchmark @OperationsPerInvocation(T * F)
    public float[] swigluBackward() { k.swigluBackward(a, 0, b, 0, h, 0, da, 0, db, 0, T * F); return da; }
}
