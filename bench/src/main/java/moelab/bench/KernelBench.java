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
 * Row and elementwise kernels on activations [ROWS, COLS] = [2048, 512] (4 MiB per array: out of
 * L2, like a real layer's activations). One JMH "operation" is one byte of logical traffic (each
 * input read once, each output written once, accumulated gradients read and written), and the
 * time unit is ns, so the score reads directly as GB/s.
 *
 * <p>Run: {@code ./moe bench KernelBench -f 1 -wi 2 -i 3 -w 1 -r 1}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class KernelBench {
    static final int ROWS = 2048, COLS = 512, N = ROWS * COLS;
    /** 4 bytes per float. */
    static final int F = 4 * N;

    @Param({"scalar", "simd-1t", "simd-2t"})
    public String impl;

    Kernels k;
    float[] x, y, w, dy, dx, dw, inv, a, b, h, da, db;

    @Setup
    public void setup() {
        k = BenchKernels.create(impl);
        Random r = new Random(7);
        x = gaussian(r, N);
        dy = gaussian(r, N);
        a = gaussian(r, N);
        b = gaussian(r, N);
        w = gaussian(r, COLS);
        y = new float[N];
        dx = new float[N];
        h = new float[N];
        da = new float[N];
        db = new float[N];
        dw = new float[COLS];
        inv = new float[ROWS];
        k.rmsnormForward(x, 0, w, 0, y, 0, inv, 0, ROWS, COLS, 1e-5f);
    }

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    // x -> y [2048, 512]: read x, write y
    @Benchmark @OperationsPerInvocation(2 * F)
    public float[] softmax() { k.softmaxRows(x, 0, y, 0, ROWS, COLS); return y; }

    // y, dy -> dx += ...: read y, dy, read and write dx
    @Benchmark @OperationsPerInvocation(4 * F)
    public float[] softmaxBackward() { k.softmaxBackwardRows(a, 0, dy, 0, dx, 0, ROWS, COLS); return dx; }

    // x, w -> y, invRms: read x, write y
    @Benchmark @OperationsPerInvocation(2 * F)
    public float[] rmsnormForward() { k.rmsnormForward(x, 0, w, 0, y, 0, inv, 0, ROWS, COLS, 1e-5f); return y; }

    // x, dy -> dx, dw: read x, dy, read and write dx
    @Benchmark @OperationsPerInvocation(4 * F)
    public float[] rmsnormBackward() { k.rmsnormBackward(x, 0, w, 0, inv, 0, dy, 0, dx, 0, dw, 0, ROWS, COLS); return dx; }

    // a, b -> h [N]: read a, b, write h
    @Benchmark @OperationsPerInvocation(3 * F)
    public float[] swigluForward() { k.swigluForward(a, 0, b, 0, h, 0, N); return h; }

    // a, b, dh -> da, db: read a, b, dh, read and write da, db
    @Benchmark @OperationsPerInvocation(7 * F)
    public float[] swigluBackward() { k.swigluBackward(a, 0, b, 0, dy, 0, da, 0, db, 0, N); return da; }

    // a, b -> h: read a, b, write h
    @Benchmark @OperationsPerInvocation(3 * F)
    public float[] add() { k.add(a, 0, b, 0, h, 0, N); return h; }

    // y += alpha x: read x, read and write y
    @Benchmark @OperationsPerInvocation(3 * F)
    public float[] axpy() { k.axpy(1e-3f, x, 0, dx, 0, N); return dx; }

    // a . b: read a, b
    @Benchmark @OperationsPerInvocation(2 * F)
    public float dot() { return k.dot(a, 0, b, 0, N); }
}
