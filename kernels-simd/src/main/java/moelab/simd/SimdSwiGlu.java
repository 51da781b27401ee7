package moelab.simd;

import static moelab.simd.Vec.L;
import static moelab.simd.Vec.S;

import jdk.incubator.vector.FloatVector;
import moelab.kernels.Parallel;

/**
 * SwiGLU h = silu(a) * b and its backward, elementwise over n values. sigmoid(a) = 1/(1+exp(-a)):
 * for a < -88 exp(-a) overflows to +inf and the sigmoid becomes 0, never NaN.
 */
final class SimdSwiGlu {
    /** Elements per task below which one thread does it all (exp + divide: a few ns per vector). */
    static final long MIN_TASK = 1 << 15;

    private final Parallel parallel;

    SimdSwiGlu(Parallel parallel) { this.parallel = parallel; }

    private static FloatVector sigmoid(FloatVector a) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        return one.div(one.add(Vec.exp(a.neg())));
    }

    private static float sigmoid(float a) { return (float) (1.0 / (1.0 + Math.exp(-a))); }

    // a, b, h [n]; h may alias a or b
    void forward(float[] a, int aOff, float[] b, int bOff, float[] h, int hOff, int n) {
        Ranges.forEach(parallel, n, 1, MIN_TASK, L, (from, to) -> forwardRange(a, aOff, b, bOff, h, hOff, from, to));
    }

    /** The forward on elements [from, to) on the calling thread (also the grouped experts' GEMM epilogue). */
    static void forwardRange(float[] a, int aOff, float[] b, int bOff, float[] h, int hOff, int from, int to) {
        int i = from;
        for (int end = from + S.loopBound(to - from); i < end; i += L) {
            FloatVector av = FloatVector.fromArray(S, a, aOff + i);
            av.mul(sigmoid(av)).mul(FloatVector.fromArray(S, b, bOff + i)).intoArray(h, hOff + i);
        }
        for (; i < to; i++) {
            float av = a[aOff + i];
            h[hOff + i] = av * sigmoid(av) * b[bOff + i];
        }
    }

    // a, b, dh, da, db [n]: da += dh * b * silu'(a), db += dh * silu(a); da or db may be null
    void backward(float[] a, int aOff, float[] b, int bOff, float[] dh, int dhOff,
                  float[] da, int daOff, float[] db, int dbOff, int n) {
        if (da == null && db == null) return;
        Ranges.forEach(parallel, n, 1, MIN_TASK, L,
                (from, to) -> backwardRange(a, aOff, b, bOff, dh, dhOff, da, daOff, db, dbOff, from, to, true));
    }

    // a, b, dh, da, db [n]: da = dh * b * silu'(a), db = dh * silu(a), written (not accumulated); neither may be null
    void backwardWrite(float[] a, int aOff, float[] b, int bOff, float[] dh, int dhOff,
                       float[] da, int daOff, float[] db, int dbOff, int n) {
        Ranges.forEach(parallel, n, 1, MIN_TASK, L,
                (from, to) -> backwardRange(a, aOff, b, bOff, dh, dhOff, da, daOff, db, dbOff, from, to, false));
    }

    /**
     * The backward on elements [from, to) on the calling thread; accumulate = false writes da and
     * db (as if they held zeros: the same bits as accumulating into zeros) without reading them.
     */
    static void backwardRange(float[] a, int aOff, float[] b, int bOff, float[] dh, int dhOff,
                              float[] da, int daOff, float[] db, int dbOff, int from, int to, boolean accumulate) {
        FloatVector one = FloatVector.broadcast(S, 1f), zero = FloatVector.zero(S);
        int i = from;
        for (int end = from + S.loopBound(to - from); i < end; i += L) {
            FloatVector av = FloatVector.fromArray(S, a, aOff + i), s = sigmoid(av);
            FloatVector g = FloatVector.fromArray(S, dh, dhOff + i);
            if (da != null) {
                // silu'(a) = s * (1 + a * (1 - s))
                FloatVector d = av.fma(one.sub(s), one).mul(s);
                FloatVector old = accumulate ? FloatVector.fromArray(S, da, daOff + i) : zero;
                g.mul(FloatVector.fromArray(S, b, bOff + i)).fma(d, old).intoArray(da, daOff + i);
            }
            if (db != null) {
                FloatVector old = accumulate ? FloatVector.fromArray(S, db, dbOff + i) : zero;
                g.mul(av.mul(s)).add(old).intoArray(db, dbOff + i);
            }
        }
        for (; i < to; i++) {
            float av = a[aOff + i], s = sigmoid(av), g = dh[dhOff + i];
            if (da != null) da[daOff + i] = Math.fma(g * b[bOff + i], Math.fma(av, 1f - s, 1f) * s, accumulate ? da[daOff + i] : 0f);
            if (db != null) db[dbOff + i] = g * (av * s) + (accumulate ? db[dbOff + i] : 0f);
        }
    }
}
