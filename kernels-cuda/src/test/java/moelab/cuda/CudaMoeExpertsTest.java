package moelab.cuda;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import moelab.tensor.Autograd;
import moelab.kernels.Backends;
import moelab.kernels.ScalarKernels;
import moelab.nn.ExpertDispatch;
import moelab.nn.MoeExperts;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The device-resident expert layer against java-core's MoeExperts on the scalar kernels, forward and
 * every gradient, on awkward routing: an expert with no tokens, one with a single token, dropped
 * slots, prime sizes, blocks larger than one 64-row tile. Skipped where there is no GPU.
 */
class CudaMoeExpertsTest {

    @Test
    void awkwardRoutingMatchesTheCpuLayer() {
        Gpu.require();
        check(37, 2, 7, 29, 53, 1);
        check(1, 1, 3, 5, 7, 2);
        check(150, 4, 5, 64, 96, 3);    // ~120 rows per expert: two row tiles
        check(97, 3, 11, 67, 131, 4);
    }

    private void check(int t, int k, int e, int d, int f, long seed) {
        Random r = new Random(seed);
        int[] routes = new int[t * k];
        boolean[] kept = new boolean[t * k];
        for (int s = 0; s < t * k; s++) {
            routes[s] = e > 2 ? 2 + r.nextInt(e - 2) : e - 1;   // expert 0 gets nothing
            kept[s] = r.nextInt(10) != 0;                        // ~10% dropped
        }
        if (e > 1) { routes[0] = 1; kept[0] = true; }             // expert 1 gets exactly one token
        String what = "moe experts T=" + t + " k=" + k + " E=" + e + " d=" + d + " f=" + f;

        float[] x = CudaKernelsTest.gauss(r, t * d), g = CudaKernelsTest.gauss(r, t * k), dout = CudaKernelsTest.gauss(r, t * d);
        float[] w1 = scaled(r, e * d * f, 1 / Math.sqrt(d)), w3 = scaled(r, e * d * f, 1 / Math.sqrt(d)), w2 = scaled(r, e * f * d, 1 / Math.sqrt(f));

        // CPU reference: MoeExperts on the scalar kernels, gradients through the tape
        moelab.kernels.Kernels before = Backends.get();
        Backends.use(new ScalarKernels());
        Tensor tx = Tensor.of(x.clone(), t, d).requiresGrad(true), tg = Tensor.of(g.clone(), t, k).requiresGrad(true);
        Tensor t1 = Tensor.of(w1.clone(), e, d, f).requiresGrad(true), t3 = Tensor.of(w3.clone(), e, d, f).requiresGrad(true);
        Tensor t2 = Tensor.of(w2.clone(), e, f, d).requiresGrad(true);
        MoeExperts.Result ref = MoeExperts.forward(tx, tg, t1, t3, t2, routes, kept);
        Autograd.backward(ref.out(), dout.clone());
        Backends.use(before);

        CudaContext ctx = Cuda.context();
        ExpertDispatch plan = ExpertDispatch.of(routes, kept, e, k);
        try (CudaMoeExperts layer = new CudaMoeExperts(ctx, e, d, f, w1, w3, w2);
             CudaMoeExperts.Plan dp = new CudaMoeExperts.Plan(ctx, plan, t, k);
             DeviceTensor dx = DeviceTensor.of(ctx, "x", x, 0, t, d);
             DeviceTensor dg = DeviceTensor.of(ctx, "gates", g, 0, t, k);
             DeviceTensor ddout = DeviceTensor.of(ctx, "dout", dout, 0, t, d);
             DeviceTensor gx = DeviceTensor.zeros(ctx, "dx", t, d);
             DeviceTensor gg = DeviceTensor.zeros(ctx, "dgates", t, k);
             CudaMoeExperts.Activations act = layer.forward(dx, dg, dp)) {
            layer.backward(act, ddout, gx, gg);
            compare(what + " out", ref.out().toArray(), act.out().download(), d + f);
            compare(what + " dx", tx.grad(), gx.download(), d + f);
            compare(what + " dgates", tg.grad(), gg.download(), d + f);
            compare(what + " dw1", t1.grad(), layer.dw1().download(), t + f);
            compare(what + " dw3", t3.grad(), layer.dw3().download(), t + f);
            compare(what + " dw2", t2.grad(), layer.dw2().download(), t + f);
        }
    }

    /** Sums of up to `terms` products in another order, FMA and expf: relative to the largest |value|. */
    private static void compare(String what, float[] exp, float[] act, int terms) {
        double scale = 1e-30;
        for (float v : exp) scale = Math.max(scale, Math.abs(v));
        double tol = 16 * (terms + 8) * 0x1p-24 * scale;
        if (exp.length != act.length) fail(what + ": length " + act.length + ", expected " + exp.length);
        for (int i = 0; i < exp.length; i++)
            if (!(Math.abs(exp[i] - act[i]) <= tol))
                fail(what + ": element " + i + " expected " + exp[i] + " but was " + act[i] + " (tol " + tol + ")");
    }

    private static float[] scaled(Random r, int n, double sd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * sd);
        return a;
    }
}
