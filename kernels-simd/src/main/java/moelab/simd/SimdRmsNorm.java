package moelab.simd;

import static moelab.simd.Vec.L;
import static moelab.simd.Vec.S;

import jdk.incubator.vector.FloatVector;
import moelab.kernels.Parallel;

/**
 * RMSNorm forward and backward. Forward and dx are row-parallel. dw sums over rows; to keep it
 * the same bits for any thread count, threads split dw by columns, and every dw[c] adds its rows
 * in row order, exactly as the one-thread fused loop does.
 */
final class SimdRmsNorm {
    /** Row elements per task below which one thread does it all. */
    static final long MIN_TASK = 1 << 15;

    private final Parallel parallel;

    SimdRmsNorm(Parallel parallel) { this.parallel = parallel; }

    // x, y [rows, cols], w [cols], invRms [rows]
    void forward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] invRms, int invOff,
                 int rows, int cols, float eps) {
        Ranges.forEach(parallel, rows, cols, MIN_TASK, 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int xr = xOff + r * cols, yr = yOff + r * cols;
                int bound = S.loopBound(cols), c = 0;
                FloatVector acc = FloatVector.zero(S);
                for (; c < bound; c += L) {
                    FloatVector v = FloatVector.fromArray(S, x, xr + c);
                    acc = v.fma(v, acc);
                }
                float ss = Vec.hsum(acc);
                for (; c < cols; c++) ss = Math.fma(x[xr + c], x[xr + c], ss);
                float inv = (float) (1.0 / Math.sqrt(ss / cols + eps));
                invRms[invOff + r] = inv;
                for (c = 0; c < bound; c += L)
                    FloatVector.fromArray(S, x, xr + c).mul(inv).mul(FloatVector.fromArray(S, w, wOff + c)).intoArray(y, yr + c);
                for (; c < cols; c++) y[yr + c] = x[xr + c] * inv * w[wOff + c];
            }
        });
    }

    // x, dy, dx [rows, cols], w, dw [cols], invRms [rows]; dx or dw may be null
    void backward(float[] x, int xOff, float[] w, int wOff, float[] invRms, int invOff, float[] dy, int dyOff,
                  float[] dx, int dxOff, float[] dw, int dwOff, int rows, int cols) {
        if (rows <= 0 || cols <= 0 || (dx == null && dw == null)) return;
        long work = (long) rows * cols;
        if (parallel.threads() == 1 || work < 2 * MIN_TASK) {
            // one pass over x and dy: dx row by row, dw accumulated in row order
            if (dx != null)
                for (int r = 0; r < rows; r++) backwardRow(x, xOff, w, wOff, invRms, invOff, dy, dyOff, dx, dxOff, dw, dwOff, r, cols);
            else
                dwColumns(x, xOff, invRms, invOff, dy, dyOff, dw, dwOff, rows, cols, 0, cols);
            return;
        }
        if (dx != null)
            Ranges.forEach(parallel, rows, cols, MIN_TASK, 1, (r0, r1) -> {
                for (int r = r0; r < r1; r++) backwardRow(x, xOff, w, wOff, invRms, invOff, dy, dyOff, dx, dxOff, null, 0, r, cols);
            });
        if (dw != null)
            Ranges.forEach(parallel, cols, rows, MIN_TASK, L, (c0, c1) ->
                    dwColumns(x, xOff, invRms, invOff, dy, dyOff, dw, dwOff, rows, cols, c0, c1));
    }

    // one row: dx[r,:] += inv * (w*dy - xh * mean(w*dy*xh)) and, when dw != null, dw += dy * xh (dx not null)
    private static void backwardRow(float[] x, int xOff, float[] w, int wOff, float[] invRms, int invOff, float[] dy, int dyOff,
                                    float[] dx, int dxOff, float[] dw, int dwOff, int r, int cols) {
        int xr = xOff + r * cols, gr = dyOff + r * cols;
        float inv = invRms[invOff + r];
        int bound = S.loopBound(cols), c;
        FloatVector acc = FloatVector.zero(S);
        for (c = 0; c < bound; c += L) {
            FloatVector wg = FloatVector.fromArray(S, w, wOff + c).mul(FloatVector.fromArray(S, dy, gr + c));
            acc = wg.fma(FloatVector.fromArray(S, x, xr + c).mul(inv), acc);
        }
        float mean = Vec.hsum(acc);
        for (; c < cols; c++) mean = Math.fma(w[wOff + c] * dy[gr + c], x[xr + c] * inv, mean);
        mean /= cols;
        int dr = dxOff + r * cols;
        FloatVector vmean = FloatVector.broadcast(S, -mean), vinv = FloatVector.broadcast(S, inv);
        for (c = 0; c < bound; c += L) {
            FloatVector xh = FloatVector.fromArray(S, x, xr + c).mul(inv);
            FloatVector g = FloatVector.fromArray(S, dy, gr + c);
            FloatVector t = xh.fma(vmean, FloatVector.fromArray(S, w, wOff + c).mul(g)); // w*dy - xh*mean
            t.fma(vinv, FloatVector.fromArray(S, dx, dr + c)).intoArray(dx, dr + c);
            if (dw != null) g.fma(xh, FloatVector.fromArray(S, dw, dwOff + c)).intoArray(dw, dwOff + c);
        }
        for (; c < cols; c++) {
            float xh = x[xr + c] * inv, g = dy[gr + c];
            dx[dr + c] = Math.fma(inv, Math.fma(-xh, mean, w[wOff + c] * g), dx[dr + c]);
            if (dw != null) dw[dwOff + c] = Math.fma(g, xh, dw[dwOff + c]);
        }
    }

    // dw[c0..c1) += sum over rows of dy * xh, rows in order
    private static void dwColumns(float[] x, int xOff, float[] invRms, int invOff, float[] dy, int dyOff,
                                  float[] dw, int dwOff, int rows, int cols, int c0, int c1) {
        int bound = c0 + S.loopBound(c1 - c0);
        for (int r = 0; r < rows; r++) {
            int xr = xOff + r * cols, gr = dyOff + r * cols;
            float inv = invRms[invOff + r];
            int c = c0;
            for (; c < bound; c += L) {
                FloatVector xh = FloatVector.fromArray(S, x, xr + c).mul(inv);
                FloatVector.fromArray(S, dy, gr + c).fma(xh, FloatVector.fromArray(S, dw, dwOff + c)).intoArray(dw, dwOff + c);
            }
            for (; c < c1; c++) dw[dwOff + c] = Math.fma(dy[gr + c], x[xr + c] * inv, dw[dwOff + c]);
        }
    }
}
