package moelab.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import moelab.tensor.Autograd;
import moelab.cuda.Cuda;
import moelab.cuda.CudaContext;
import moelab.cuda.CudaMoeExperts;
import moelab.cuda.DeviceTensor;
import moelab.kernels.Backends;
import moelab.nn.ExpertDispatch;
import moelab.nn.MoeExperts;
import moelab.tensor.Tensor;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The routed SwiGLU experts, forward + backward, on the same routing: java-core's MoeExperts on the
 * SIMD kernels (host) against CudaMoeExperts (device-resident: weights, activations and gradients
 * stay on the GPU; the step ends with a synchronize, nothing is copied back). Shapes {@code d:f:E:k:T}
 * as in MoeLayerBench, uniform random routing, no drops.
 *
 * <p>Without a GPU the cuda cases stop in setup with "cuda unavailable here: <reason>" and JMH goes
 * on with the other cases (the run still succeeds): no score is made up for a case that did not run.
 *
 * <p>Run: {@code ./moe bench CudaExpertBench -f 1 -wi 1 -i 3}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
public class CudaExpertBench {

    /** d_model : d_ff : experts : top-k : tokens. */
    @Param({"256:512:8:2:2048", "512:1024:16:4:4096", "512:256:64:8:4096"})
    public String shape;

    /** simd-1t, simd-2t (host, MoeExperts) or cuda (device-resident CudaMoeExperts). */
    @Param({"simd-2t", "cuda"})
    public String impl;

    int t, d, f, e, k;
    int[] routes;
    boolean[] kept;
    float[] x, g, dout, w1, w3, w2;
    // device state
    CudaMoeExperts layer;
    CudaMoeExperts.Plan plan;
    DeviceTensor dx, dg, ddout, gx, gg;

    @Setup
    public void setup() {
        String[] p = shape.split(":");
        if (p.length != 5) throw new IllegalArgumentException("shape '" + shape + "' must be d:f:E:k:T");
        d = Integer.parseInt(p[0]); f = Integer.parseInt(p[1]); e = Integer.parseInt(p[2]); k = Integer.parseInt(p[3]); t = Integer.parseInt(p[4]);
        Random r = new Random(1);
        routes = new int[t * k];
        kept = new boolean[t * k];
        for (int tok = 0; tok < t; tok++) // k distinct experts per token
            for (int j = 0; j < k; j++) { routes[tok * k + j] = (tok + j * (e / k)) % e; kept[tok * k + j] = true; }
        x = gauss(r, t * d, 1); g = gauss(r, t * k, 0.5); dout = gauss(r, t * d, 1);
        w1 = gauss(r, e * d * f, 1 / Math.sqrt(d)); w3 = gauss(r, e * d * f, 1 / Math.sqrt(d)); w2 = gauss(r, e * f * d, 1 / Math.sqrt(f));
        if (impl.equals("cuda")) {
            String why = Cuda.unavailableReason();
            if (why != null) throw new IllegalStateException("cuda unavailable here: " + why + " (case skipped, no score)");
            CudaContext ctx = Cuda.context();
            System.err.println("CudaExpertBench: " + ctx.describe());
            layer = new CudaMoeExperts(ctx, e, d, f, w1, w3, w2);
            plan = new CudaMoeExperts.Plan(ctx, ExpertDispatch.of(routes, kept, e, k), t, k);
            dx = DeviceTensor.of(ctx, "x", x, 0, t, d);
            dg = DeviceTensor.of(ctx, "gates", g, 0, t, k);
            ddout = DeviceTensor.of(ctx, "dout", dout, 0, t, d);
            gx = DeviceTensor.zeros(ctx, "dx", t, d);
            gg = DeviceTensor.zeros(ctx, "dgates", t, k);
        } else {
            Backends.use(BenchKernels.create(impl));
        }
    }

    @Benchmark
    public void forwardBackward(Blackhole bh) {
        if (impl.equals("cuda")) {
            try (CudaMoeExperts.Activations act = layer.forward(dx, dg, plan)) {
                layer.backward(act, ddout, gx, gg); // ends with a device synchronize
                bh.consume(act);
            }
            return;
        }
        Tensor tx = Tensor.of(x, t, d).requiresGrad(true), tg = Tensor.of(g, t, k).requiresGrad(true);
        Tensor t1 = Tensor.of(w1, e, d, f).requiresGrad(true), t3 = Tensor.of(w3, e, d, f).requiresGrad(true);
        Tensor t2 = Tensor.of(w2, e, f, d).requiresGrad(true);
        MoeExperts.Result res = MoeExperts.forward(tx, tg, t1, t3, t2, routes, kept);
        Autograd.backward(res.out(), dout);
        bh.consume(t1.grad());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (layer == null) return;
        for (AutoCloseable c : new AutoCloseable[]{gg, gx, ddout, dg, dx, plan, layer})
            try { c.close(); } catch (Exception ex) { throw new IllegalStateException("freeing device memory", ex); }
    }

    private static float[] gauss(Random r, int n, double sd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * sd);
        return a;
    }
}
