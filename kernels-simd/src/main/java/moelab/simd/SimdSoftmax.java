package moelab.simd;

import static moelab.simd.Vec.L;
import static moelab.simd.Vec.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import moelab.kernels.Parallel;

/**
 * Row softmax, its backward and log-softmax, with {@link Vec#exp} (about 2 ulp, the same bits in
 * every JIT tier); rows are spread over threads, each row computed by one thread.
 */
final class SimdSoftmax {
    /** Row elements per task below which one thread does all rows (exp costs ~1 ns per lane-group). */
    static final long MIN_TASK = 1 << 14;

    private final Parallel parallel;

    SimdSoftmax(Parallel parallel) { this.parallel = parallel; }

    // x, y [rows, cols]; y may be x
    void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        Ranges.forEach(parallel, rows, cols, MIN_TASK, 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) softmaxRow(x, xOff + r * cols, y, yOff + r * cols, cols);
        });
    }

    // y, dy, dx [rows, cols]: dx += y * (dy - dot(dy, y))
    void softmaxBackwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows, int cols) {
        Ranges.forEach(parallel, rows, cols, MIN_TASK, 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) softmaxBackwardRow(y, yOff + r * cols, dy, dyOff + r * cols, dx, dxOff + r * cols, cols);
        });
    }

    // x, y [rows, cols]; y may be x
    void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        Ranges.forEach(parallel, rows, cols, MIN_TASK, 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) logSoftmaxRow(x, xOff + r * cols, y, yOff + r * cols, cols);
        });
    }

    // x [cols] -> max
    static float rowMax(float[] x, int xr, int cols) {
        int bound = S.loopBound(cols), c = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (bound > 0) {
            FloatVector m = FloatVector.fromArray(S, x, xr);
            for (c = L; c < bound; c += L) m = m.max(FloatVector.fromArray(S, x, xr + c));
            max = m.reduceLanes(VectorOperators.MAX); // max is exact: any order gives the same bits
        }
        for (; c < cols; c++) max = Math.max(max, x[xr + c]);
        return max;
    }

    // x, y [cols]: y = exp(x - max) / sum; subtracting the max keeps exp from overflowing
    static void softmaxRow(float[] x, int xr, float[] y, int yr, int cols) {
        float max = rowMax(x, xr, cols);
        FloatVector vmax = FloatVector.broadcast(S, max), acc = FloatVector.zero(S);
        int bound = S.loopBound(cols), c = 0;
        for (; c < bound; c += L) {
            FloatVector e = Vec.exp(FloatVector.fromArray(S, x, xr + c).sub(vmax));
            e.intoArray(y, yr + c);
            acc = acc.add(e);
        }
        float sum = Vec.hsum(acc);
        for (; c < cols; c++) {
            float e = (float) Math.exp(x[xr + c] - max);
            y[yr + c] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (c = 0; c < bound; c += L) FloatVector.fromArray(S, y, yr + c).mul(inv).intoArray(y, yr + c);
        for (; c < cols; c++) y[yr + c] *= inv;
    }

    // y, dy, dx [cols]
    static void softmaxBackwardRow(float[] y, int yr, float[] dy, int dr, float[] dx, int xr, int cols) {
        int bound = S.loopBound(cols), c = 0;
        FloatVector acc = FloatVector.zero(S);
        for (; c < bound; c += L) acc = FloatVector.fromArray(S, dy, dr + c).fma(FloatVector.fromArray(S, y, yr + c), acc);
        float dot = Vec.hsum(acc);
        for (; c < cols; c++) dot = Math.fma(dy[dr + c], y[yr + c], dot);
        FloatVector vdot = FloatVector.broadcast(S, dot);
        for (c = 0; c < bound; c += L) {
            FloatVector g = FloatVector.fromArray(S, dy, dr + c).sub(vdot);
            FloatVector.fromArray(S, y, yr + c).fma(g, FloatVector.fromArray(S, dx, xr + c)).intoArray(dx, xr + c);
        }
        for (; c < cols; c++) dx[xr + c] = Math.fma(y[yr + c], dy[dr + c] - dot, dx[xr + c]);
    }

    // x, y [cols]: y = x - (max + log(sum(exp(x - max))))
    static void logSoftmaxRow(float[] x, int xr, float[] y, int yr, int cols) {
        float max = rowMax(x, xr, cols);
        FloatVector vmax = FloatVector.broadcast(S, max), acc = FloatVector.zero(S);
        int bound = S.loopBound(cols), c = 0;
        for (; c < bound; c += L) acc = acc.add(Vec.exp(FloatVector.fromArray(S, x, xr + c).sub(vmax)));
        float sum = Vec.hsum(acc);
        for (; c < cols; c++) sum += (float) Math.exp(x[xr + c] - max);
        float lse = max + (float) Math.log(sum);
        FloatVector vlse = FloatVector.broadcast(S, lse);
        for (c = 0; c < bound; c += L) FloatVector.fromArray(S, x, xr + c).sub(vlse).intoArray(y, yr + c);
        for (; c < cols; c++) y[yr + c] = x[xr + c] - lse;
    }
}
