package moelab.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import moelab.tensor.Parameters;
import moelab.kernels.Backends;
import moelab.nn.MoeConfig;
import moelab.nn.MoeFeedForward;
import moelab.nn.Routers;
import moelab.ops.Elementwise;
import moelab.ops.Reduce;
import moelab.routing.TokenInfo;
import moelab.tensor.StepArena;
import moelab.tensor.Tensor;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * One MoE feed-forward layer, forward + backward, as in training: router x·W_r, softmax, top-k,
 * load-balancing loss, sort-by-expert dispatch, SwiGLU experts (the fused {@code MoeExperts}
 * node), gate-weighted combine; loss = sum(y * g) + LBL with a fixed random g, then backward into
 * x and every parameter. Dropless, no shared expert. The shapes are the target shapes, as
 * {@code d:f:E:k:T}; any other can be given with {@code -p shape=...}.
 *
 * <p>The {@code tokens} secondary result is tokens/s (T per layer step); the primary score is
 * layer steps/s. Compare with {@code python3 bench/pytorch/moe_layer_peer.py} (same layer, same
 * shapes) run right after it on the same machine; it can read this benchmark's JSON result and print the ratios.
 *
 * <p>Run: {@code ./moe bench MoeLayerBench -f 1 -wi 1 -i 3 -w 2 -r 2 -rf json -rff moe_layer.json}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
public class MoeLayerBench {

    /** d_model : d_ff : experts : top-k : tokens. */
    @Param({"256:512:8:2:2048", "512:1024:16:4:4096", "512:256:64:8:4096"})
    public String shape;

    /** Kernel set: simd-1t, simd-2t (scalar works too, but is far too slow at these shapes). */
    @Param({"simd-1t", "simd-2t"})
    public String impl;

    /** Whether each step's activations are recycled ({@link StepArena}, as in training) or freshly allocated. */
    @Param({"true"})
    public boolean arena;

    int tokens;
    MoeFeedForward layer;
    Parameters params;
    Tensor x, gy;
    TokenInfo info;

    /** Tokens processed, reported by JMH as a rate (tokens/s). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        public long tokens;

        @Setup(Level.Iteration)
        public void reset() { tokens = 0; }
    }

    @Setup
    public void setup() {
        String[] p = shape.split(":");
        if (p.length != 5) throw new IllegalArgumentException("shape '" + shape + "' must be d:f:E:k:T");
        int d = Integer.parseInt(p[0]), f = Integer.parseInt(p[1]), e = Integer.parseInt(p[2]), k = Integer.parseInt(p[3]);
        tokens = Integer.parseInt(p[4]);
        Backends.use(BenchKernels.create(impl));
        MoeConfig cfg = MoeConfig.defaults(e, k, f);
        params = new Parameters();
        Random rng = new Random(7);
        layer = new MoeFeedForward("moe.", 0, d, cfg, 0.02, 0.02, params, rng, Routers.create(cfg, 0));
        x = Tensor.randn(rng, 1f, tokens, d).requiresGrad(true); // the layer input needs its gradient in training
        gy = Tensor.randn(rng, 1f, tokens, d);
        info = TokenInfo.of(1, tokens);
    }

    // x [T, d] -> y [T, d], then backward to x and router, w1, w3, w2
    @Benchmark
    public float forwardBackward(Counters c) {
        params.zeroGrad();
        x.zeroGrad();
        try (StepArena step = arena ? StepArena.open() : null) {
            MoeFeedForward.Output o = layer.forward(x, info, true);
            Tensor loss = Elementwise.add(Reduce.sumAll(Elementwise.mul(o.y(), gy)), o.auxLoss());
            loss.backward();
        }
        c.tokens += tokens;
        return x.grad()[0];
    }
}
