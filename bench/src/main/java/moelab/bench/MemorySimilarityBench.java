package moelab.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import moelab.tensor.NoGrad;
import moelab.tensor.Parameters;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.nn.MoeConfig;
import moelab.nn.MoeFeedForward;
import moelab.nn.Routers;
import moelab.ops.Elementwise;
import moelab.ops.Reduce;
import moelab.routing.Router;
import moelab.routing.TokenInfo;
import moelab.routing.mar.MarConfig;
import moelab.routing.mar.MarRouter;
import moelab.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Memory-aware routing cost (target: under 5% of the MoE layer's time).
 *
 * <ul>
 *   <li>{@code similarity}: the memory-similarity kernel, forward M [T,E] = cos(X [T,d], P [E,d]) and
 *       backward dX, called directly (all experts active).</li>
 *   <li>{@code moeLayer}: one MoE layer forward + backward at the same T, d, E with k = 2, d_ff = 2d,
 *       LBL, dropless, the plain top-k router (as {@link MoeLayerBench}).</li>
 *   <li>{@code moeLayerMar}: the same layer with the MAR decorator (N = 128, memories filled in
 *       setup): its cost over {@code moeLayer} is the whole MAR overhead (match op, logit add, pushes).</li>
 * </ul>
 * share = similarity / moeLayer, overhead = moeLayerMar / moeLayer - 1, from the same run.
 * The layer benchmarks are slow with the scalar kernels; run them with {@code -p impl=simd-1t}.
 *
 * <p>Run: {@code ./moe bench MemorySimilarityBench -f 1 -wi 2 -i 5 -rf json -rff mar.json}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
public class MemorySimilarityBench {

    @Param({"1024", "4096"})
    public int tokens;

    @Param({"256", "512"})
    public int d;

    @Param({"8", "32", "64"})
    public int experts;

    /** Kernel set: scalar, simd-1t, simd-2t. */
    @Param({"scalar", "simd-1t"})
    public String impl;

    Kernels kernels;
    float[] x, p, m, dm, dx;
    boolean[] active;

    MoeFeedForward plain, mar;
    Parameters plainParams, marParams;
    Tensor lx, gy;
    TokenInfo info;

    @Setup
    public void setup() {
        kernels = BenchKernels.create(impl);
        Backends.use(kernels);
        Random r = new Random(7);
        x = gauss(r, tokens * d);
        p = gauss(r, experts * d);
        m = new float[tokens * experts];
        dm = gauss(r, tokens * experts);
        dx = new float[tokens * d];
        active = new boolean[experts];
        java.util.Arrays.fill(active, true);

        MoeConfig cfg = MoeConfig.defaults(experts, 2, 2 * d);
        plainParams = new Parameters();
        plain = new MoeFeedForward("moe.", 0, d, cfg, 0.02, 0.02, plainParams, new Random(7), Routers.create(cfg, 0));
        marParams = new Parameters();
        Router wrapped = new MarRouter(Routers.create(cfg, 0), new MarConfig(true, 0.5, 128), 0);
        mar = new MoeFeedForward("moe.", 0, d, cfg, 0.02, 0.02, marParams, new Random(7), wrapped);
        lx = Tensor.randn(r, 1f, tokens, d).requiresGrad(true);
        gy = Tensor.randn(r, 1f, tokens, d);
        info = TokenInfo.of(1, tokens);
        try (NoGrad ng = NoGrad.enter()) { mar.forward(lx, info, true); }   // fill the memories
    }

    private static float[] gauss(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    // x [T, d], p [E, d] -> m [T, E]; dm [T, E] -> dx [T, d]
    @Benchmark
    public float similarity() {
        kernels.memorySimilarity(x, 0, p, active, m, 0, tokens, experts, d);
        kernels.memorySimilarityBackward(x, 0, p, active, m, 0, dm, 0, dx, 0, tokens, experts, d);
        return dx[0];
    }

    @Benchmark
    public float moeLayer() { return layerStep(plain, plainParams); }

    @Benchmark
    public float moeLayerMar() { return layerStep(mar, marParams); }

    // x [T, d] -> y [T, d], backward to x and every parameter
    private float layerStep(MoeFeedForward layer, Parameters params) {
        params.zeroGrad();
        lx.zeroGrad();
        MoeFeedForward.Output o = layer.forward(lx, info, true);
        Tensor loss = Elementwise.add(Reduce.sumAll(Elementwise.mul(o.y(), gy)), o.auxLoss());
        loss.backward();
        return lx.grad()[0];
    }
}
