package moelab.kernels;

import java.util.Random;

/** Array helpers the back-end test suites share (this class ships in java-core's test jar). */
public final class TestArrays {
    private TestArrays() {}

    /** n values ~ N(0, sd^2) from r. */
    public static float[] gaussian(Random r, int n, double sd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * sd);
        return a;
    }

    /** The parts one after another (to compare several outputs bit for bit in one assertion). */
    public static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] all = new float[n];
        int o = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, o, p.length);
            o += p.length;
        }
        return all;
    }
}
