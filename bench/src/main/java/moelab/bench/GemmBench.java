package moelab.bench;

import moelab.kernels.Kernels;
import moelab.kernels.ScalarKernels;
import moelab.simd.SimdKernels;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * SGEMM throughput: square sizes and the MoE expert shapes (d_model 512, d_ff 1024, T tokens).
 * <pre>
 *   square-N   C[N,N]    = A[N,N] B[N,N]
 *   moe-fwd-T  H[T,1024] = X[T,512] W[512,1024]
 *   moe-dx-T   dX[T,512] += dH[T,1024] W^T        (transB, W stored [512,1024])
 *   moe-dw-T   dW[512,1024] += X^T dH             (transA, X stored [T,512], k = T)
 * </pre>
 * {@code simd} runs the Vector API back end on 1 and 2 kernel threads; {@code scalar} runs the
 * reference only on the square sizes up to 256 (larger ones take seconds per call).
 * Primary score: calls/s; secondary "gflop" (ops/s) = GFLOP/s with 2*m*n*k flops per call.
 * Compare with FmaPeakBench measured in the same run.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class GemmBench {

    /** One GEMM problem: operands stored as the shape name says, C cleared before the run. */
    public abstract static class Problem {
        boolean transA, transB;
        int m, n, k, lda, ldb;
        float beta;
        float[] a, b, c;
        double gflopPerCall;
        Kernels kernels;

        void init(String shape, Kernels kernels) {
            this.kernels = kernels;
            String[] parts = shape.split("-");
            if (parts[0].equals("square")) {
                int s = Integer.parseInt(parts[1]);
                set(false, false, s, s, s, 0f);
            } else if (parts[0].equals("moe") && parts.length == 3 && parts[2].startsWith("T")) {
                int t = Integer.parseInt(parts[2].substring(1));
                switch (parts[1]) {
                    case "fwd" -> set(false, false, t, 1024, 512, 0f);
                    case "dx" -> set(false, true, t, 512, 1024, 1f);
                    case "dw" -> set(true, false, 512, 1024, t, 1f);
                    default -> throw new IllegalArgumentException("unknown MoE GEMM '" + parts[1] + "' in shape " + shape);
                }
            } else {
                throw new IllegalArgumentException("unknown shape " + shape + " (square-N or moe-{fwd,dx,dw}-T<tokens>)");
            }
            Random rng = new Random(1);
            a = random(rng, m * k);
            b = random(rng, k * n);
            c = new float[m * n];
            lda = transA ? m : k;
            ldb = transB ? k : n;
            gflopPerCall = 2.0 * m * n * k * 1e-9;
        }

        private void set(boolean tA, boolean tB, int m, int n, int k, float beta) {
            transA = tA; transB = tB; this.m = m; this.n = n; this.k = k; this.beta = beta;
        }

        void run(FlopCounter flops) {
            kernels.sgemm(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, beta, c, 0, n);
            flops.gflop += gflopPerCall;
        }

        private static float[] random(Random rng, int len) {
            float[] x = new float[len];
            for (int i = 0; i < len; i++) x[i] = rng.nextFloat() * 2f - 1f;
            return x;
        }
    }

    @State(Scope.Benchmark)
    public static class SimdProblem extends Problem {
        @Param({"square-64", "square-128", "square-256", "square-512", "square-1024", "square-2048",
                "moe-fwd-T256", "moe-dx-T256", "moe-dw-T256",
                "moe-fwd-T1024", "moe-dx-T1024", "moe-dw-T1024",
                "moe-fwd-T4096", "moe-dx-T4096", "moe-dw-T4096"})
        public String shape;

        /** Threads inside the kernel (the back end's pool), not JMH threads. */
        @Param({"1", "2"})
        public int threads;

        @Setup(Level.Trial)
        public void setup() { init(shape, new SimdKernels(threads)); }
    }

    @State(Scope.Benchmark)
    public static class ScalarProblem extends Problem {
        @Param({"square-64", "square-128", "square-256"})
        public String scalarShape;

        @Setup(Level.Trial)
        public void setup() { init(scalarShape, new ScalarKernels()); }
    }

    @Benchmark
    public float[] simd(SimdProblem p, FlopCounter flops) {
        p.run(flops);
        return p.c;
    }

    @Benchmark
    public float[] scalar(ScalarProblem p, FlopCounter flops) {
        p.run(flops);
        return p.c;
    }
}
