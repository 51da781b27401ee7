package moelab.simd;

import static moelab.kernels.TestArrays.concat;
import static moelab.kernels.TestArrays.gaussian;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import moelab.kernels.ExpertsContractTest;
import moelab.kernels.KernelContractTest;
import moelab.kernels.Kernels;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The kernel contract for the Vector API back end, on one thread (here) and two (nested). */
class SimdKernelsTest extends KernelContractTest {
    private static final SimdKernels ONE = new SimdKernels(1), TWO = new SimdKernels(2);

    @Override protected Kernels candidate() { return ONE; }

    @Nested
    class TwoThreads extends KernelContractTest {
        @Override protected Kernels candidate() { return TWO; }
    }

    @Nested
    class Experts extends ExpertsContractTest {
        @Override protected Kernels candidate() { return ONE; }
    }

    @Nested
    class ExpertsTwoThreads extends ExpertsContractTest {
        @Override protected Kernels candidate() { return TWO; }
    }

    /**
     * Beyond the contract: every output is computed the same way whatever the split over threads
     * (rows, column blocks of dw, fixed sum blocks), so one and two threads give the same bits.
     */
    @Test
    void oneAndTwoThreadsGiveTheSameBits() {
        Random r = new Random(42);
        int rows = 400, cols = 517, n = rows * cols;
        float[] x = gaussian(r, n, 2), w = gaussian(r, cols, 1), dy = gaussian(r, n, 1), b = gaussian(r, n, 1);
        float[][] out = new float[2][];
        for (int t = 0; t < 2; t++) {
            SimdKernels k = t == 0 ? ONE : TWO;
            float[] sm = new float[n], lsm = new float[n], dsm = new float[n], y = new float[n], inv = new float[rows];
            float[] dx = new float[n], dw = new float[cols], h = new float[n], da = new float[n], db = new float[n];
            float[] val = new float[rows * 8];
            int[] idx = new int[rows * 8];
            k.softmaxRows(x, 0, sm, 0, rows, cols);
            k.logSoftmaxRows(x, 0, lsm, 0, rows, cols);
            k.softmaxBackwardRows(sm, 0, dy, 0, dsm, 0, rows, cols);
            k.rmsnormForward(x, 0, w, 0, y, 0, inv, 0, rows, cols, 1e-5f);
            k.rmsnormBackward(x, 0, w, 0, inv, 0, dy, 0, dx, 0, dw, 0, rows, cols);
            k.swigluForward(x, 0, b, 0, h, 0, n);
            k.swigluBackward(x, 0, b, 0, dy, 0, da, 0, db, 0, n);
            k.topkRows(x, 0, rows, cols, 8, idx, 0, val, 0);
            float[] axpy = b.clone();
            k.axpy(0.3f, x, 0, axpy, 0, n);
            float[] scalars = {k.sum(x, 0, n), k.dot(x, 0, b, 0, n)};
            float[] idxAsFloat = new float[idx.length];
            for (int i = 0; i < idx.length; i++) idxAsFloat[i] = idx[i];
            out[t] = concat(sm, lsm, dsm, y, inv, dx, dw, h, da, db, val, idxAsFloat, axpy, scalars);
        }
        assertEquals(out[0].length, out[1].length);
        int[] bits0 = new int[out[0].length], bits1 = new int[out[1].length];
        for (int i = 0; i < bits0.length; i++) {
            bits0[i] = Float.floatToRawIntBits(out[0][i]);
            bits1[i] = Float.floatToRawIntBits(out[1][i]);
        }
        assertArrayEquals(bits0, bits1, "1 vs 2 threads");
    }

    /** The grouped experts split each product over threads by whole tiles: one and two threads give the same bits. */
    @Test
    void groupedExpertsGiveTheSameBitsOnOneAndTwoThreads() {
        Random r = new Random(7);
        int e = 3, d = 96, f = 160;
        int[] offsets = {0, 301, 301, 530}; // an empty expert; blocks large enough for two threads
        int s = offsets[e];
        float[] x = gaussian(r, s * d, 1), w1 = gaussian(r, e * d * f, 0.1), w3 = gaussian(r, e * d * f, 0.1),
                w2 = gaussian(r, e * f * d, 0.1), dyIn = gaussian(r, s * d, 1);
        float[][] out = new float[2][];
        for (int t = 0; t < 2; t++) {
            SimdKernels k = t == 0 ? ONE : TWO;
            float[] a = new float[s * f], b = new float[s * f], h = new float[s * f], y = new float[s * d];
            k.expertsForward(e, d, f, offsets, x, w1, 0, w3, 0, w2, 0, a, b, h, y);
            float[] dy = dyIn.clone(), dw1 = new float[e * d * f], dw3 = new float[e * d * f], dw2 = new float[e * f * d];
            k.expertsBackward(e, d, f, offsets, x, w1, 0, w3, 0, w2, 0, a, b, h, dy, dy, dw1, dw3, dw2);
            out[t] = concat(a, b, h, y, dy, dw1, dw3, dw2);
        }
        int[] bits0 = new int[out[0].length], bits1 = new int[out[1].length];
        for (int i = 0; i < bits0.length; i++) {
            bits0[i] = Float.floatToRawIntBits(out[0][i]);
            bits1[i] = Float.floatToRawIntBits(out[1][i]);
        }
        assertArrayEquals(bits0, bits1, "grouped experts, 1 vs 2 threads");
    }
}
