package moelab.ops;

import moelab.tensor.Autograd;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.kernels.Profile;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Causal self-attention as one coarse tape node, and rotary position embedding (RoPE).
 *
 * <p>Two layouts of the same math. {@link #causal} and {@link #rope} take [B, H, S, Dh] tensors;
 * {@link #causalHeads} and {@link #ropeHeads} take the [B*S, H*Dh] rows that x·Wq produces (head h
 * in columns h*Dh .. h*Dh+Dh-1), so a model needs no transposes or copies to split and merge
 * heads: every GEMM reads the head's [S, Dh] matrix in place with a row stride of H*Dh.
 *
 * <p>Attention keeps no [S, S] probabilities on the tape: backward recomputes them per (b, h)
 * with the same kernels, so they match the forward bit for bit. That costs one extra q·kᵀ GEMM
 * but keeps the tape at O(B*H*S*Dh) instead of O(B*H*S*S). Queries go in blocks of
 * {@link #QUERY_BLOCK} rows; block [i0, i1) only meets keys 0 .. i1-1, which skips most of the
 * masked half of q·kᵀ and of p·v (at S = 256: 62% of the full products).
 *
 * <p>The (b, h) heads are independent tasks of {@link Kernels#forEachTask}: one head's GEMMs are
 * too small to split over threads (at S = 256, Dh = 64 about 14 microseconds each), whole heads
 * are not. Each head's result is computed the same way on any thread, so the bits do not depend
 * on the thread count.
 */
public final class Attention {
    private Attention() {}

    /** Query rows per block: the causal mask lets block [i0, i1) skip keys i1 and beyond. */
    static final int QUERY_BLOCK = 64;

    /**
     * Where each head's [S, Dh] matrix lives in a flat array: element (i, c) of head (b, h) at
     * off(b, h) + i * ld + c.
     */
    private record Layout(int batch, int heads, int s, int dh, int ld, int batchStride, int headStride) {
        int off(int b, int h) { return b * batchStride + h * headStride; }

        /** [B, H, S, Dh]: heads one after another. */
        static Layout headMajor(int batch, int heads, int s, int dh) {
            return new Layout(batch, heads, s, dh, dh, heads * s * dh, s * dh);
        }

        /** [B*S, H*Dh]: heads side by side in each token's row. */
        static Layout tokenMajor(int batch, int heads, int s, int dh) {
            return new Layout(batch, heads, s, dh, heads * dh, s * heads * dh, dh);
        }
    }

    /**
     * q, k, v [B, H, S, Dh] -> out [B, H, S, Dh]; out[b,h,i] = sum_{j<=i} p[i,j] v[b,h,j] with
     * p[i,:] = softmax_{j<=i}(q[b,h,i]·k[b,h,j] / sqrt(Dh)).
     */
    public static Tensor causal(Tensor q, Tensor k, Tensor v) {
        if (q.rank() != 4 || !Arrays.equals(q.shape(), k.shape()) || !Arrays.equals(q.shape(), v.shape()))
            throw new ShapeException("attention: q " + Shape.str(q.shape()) + ", k " + Shape.str(k.shape()) + ", v "
                    + Shape.str(v.shape()) + " must share one shape [B, H, S, Dh]");
        int[] s4 = q.shape();
        return attend("attention", q, k, v, Layout.headMajor(s4[0], s4[1], s4[2], s4[3]));
    }

    /**
     * The same attention on q, k, v [B*S, H*Dh] (each token's row holds its H heads side by side,
     * as x·Wq gives them) -> out [B*S, H*Dh] in that layout (ready for ·Wo).
     */
    public static Tensor causalHeads(Tensor q, Tensor k, Tensor v, int batch, int heads) {
        if (q.rank() != 2 || !Arrays.equals(q.shape(), k.shape()) || !Arrays.equals(q.shape(), v.shape()))
            throw new ShapeException("attention: q " + Shape.str(q.shape()) + ", k " + Shape.str(k.shape()) + ", v "
                    + Shape.str(v.shape()) + " must share one shape [B*S, H*Dh]");
        int rows = q.dim(0), cols = q.dim(1);
        if (batch <= 0 || heads <= 0 || rows % batch != 0 || cols % heads != 0)
            throw new ShapeException("attention: q " + Shape.str(q.shape()) + " is not [B*S, H*Dh] for B=" + batch + ", H=" + heads);
        return attend("attention", q, k, v, Layout.tokenMajor(batch, heads, rows / batch, cols / heads));
    }

    private static Tensor attend(String op, Tensor q, Tensor k, Tensor v, Layout lay) {
        Profile.begin(Profile.ATTENTION);
        Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
        int s = lay.s(), dh = lay.dh(), ld = lay.ld();
        float scale = (float) (1.0 / Math.sqrt(dh));
        Kernels kern = Backends.get();
        float[] out = StepArena.floats(qc.numel());
        int blk = Math.min(QUERY_BLOCK, s) * s, heads = lay.heads();
        kern.forEachTask(lay.batch() * heads, t -> {
            int off = lay.off(t / heads, t % heads);
            float[] p = Scratch.get(blk).p;
            for (int i0 = 0; i0 < s; i0 += QUERY_BLOCK) {
                int i1 = Math.min(s, i0 + QUERY_BLOCK), rows = i1 - i0;
                probs(kern, qc, kc, off, ld, i0, i1, dh, scale, p);
                // out [rows, Dh] = p [rows, i1] · v [i1, Dh]
                kern.sgemm(false, false, rows, dh, i1, 1f, p, 0, i1, vc.data(), vc.offset() + off, ld,
                        0f, out, off + i0 * ld, ld);
            }
        });
        Profile.end(Profile.ATTENTION);
        Tensor o = Tensor.of(out, qc.shape());
        return Autograd.record(op, o, g -> {
            Profile.begin(Profile.ATTENTION);
            Kernels kb = kern; // the forward's kernels, so the recomputed p is the forward's p
            // the gradient buffers are made here, before the tasks share them (each head writes its own columns)
            float[] dq = qc.requiresGrad() ? qc.gradBuffer() : null;
            float[] dk = kc.requiresGrad() ? kc.gradBuffer() : null;
            float[] dv = vc.requiresGrad() ? vc.gradBuffer() : null;
            kb.forEachTask(lay.batch() * heads, t -> {
                int off = lay.off(t / heads, t % heads);
                Scratch sc = Scratch.get(blk);
                float[] pb = sc.p, dp = sc.dp, ds = sc.ds;
                for (int i0 = 0; i0 < s; i0 += QUERY_BLOCK) {
                    int i1 = Math.min(s, i0 + QUERY_BLOCK), rows = i1 - i0, gOff = off + i0 * ld;
                    probs(kb, qc, kc, off, ld, i0, i1, dh, scale, pb);
                    // dv [i1, Dh] += pᵀ [i1, rows] · dout [rows, Dh]
                    if (dv != null) kb.sgemm(true, false, i1, dh, rows, 1f, pb, 0, i1, g, gOff, ld, 1f, dv, off, ld);
                    if (dq == null && dk == null) continue;
                    // dp [rows, i1] = dout [rows, Dh] · vᵀ [Dh, i1]
                    kb.sgemm(false, true, rows, i1, dh, 1f, g, gOff, ld, vc.data(), vc.offset() + off, ld, 0f, dp, 0, i1);
                    // ds = p * (dp - rowdot(dp, p)); masked entries have p = 0 so ds = 0 there.
                    Arrays.fill(ds, 0, rows * i1, 0f);
                    kb.softmaxBackwardRows(pb, 0, dp, 0, ds, 0, rows, i1);
                    // dq [rows, Dh] += scale * ds [rows, i1] · k [i1, Dh];  dk [i1, Dh] += scale * dsᵀ · q [rows, Dh]
                    if (dq != null) kb.sgemm(false, false, rows, dh, i1, scale, ds, 0, i1, kc.data(), kc.offset() + off, ld, 1f, dq, gOff, ld);
                    if (dk != null) kb.sgemm(true, false, i1, dh, rows, scale, ds, 0, i1, qc.data(), qc.offset() + gOff, ld, 1f, dk, off, ld);
                }
            });
            Profile.end(Profile.ATTENTION);
        }, qc, kc, vc);
    }

    /** Per-thread scratch of one head's query block: p, dp, ds [QUERY_BLOCK, S], grown on demand and reused. */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);
        float[] p = new float[0], dp = p, ds = p;

        static Scratch get(int floats) {
            Scratch sc = LOCAL.get();
            if (sc.p.length < floats) {
                sc.p = new float[floats];
                sc.dp = new float[floats];
                sc.ds = new float[floats];
            }
            return sc;
        }
    }

    /**
     * p [rows, i1] (row stride i1) = causal softmax of scale * q·kᵀ for query rows [i0, i1) of the
     * head at element offset off (row stride ld), against keys 0 .. i1-1; zeros above the diagonal.
     */
    private static void probs(Kernels kern, Tensor qc, Tensor kc, int off, int ld, int i0, int i1, int dh, float scale, float[] p) {
        int rows = i1 - i0;
        kern.sgemm(false, true, rows, i1, dh, scale, qc.data(), qc.offset() + off + i0 * ld, ld,
                kc.data(), kc.offset() + off, ld, 0f, p, 0, i1);
        // Row i only sees keys 0..i: softmax over that prefix, zero the rest (no -inf arithmetic).
        for (int r = 0; r < rows; r++) {
            int i = i0 + r;
            kern.softmaxRows(p, r * i1, p, r * i1, 1, i + 1);
            Arrays.fill(p, r * i1 + i + 1, (r + 1) * i1, 0f);
        }
    }

    /**
     * Rotary position embedding: x [B, H, S, Dh] (Dh even) -> y [B, H, S, Dh]. At position s the
     * pair (x[2i], x[2i+1]) is rotated by the angle s * base^(-2i/Dh).
     */
    public static Tensor rope(Tensor x, double base) {
        Shape.requireRank("rope", x, 4);
        int[] s4 = x.shape();
        return rotary(x, Layout.headMajor(s4[0], s4[1], s4[2], s4[3]), base);
    }

    /** The same rotation on x [B*S, H*Dh] (heads side by side in each token's row) -> [B*S, H*Dh]. */
    public static Tensor ropeHeads(Tensor x, int batch, int heads, double base) {
        Shape.requireRank("rope", x, 2);
        int rows = x.dim(0), cols = x.dim(1);
        if (batch <= 0 || heads <= 0 || rows % batch != 0 || cols % heads != 0)
            throw new ShapeException("rope: x " + Shape.str(x.shape()) + " is not [B*S, H*Dh] for B=" + batch + ", H=" + heads);
        return rotary(x, Layout.tokenMajor(batch, heads, rows / batch, cols / heads), base);
    }

    private static Tensor rotary(Tensor x, Layout lay, double base) {
        int s = lay.s(), dh = lay.dh(), half = dh / 2;
        if (dh % 2 != 0)
            throw new ShapeException("rope: head dimension must be even to form rotation pairs, got Dh=" + dh
                    + " in shape " + Shape.str(x.shape()));
        if (!(base > 0) || Double.isInfinite(base))
            throw new IllegalArgumentException("rope: base must be finite and > 0, got " + base);
        RopeTable t = RopeTable.of(s, dh, base);
        Tensor xc = x.contiguous();
        float[] y = StepArena.floats(xc.numel());
        Kernels kern = Backends.get();
        rotate(kern, xc.data(), xc.offset(), y, lay, t.cos, t.sin, 1f, false);
        Tensor out = Tensor.of(y, xc.shape());
        // The rotation is orthogonal, so backward is the rotation by the negative angle. The
        // gradient buffer is made before the tasks share it.
        return Autograd.record("rope", out, g -> {
            float[] dx = xc.gradBuffer();
            rotate(kern, g, 0, dx, lay, t.cos, t.sin, -1f, true);
        }, xc);
    }

    /** cos/sin [S, Dh/2] of the angles pos * base^(-2i/Dh), computed in double; the last few kept (models reuse them every layer). */
    private record RopeTable(int s, int dh, double base, float[] cos, float[] sin) {
        private static final Map<List<Object>, RopeTable> CACHE = new ConcurrentHashMap<>();

        static RopeTable of(int s, int dh, double base) {
            List<Object> key = List.of(s, dh, base);
            RopeTable t = CACHE.get(key);
            if (t != null) return t;
            int half = dh / 2;
            float[] cos = new float[s * half], sin = new float[s * half];
            for (int i = 0; i < half; i++) {
                double freq = Math.pow(base, -2.0 * i / dh);
                for (int pos = 0; pos < s; pos++) {
                    double ang = pos * freq;
                    cos[pos * half + i] = (float) Math.cos(ang);
                    sin[pos * half + i] = (float) Math.sin(ang);
                }
            }
            t = new RopeTable(s, dh, base, cos, sin);
            if (CACHE.size() > 16) CACHE.clear();   // a handful of shapes in practice
            CACHE.put(key, t);
            return t;
        }
    }

    // src, dst in layout lay (src at element offset so, dst at 0); dir = +1 rotates by +angle,
    // -1 by -angle; add accumulates into dst. src, dst [B, H, S, Dh] or [B*S, H*Dh]; cos, sin [S, Dh/2].
    // One (b, h) head per task.
    private static void rotate(Kernels kern, float[] src, int so, float[] dst, Layout lay, float[] cos, float[] sin, float dir, boolean add) {
        int half = lay.dh() / 2, heads = lay.heads();
        kern.forEachTask(lay.batch() * heads, t -> {
            int off = lay.off(t / heads, t % heads);
            for (int pos = 0; pos < lay.s(); pos++) {
                int row = off + pos * lay.ld();
                for (int i = 0; i < half; i++) {
                    float c = cos[pos * half + i], sn = dir * sin[pos * half + i];
                    float a = src[so + row + 2 * i], bb = src[so + row + 2 * i + 1];
                    float ya = a * c - bb * sn, yb = a * sn + bb * c;
                    if (add) { dst[row + 2 * i] += ya; dst[row + 2 * i + 1] += yb; }
                    else { dst[row + 2 * i] = ya; dst[row + 2 * i + 1] = yb; }
                }
            }
        });
    }
}
