package moelab.simd;

import static moelab.simd.Vec.L;
import static moelab.simd.Vec.S;

import jdk.incubator.vector.FloatVector;
import moelab.kernels.Parallel;

/** add, mul, axpy, scale, sum, dot on n floats: full vectors, then a scalar tail. */
final class SimdElementwise {
    /**
     * Elements per task below which one thread does it all. These loops move memory, not flops:
     * a second thread only helps once the arrays are large (and out of L1/L2).
     */
    static final long MIN_TASK = 1 << 17;
    /**
     * sum and dot add fixed blocks of this many elements, then the block sums in block order: the
     * result is the same bits whatever the thread count.
     */
    static final int BLOCK = 1 << 14;

    private final Parallel parallel;

    SimdElementwise(Parallel parallel) { this.parallel = parallel; }

    // a, b, out [n]; out may alias a or b
    void add(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        Ranges.forEach(parallel, n, 1, MIN_TASK, L, (from, to) -> {
            int i = from;
            for (int end = from + S.loopBound(to - from); i < end; i += L)
                FloatVector.fromArray(S, a, aOff + i).add(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            for (; i < to; i++) out[outOff + i] = a[aOff + i] + b[bOff + i];
        });
    }

    /**
     * w [n] at wOff, g, m, v [n]: the AdamW update of {@link moelab.kernels.Kernels#adamwUpdate} with
     * the reference's exact operation order (lanewise mul, add, sqrt, div: no FMA), so the bits
     * are the scalar kernel's for every thread count. Memory bound (5 streams); split over the
     * threads once the arrays are large.
     */
    void adamwUpdate(float[] w, int wOff, float[] g, float[] m, float[] v, int n,
                     float beta1, float beta2, float eps, float stepSize, float invSqrtBc2, float decay) {
        final float c1 = 1 - beta1, c2 = 1 - beta2;
        Ranges.forEach(parallel, n, 1, MIN_TASK, L, (from, to) -> {
            int j = from;
            for (int end = from + S.loopBound(to - from); j < end; j += L) {
                FloatVector gj = FloatVector.fromArray(S, g, j);
                FloatVector mj = FloatVector.fromArray(S, m, j).mul(beta1).add(gj.mul(c1));
                FloatVector vj = FloatVector.fromArray(S, v, j).mul(beta2).add(gj.mul(c2).mul(gj));
                mj.intoArray(m, j);
                vj.intoArray(v, j);
                FloatVector denom = vj.sqrt().mul(invSqrtBc2).add(eps);
                FloatVector wj = FloatVector.fromArray(S, w, wOff + j);
                wj.sub(mj.mul(stepSize).div(denom).add(wj.mul(decay))).intoArray(w, wOff + j);
            }
            for (; j < to; j++) {
                float gs = g[j];
                m[j] = beta1 * m[j] + c1 * gs;
                v[j] = beta2 * v[j] + c2 * gs * gs;
                float den = (float) Math.sqrt(v[j]) * invSqrtBc2 + eps;
                w[wOff + j] -= stepSize * m[j] / den + decay * w[wOff + j];
            }
        });
    }

    // a, b, out [n]; out may alias a or b
    void mul(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        Ranges.forEach(parallel, n, 1, MIN_TASK, L, (from, to) -> {
            int i = from;
            for (int end = from + S.loopBound(to - from); i < end; i += L)
                FloatVector.fromArray(S, a, aOff + i).mul(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            for (; i < to; i++) out[outOff + i] = a[aOff + i] * b[bOff + i];
        });
    }

    // x, y [n]: y += alpha * x (fused multiply-add: one rounding instead of two)
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        Ranges.forEach(parallel, n, 1, MIN_TASK, L, (from, to) -> {
            FloatVector va = FloatVector.broadcast(S, alpha);
            int i = from;
            for (int end = from + S.loopBound(to - from); i < end; i += L)
                FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
            for (; i < to; i++) y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
        });
    }

    // x [n]: x *= alpha
    void scale(float alpha, float[] x, int xOff, int n) {
        Ranges.forEach(parallel, n, 1, MIN_TASK, L, (from, to) -> {
            int i = from;
            for (int end = from + S.loopBound(to - from); i < end; i += L)
                FloatVector.fromArray(S, x, xOff + i).mul(alpha).intoArray(x, xOff + i);
            for (; i < to; i++) x[xOff + i] *= alpha;
        });
    }

    // x [n] -> sum
    float sum(float[] x, int xOff, int n) {
        return blocked(n, (from, to) -> sumRange(x, xOff + from, to - from));
    }

    // a, b [n] -> sum of a*b
    float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return blocked(n, (from, to) -> dotRange(a, aOff + from, b, bOff + from, to - from));
    }

    private interface RangeSum { float of(int from, int to); }

    /** Sums [0, n) block by block (blocks spread over the threads), then the block sums in order. */
    private float blocked(int n, RangeSum f) {
        int blocks = (n + BLOCK - 1) / BLOCK;
        if (blocks <= 1) return n <= 0 ? 0f : f.of(0, n);
        float[] partial = new float[blocks];
        Ranges.forEach(parallel, blocks, BLOCK, MIN_TASK, 1, (b0, b1) -> {
            for (int b = b0; b < b1; b++) partial[b] = f.of(b * BLOCK, Math.min(n, (b + 1) * BLOCK));
        });
        float s = 0f;
        for (float p : partial) s += p;
        return s;
    }

    // x [n] -> sum; four accumulators hide the add latency
    static float sumRange(float[] x, int off, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (int end = n - 4 * L; i <= end; i += 4 * L) {
            s0 = s0.add(FloatVector.fromArray(S, x, off + i));
            s1 = s1.add(FloatVector.fromArray(S, x, off + i + L));
            s2 = s2.add(FloatVector.fromArray(S, x, off + i + 2 * L));
            s3 = s3.add(FloatVector.fromArray(S, x, off + i + 3 * L));
        }
        for (int end = S.loopBound(n); i < end; i += L) s0 = s0.add(FloatVector.fromArray(S, x, off + i));
        float s = Vec.hsum(s0.add(s1).add(s2.add(s3)));
        for (; i < n; i++) s += x[off + i];
        return s;
    }

    // a, b [n] -> sum of a*b
    static float dotRange(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (int end = n - 4 * L; i <= end; i += 4 * L) {
            s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
            s1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), s1);
            s2 = FloatVector.fromArray(S, a, aOff + i + 2 * L).fma(FloatVector.fromArray(S, b, bOff + i + 2 * L), s2);
            s3 = FloatVector.fromArray(S, a, aOff + i + 3 * L).fma(FloatVector.fromArray(S, b, bOff + i + 3 * L), s3);
        }
        for (int end = S.loopBound(n); i < end; i += L)
            s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
        float s = Vec.hsum(s0.add(s1).add(s2.add(s3)));
        for (; i < n; i++) s = Math.fma(a[aOff + i], b[bOff + i], s);
        return s;
    }
}
