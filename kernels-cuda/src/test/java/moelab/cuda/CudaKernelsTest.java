package moelab.cuda;

import java.util.Random;
import moelab.kernels.GemmContractTest;
import moelab.kernels.KernelContractTest;
import moelab.kernels.Kernels;
import moelab.kernels.ScalarKernels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The shared kernel and GEMM contracts for the cuda back end, plus the memory-similarity kernels
 * against the scalar reference. Skipped (with the reason) where there is no GPU.
 */
class CudaKernelsTest extends KernelContractTest {
    private CudaKernels cuda;

    @BeforeEach
    void gpu() { cuda = Gpu.kernels(); }

    @Override protected Kernels candidate() { return cuda; }

    @Nested
    class Gemm extends GemmContractTest {
        @Override protected Kernels candidate() { return cuda; }
    }

    @Nested
    class Experts extends moelab.kernels.ExpertsContractTest {
        @Override protected Kernels candidate() { return cuda; }
    }

    /**
     * Awkward shapes (T, E, d of 1, primes, past one 64-tile), inactive experts, a zero token and a
     * zero preference vector (the 1e-8 floor), accumulation into a pre-filled dx.
     */
    @Test
    void memorySimilarityMatchesReference() {
        ScalarKernels ref = new ScalarKernels();
        int[][] shapes = {{1, 1, 1}, {3, 2, 5}, {17, 7, 31}, {67, 13, 65}, {130, 64, 100}, {5, 70, 3}};
        for (int[] s : shapes) {
            int t = s[0], e = s[1], d = s[2];
            Random r = new Random(t * 1000L + e * 10 + d);
            float[] x = gauss(r, t * d + 3), p = gauss(r, e * d);
            boolean[] active = new boolean[e];
            for (int i = 0; i < e; i++) active[i] = i % 3 != 1;
            for (int c = 0; c < d; c++) x[3 + c] = 0f;                 // token 0 is zero: floored
            if (e > 2) for (int c = 0; c < d; c++) p[2 * d + c] = 0f;  // expert 2's memory is zero
            float[] mRef = new float[t * e], mAct = new float[t * e];
            ref.memorySimilarity(x, 3, p, active, mRef, 0, t, e, d);
            cuda.memorySimilarity(x, 3, p, active, mAct, 0, t, e, d);
            String what = "memorySimilarity [T=" + t + ", E=" + e + ", d=" + d + "]";
            compare(what, mRef, mAct, (d + 8) * 0x1p-24 * 4, 1);          // |m| <= 1
            float[] dm = gauss(r, t * e), dx0 = gauss(r, t * d);
            float[] dxRef = dx0.clone(), dxAct = dx0.clone();
            ref.memorySimilarityBackward(x, 3, p, active, mRef, 0, dm, 0, dxRef, 0, t, e, d);
            cuda.memorySimilarityBackward(x, 3, p, active, mRef, 0, dm, 0, dxAct, 0, t, e, d);
            double scale = 0;
            for (float v : dxRef) scale = Math.max(scale, Math.abs(v));
            compare(what + " backward dx", dxRef, dxAct, (d + e + 8) * 0x1p-24 * 8, scale);
        }
    }

    private static void compare(String what, float[] exp, float[] act, double rel, double scale) {
        for (int i = 0; i < exp.length; i++)
            if (!(Math.abs(exp[i] - act[i]) <= rel * Math.max(scale, Math.abs(exp[i])) + 1e-30))
                fail(what + ": element " + i + " expected " + exp[i] + " but was " + act[i]);
    }

    static float[] gauss(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
