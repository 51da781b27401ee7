package moelab.kernels;

import moelab.tensor.Autograd;
import moelab.ops.Attention;
import moelab.ops.MatMul;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ProfileTest {
    private final Kernels saved = Backends.get();

    @AfterEach
    void restore() {
        Profile.enable(false);
        Profile.reset();
        Backends.use(saved);
    }

    // a [m,k] · b [k,n] forward and backward with the given kernels installed
    private static void matmulForwardBackward(int m, int k, int n) {
        Random rng = new Random(3);
        Tensor a = Tensor.randn(rng, 1f, m, k).requiresGrad(true);
        Tensor b = Tensor.randn(rng, 1f, k, n).requiresGrad(true);
        Tensor y = MatMul.matmul(a, b);
        float[] seed = new float[m * n];
        java.util.Arrays.fill(seed, 1f);
        Autograd.backward(y, seed);
    }

    @Test
    void offRecordsNothing() {
        Profile.enable(false);
        Profile.reset();
        Backends.use(new TimedKernels(new ScalarKernels()));
        matmulForwardBackward(4, 6, 5);
        Random rng = new Random(1);
        Tensor q = Tensor.randn(rng, 1f, 1, 2, 5, 4).requiresGrad(true);
        Tensor out = Attention.causal(q, q, q);
        Autograd.backward(out, new float[out.numel()]);
        Profile.begin(Profile.OPTIMIZER);
        Profile.end(Profile.OPTIMIZER);

        Profile.Snapshot s = Profile.snapshot();
        for (int r = 0; r < Profile.REGIONS; r++) {
            assertEquals(0, s.nanos(r), Profile.name(r) + " time");
            assertEquals(0, s.calls()[r], Profile.name(r) + " calls");
            assertEquals(0, s.gemmNanosIn()[r], "gemm in " + Profile.name(r));
        }
        assertEquals(0, s.gemmFlops());
        assertEquals(0, s.kernelCalls());
        assertEquals(0, s.kernelNanos());
    }

    @Test
    void timedKernelsCountGemmCallsAndFlopsAndKeepResults() {
        Profile.enable(true);
        Profile.reset();
        Backends.use(new TimedKernels(new ScalarKernels()));
        matmulForwardBackward(3, 7, 5);   // forward y = a·b, backward dA = dY·bᵀ, dB = aᵀ·dY
        Profile.Snapshot s = Profile.snapshot();
        assertEquals(3, s.calls()[Profile.GEMM]);
        assertEquals(3L * 2 * 3 * 5 * 7, s.gemmFlops());
        assertTrue(s.nanos(Profile.GEMM) > 0);
        assertEquals(s.nanos(Profile.GEMM), s.gemmNanosIn()[Profile.NONE], "called outside every region");
        assertEquals(0, Profile.openRegions());

        // the decorator returns exactly what the inner kernels compute
        Random rng = new Random(5);
        float[] a = new float[6 * 4], b = new float[4 * 3];
        for (int i = 0; i < a.length; i++) a[i] = (float) rng.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextGaussian();
        float[] c1 = new float[6 * 3], c2 = new float[6 * 3];
        new ScalarKernels().sgemm(false, false, 6, 3, 4, 0.5f, a, 0, 4, b, 0, 3, 0f, c1, 0, 3);
        Backends.get().sgemm(false, false, 6, 3, 4, 0.5f, a, 0, 4, b, 0, 3, 0f, c2, 0, 3);
        assertArrayEquals(c1, c2);
        assertEquals(4, Profile.snapshot().calls()[Profile.GEMM]);
        float[] x = {1, 2, 3};
        assertEquals(new ScalarKernels().dot(x, 0, x, 0, 3), Backends.get().dot(x, 0, x, 0, 3));
        assertEquals(s.kernelCalls() + 1, Profile.snapshot().kernelCalls(), "a non-GEMM kernel call is counted apart");
    }

    @Test
    void nestedRegionsAreExclusiveAndGemmRemembersItsCaller() {
        Profile.enable(true);
        Profile.reset();
        long w0 = System.nanoTime();
        Profile.begin(Profile.ATTENTION);
        spin(2_000_000);
        Profile.begin(Profile.GEMM);
        spin(3_000_000);
        Profile.end(Profile.GEMM);
        spin(1_000_000);
        Profile.end(Profile.ATTENTION);
        long wall = System.nanoTime() - w0;
        Profile.Snapshot s = Profile.snapshot();

        assertTrue(s.nanos(Profile.GEMM) >= 3_000_000, "gemm " + s.nanos(Profile.GEMM));
        assertTrue(s.nanos(Profile.ATTENTION) >= 3_000_000, "attention excludes the nested gemm: " + s.nanos(Profile.ATTENTION));
        assertTrue(s.nanos(Profile.ATTENTION) < wall - 3_000_000 + 1, "attention excludes the nested gemm");
        assertEquals(s.nanos(Profile.GEMM), s.gemmNanosIn()[Profile.ATTENTION]);
        assertTrue(s.attributedNanos() <= wall);
        assertEquals(1, s.calls()[Profile.ATTENTION]);
        assertEquals(0, Profile.openRegions());
    }

    @Test
    void endClosesRegionsLeftOpenInsideAndIgnoresOnesNotOpen() {
        Profile.enable(true);
        Profile.reset();
        Profile.end(Profile.ROUTING);                 // never opened: ignored
        assertEquals(0, Profile.openRegions());
        Profile.begin(Profile.EXPERTS);
        Profile.begin(Profile.ROUTING);
        Profile.begin(Profile.GEMM);
        assertEquals(3, Profile.openRegions());
        Profile.end(Profile.EXPERTS);                 // as if an exception skipped the inner ends
        assertEquals(0, Profile.openRegions());
        Profile.Snapshot s = Profile.snapshot();
        assertEquals(s.nanos(Profile.GEMM), s.gemmNanosIn()[Profile.ROUTING]);
        Profile.reset();
        assertEquals(0, Profile.snapshot().attributedNanos());
    }

    /** Inside forEachTask of TimedKernels the kernels' marks are ignored and the section goes to the region around it; other threads never mark. */
    @Test
    void taskSectionsAndOtherThreadsLeaveNoMarks() throws InterruptedException {
        Backends.use(new TimedKernels(new ScalarKernels()));
        Profile.enable(true);
        Profile.reset();
        Profile.begin(Profile.ATTENTION);
        Backends.get().forEachTask(3, t -> {
            float[] c = new float[4];
            Backends.get().sgemm(false, false, 2, 2, 2, 1f, new float[4], 0, 2, new float[4], 0, 2, 0f, c, 0, 2);
            Backends.get().softmaxRows(c, 0, c, 0, 2, 2);
            spin(1_000_000);
        });
        Profile.end(Profile.ATTENTION);
        Thread other = new Thread(() -> {
            Profile.begin(Profile.ROUTING);
            Backends.get().sgemm(false, false, 2, 2, 2, 1f, new float[4], 0, 2, new float[4], 0, 2, 0f, new float[4], 0, 2);
            Profile.end(Profile.ROUTING);
        });
        other.start();
        other.join();
        Profile.Snapshot s = Profile.snapshot();
        assertEquals(0, s.calls()[Profile.GEMM], "GEMMs inside tasks or on other threads are not timed one by one");
        assertEquals(0, s.kernelCalls());
        assertEquals(0, s.calls()[Profile.ROUTING], "another thread's region");
        assertTrue(s.nanos(Profile.ATTENTION) >= 3_000_000, "the section goes to the region around it: " + s.nanos(Profile.ATTENTION));
        assertTrue(Profile.isOn(), "marks count again after the section");
        assertEquals(0, Profile.openRegions());
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) Thread.onSpinWait();
    }
}
