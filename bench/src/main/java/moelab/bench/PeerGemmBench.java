package moelab.bench;

import java.util.concurrent.TimeUnit;
import moelab.kernels.Kernels;
import moelab.kernels.ScalarKernels;
import moelab.nativ.BlisKernels;
import moelab.nativ.NativeKernels;
import moelab.nativ.OpenBlasKernels;
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

/**
 * SGEMM across back ends on the same shapes in one run, all on ONE thread: simd (Vector API),
 * native (C, AVX2/FMA, through FFM) and openblas (the system OpenBLAS, set to 1 thread), plus the
 * scalar reference on the smaller shapes only (the large ones take seconds per call). Shapes as in
 * {@link GemmBench} (square-N; moe-fwd/dx/dw-T with d_model 512, d_ff 1024, T tokens).
 * Secondary result "gflop" (ops/s) = GFLOP/s. A back end that cannot load here fails its setup
 * with the reason. Compare with FmaPeakBench.oneThread measured in the same run.
 *
 * <p>Run: {@code ./moe bench PeerGemmBench FmaPeakBench.oneThread -f 1 -wi 2 -i 3 -w 1 -r 1}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class PeerGemmBench {

    /** One kernel thread for every back end, so the comparison is per core. */
    static Kernels oneThread(String impl) {
        return switch (impl) {
            case "scalar" -> new ScalarKernels();
            case "simd" -> new SimdKernels(1);
            case "native" -> new NativeKernels(1);
            case "openblas" -> new OpenBlasKernels(1);
            case "blis" -> new BlisKernels(1);
            default -> throw new IllegalArgumentException("unknown impl '" + impl + "'; known: scalar, simd, native, openblas, blis");
        };
    }

    @State(Scope.Benchmark)
    public static class FastProblem extends GemmBench.Problem {
        @Param({"square-256", "square-512", "square-1024",
                "moe-fwd-T256", "moe-dx-T256", "moe-dw-T256",
                "moe-fwd-T4096", "moe-dx-T4096", "moe-dw-T4096"})
        public String shape;

        @Param({"simd", "native", "openblas"})
        public String impl;

        @Setup(Level.Trial)
        public void setup() { init(shape, oneThread(impl)); }
    }

    /** The reference, on the shapes it finishes in well under a second. */
    @State(Scope.Benchmark)
    public static class ScalarProblem extends GemmBench.Problem {
        @Param({"square-256", "square-512", "moe-fwd-T256", "moe-dx-T256", "moe-dw-T256"})
        public String scalarShape;

        @Setup(Level.Trial)
        public void setup() { init(scalarShape, oneThread("scalar")); }
    }

    @Benchmark
    public float[] sgemm(FastProblem p, FlopCounter flops) {
        p.run(flops);
        return p.c;
    }

    @Benchmark
    public float[] scalar(ScalarProblem p, FlopCounter flops) {
        p.run(flops);
        return p.c;
    }
}
