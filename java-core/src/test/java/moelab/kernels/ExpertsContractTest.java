package moelab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The grouped experts ({@link Kernels#expertsForward}, {@link Kernels#expertsBackward}) of
 * {@link #candidate()} against {@link ExpertLoop} on {@link ScalarKernels}, on awkward plans:
 * empty experts, one-token experts, all tokens on one expert, no tokens at all, prime sizes,
 * blocks past the GEMM k and m blocks, weights at nonzero offsets, every gradient output
 * skipped in turn, and dX written over dY. Weight gradients start nonzero (they accumulate);
 * guard cells after every output catch stray writes.
 *
 * <p>Tolerance: back ends reorder the sums of each product, so every output is compared with
 * {@code 1e-4 * max(1, max |reference|)} of its array: a wrong block, offset, transpose or a
 * skipped product is off by O(max), reordering by ~1e-6 of it.
 */
public abstract class ExpertsContractTest {

    /** The kernels under test. */
    protected abstract Kernels candidate();

    private static final ScalarKernels REF = new ScalarKernels();
    private static final float GUARD = -777.25f;
    private static final int PAD = 5;

    /** A plan: tokens per expert, the widths d and f. */
    private record Case(int d, int f, int... counts) {
        int experts() { return counts.length; }
        int[] offsets() {
            int[] o = new int[counts.length + 1];
            for (int e = 0; e < counts.length; e++) o[e + 1] = o[e] + counts[e];
            return o;
        }
        int rows() { return offsets()[counts.length]; }
        @Override public String toString() { return "E=" + counts.length + " counts=" + Arrays.toString(counts) + " d=" + d + " f=" + f; }
    }

    private static final Case[] CASES = {
            new Case(1, 1, 1),
            new Case(7, 13, 0, 1, 5),
            new Case(33, 31, 17, 0, 0, 3),
            new Case(8, 16, 0, 0),
            new Case(16, 32, 0, 9, 0),                // all tokens on one expert
            new Case(64, 96, 40, 1, 0, 9, 70),
            new Case(300, 270, 3, 261, 0),            // d, f past one k block
            new Case(40, 48, 1030, 5),                // a block past one m block
            new Case(64, 128, 300, 200),              // large enough for threads
    };

    /** Inputs of one case, weights placed after PAD leading cells. */
    private static final class Inputs {
        final Case c;
        final float[] x, w1, w3, w2, dy;

        Inputs(Case c, long seed) {
            this.c = c;
            Random r = new Random(seed);
            int e = c.experts(), s = c.rows(), d = c.d, f = c.f;
            x = gauss(r, s * d, 1.0, 0);
            w1 = gauss(r, e * d * f, 1 / Math.sqrt(d), PAD);
            w3 = gauss(r, e * d * f, 1 / Math.sqrt(d), PAD);
            w2 = gauss(r, e * f * d, 1 / Math.sqrt(f), PAD);
            dy = gauss(r, s * d, 1.0, 0);
        }
    }

    private static float[] gauss(Random r, int n, double sd, int pad) {
        float[] a = new float[pad + n];
        Arrays.fill(a, 0, pad, Float.NaN); // never read
        for (int i = 0; i < n; i++) a[pad + i] = (float) (r.nextGaussian() * sd);
        return a;
    }

    /** n cells then guards. */
    private static float[] out(int n, float fill) {
        float[] a = new float[n + 3];
        Arrays.fill(a, 0, n, fill);
        Arrays.fill(a, n, n + 3, GUARD);
        return a;
    }

    private static float[] filled(int n, long seed) {
        float[] a = out(n, 0f);
        Random r = new Random(seed);
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** The forward's a, b, h, y. */
    private static float[][] forward(Kernels k, Inputs in) {
        Case c = in.c;
        int s = c.rows();
        float[] a = out(s * c.f, Float.NaN), b = out(s * c.f, Float.NaN), h = out(s * c.f, Float.NaN), y = out(s * c.d, Float.NaN);
        k.expertsForward(c.experts(), c.d, c.f, c.offsets(), in.x, in.w1, PAD, in.w3, PAD, in.w2, PAD, a, b, h, y);
        return new float[][] {a, b, h, y};
    }

    @Test
    void forwardMatchesThePerExpertLoop() {
        long seed = 1;
        for (Case c : CASES) {
            Inputs in = new Inputs(c, seed++);
            float[][] want = forward(REF, in), got = forward(candidate(), in);
            String[] names = {"A", "B", "H", "Y"};
            for (int i = 0; i < 4; i++) close(c + " forward " + names[i], want[i], got[i]);
        }
    }

    /** Which gradient outputs a backward case asks for. */
    private record Wants(boolean dx, boolean dw1, boolean dw3, boolean dw2, boolean dxOverDy) {}

    private static final Wants[] WANTS = {
            new Wants(true, true, true, true, false),
            new Wants(true, true, true, true, true),
            new Wants(false, true, true, true, false),
            new Wants(true, false, true, true, false),
            new Wants(true, true, false, false, false),
            new Wants(false, false, false, true, false),
            new Wants(true, false, false, false, true),
    };

    @Test
    void backwardMatchesThePerExpertLoop() {
        long seed = 100;
        for (Case c : CASES) {
            for (Wants w : WANTS) {
                Inputs in = new Inputs(c, seed++);
                float[][] act = forward(REF, in);
                float[][] want = backward(REF, in, act, w, seed), got = backward(candidate(), in, act, w, seed);
                String[] names = {"dX", "dW1", "dW3", "dW2"};
                for (int i = 0; i < 4; i++) {
                    if (want[i] == null) continue;
                    close(c + " " + w + " backward " + names[i], want[i], got[i]);
                }
            }
        }
    }

    /** dx, dw1, dw3, dw2 after one backward (null where not asked); the weight gradients start nonzero. */
    private static float[][] backward(Kernels k, Inputs in, float[][] act, Wants w, long seed) {
        Case c = in.c;
        int s = c.rows(), e = c.experts(), d = c.d, f = c.f;
        float[] dy = Arrays.copyOf(in.dy, in.dy.length + 3);
        Arrays.fill(dy, in.dy.length, dy.length, GUARD);
        float[] dx = w.dx ? (w.dxOverDy ? dy : out(s * d, Float.NaN)) : null;
        float[] dw1 = w.dw1 ? filled(e * d * f, seed + 1) : null, dw3 = w.dw3 ? filled(e * d * f, seed + 3) : null,
                dw2 = w.dw2 ? filled(e * f * d, seed + 2) : null;
        k.expertsBackward(e, d, f, c.offsets(), in.x, in.w1, PAD, in.w3, PAD, in.w2, PAD, act[0], act[1], act[2], dy,
                dx, dw1, dw3, dw2);
        if (!w.dx) assertArrayEquals(Arrays.copyOf(in.dy, in.dy.length), Arrays.copyOf(dy, in.dy.length), c + " " + w + ": dY changed without dX");
        return new float[][] {dx, dw1, dw3, dw2};
    }

    @Test
    void rejectsABadPlan() {
        Kernels k = candidate();
        float[] z = new float[64];
        assertThrows(IllegalArgumentException.class, () -> k.expertsForward(2, 2, 2, new int[] {0, 3, 1}, z,
                z, 0, z, 0, z, 0, z, z, z, z));
        assertThrows(IllegalArgumentException.class, () -> k.expertsForward(2, 2, 2, new int[] {1, 3, 4}, z,
                z, 0, z, 0, z, 0, z, z, z, z));
        assertThrows(IllegalArgumentException.class, () -> k.expertsBackward(3, 2, 2, new int[] {0, 1}, z,
                z, 0, z, 0, z, 0, z, z, z, z, z, null, null, null));
    }

    /** got matches want within 1e-4 of the reference's largest value; the 3 cells after the region keep their guard. */
    private static void close(String what, float[] want, float[] got) {
        int n = want.length - 3;
        double max = 1;
        for (int i = 0; i < n; i++) max = Math.max(max, Math.abs(want[i]));
        double tol = 1e-4 * max;
        for (int i = 0; i < n; i++) {
            if (!(Math.abs((double) want[i] - got[i]) <= tol))
                fail(what + ": element " + i + " is " + got[i] + ", reference " + want[i] + " (tolerance " + tol + ")");
        }
        for (int i = n; i < want.length; i++)
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(GUARD)) fail(what + ": wrote past its region at " + i);
    }
}
