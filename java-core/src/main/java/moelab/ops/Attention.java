package moelab.ops;

import moelab.autograd.Autograd;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.kernels.Profile;
import moelab.tensor.Shape;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

import java.util.Arrays;

/**
 * Causal self-attention as one coarse tape node, and rotary position embedding (RoPE).
 *
 * <p>Attention keeps no [S, S] probabilities on the tape: backward recomputes them per (b, h)
 * with the same kernels, so they match the forward bit for bit. That costs one extra q·kᵀ GEMM
 * but keeps the tape at O(B*H*S*Dh) instead of O(B*H*S*S).
 */
public final class Attention {
    private Attention() {}

    /**
     * q, k, v [B, H, S, Dh] -> out [B, H, S, Dh]; out[b,h,i] = sum_{j<=i} p[i,j] v[b,h,j] with
     * p[i,:] = softmax_{j<=i}(q[b,h,i]·k[b,h,j] / sqrt(Dh)).
     */
    public static Tensor causal(Tensor q, Tensor k, Tensor v) {
        if (q.rank() != 4 || !Arrays.equals(q.shape(), k.shape()) || !Arrays.equals(q.shape(), v.shape()))
            throw new ShapeException("attention: q " + Shape.str(q.shape()) + ", k " + Shape.str(k.shape()) + ", v "
                    + Shape.str(v.shape()) + " must share one shape [B, H, S, Dh]");
        Profile.begin(Profile.ATTENTION);
        Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
        int[] s4 = qc.shape();
        int heads = s4[0] * s4[1], s = s4[2], dh = s4[3], hs = s * dh;
        float scale = (float) (1.0 / Math.sqrt(dh));
        Kernels kern = Backends.get();
        float[] out = new float[qc.numel()];
        float[] p = new float[s * s];
        for (int bh = 0; bh < heads; bh++) {
            probs(kern, qc, kc, bh * hs, s, dh, scale, p);
            // out [S, Dh] = p [S, S] · v [S, Dh]
            kern.sgemm(false, false, s, dh, s, 1f, p, 0, s, vc.data(), vc.offset() + bh * hs, dh, 0f, out, bh * hs, dh);
        }
        Profile.end(Profile.ATTENTION);
        Tensor o = Tensor.of(out, s4);
        return Autograd.record("attention", o, g -> {
            Profile.begin(Profile.ATTENTION);
            Kernels kb = kern; // the forward's kernels, so the recomputed p is the forward's p
            float[] pb = new float[s * s], dp = new float[s * s], ds = new float[s * s];
            float[] dq = qc.requiresGrad() ? qc.gradBuffer() : null;
            float[] dk = kc.requiresGrad() ? kc.gradBuffer() : null;
            float[] dv = vc.requiresGrad() ? vc.gradBuffer() : null;
            for (int bh = 0; bh < heads; bh++) {
                int off = bh * hs;
                probs(kb, qc, kc, off, s, dh, scale, pb);
                // dv [S, Dh] += pᵀ [S, S] · dout [S, Dh]
                if (dv != null) kb.sgemm(true, false, s, dh, s, 1f, pb, 0, s, g, off, dh, 1f, dv, off, dh);
                if (dq == null && dk == null) continue;
                // dp [S, S] = dout [S, Dh] · vᵀ [Dh, S]
                kb.sgemm(false, true, s, s, dh, 1f, g, off, dh, vc.data(), vc.offset() + off, dh, 0f, dp, 0, s);
                // ds = p * (dp - rowdot(dp, p)); masked entries have p = 0 so ds = 0 there.
                Arrays.fill(ds, 0f);
                kb.softmaxBackwardRows(pb, 0, dp, 0, ds, 0, s, s);
                // dq [S, Dh] += scale * ds [S, S] · k [S, Dh];  dk [S, Dh] += scale * dsᵀ · q
                if (dq != null) kb.sgemm(false, false, s, dh, s, scale, ds, 0, s, kc.data(), kc.offset() + off, dh, 1f, dq, off, dh);
                if (dk != null) kb.sgemm(true, false, s, dh, s, scale, ds, 0, s, qc.data(), qc.offset() + off, dh, 1f, dk, off, dh);
            }
            Profile.end(Profile.ATTENTION);
        }, qc, kc, vc);
    }

    /** p [S, S] = causal softmax of scale * q·kᵀ for the head at element offset off; zeros above the diagonal. */
    private static void probs(Kernels kern, Tensor qc, Tensor kc, int off, int s, int dh, float scale, float[] p) {
        kern.sgemm(false, true, s, s, dh, scale, qc.data(), qc.offset() + off, dh, kc.data(), kc.offset() + off, dh, 0f, p, 0, s);
        // Row i only sees keys 0..i: softmax over that prefix, zero the rest (no -inf arithmetic).
        for (int i = 0; i < s; i++) {
            kern.softmaxRows(p, i * s, p, i * s, 1, i + 1);
            Arrays.fill(p, i * s + i + 1, (i + 1) * s, 0f);
        }
    }

    /**
     * Rotary position embedding: x [B, H, S, Dh] (Dh even) -> y [B, H, S, Dh]. At position s the
     * pair (x[2i], x[2i+1]) is rotated by the angle s * base^(-2i/Dh).
     */
    public static Tensor rope(Tensor x, double base) {
        Shape.requireRank("rope", x, 4);
        int[] s4 = x.shape();
        int s = s4[2], dh = s4[3], half = dh / 2;
        if (dh % 2 != 0)
            throw new ShapeException("rope: head dimension must be even to form rotation pairs, got Dh=" + dh
                    + " in shape " + Shape.str(s4));
        if (!(base > 0) || Double.isInfinite(base))
            throw new IllegalArgumentException("rope: base must be finite and > 0, got " + base);
        // cos/sin [S, Dh/2], angles in double so long sequences keep their precision.
        float[] cos = new float[s * half], sin = new float[s * half];
        for (int i = 0; i < half; i++) {
            double freq = Math.pow(base, -2.0 * i / dh);
            for (int pos = 0; pos < s; pos++) {
                double ang = pos * freq;
                cos[pos * half + i] = (float) Math.cos(ang);
                sin[pos * half + i] = (float) Math.sin(ang);
            }
        }
        Tensor xc = x.contiguous();
        int heads = s4[0] * s4[1];
        float[] y = new float[xc.numel()];
        rotate(xc.data(), xc.offset(), y, heads, s, half, cos, sin, 1f, false);
        Tensor out = Tensor.of(y, s4);
        // The rotation is orthogonal, so backward is the rotation by the negative angle.
        return Autograd.record("rope", out, g -> rotate(g, 0, xc.gradBuffer(), heads, s, half, cos, sin, -1f, true), xc);
    }

    // src, dst [heads, S, 2*half]; dir = +1 rotates by +angle, -1 by -angle; add accumulates into dst.
    private static void rotate(float[] src, int so, float[] dst, int heads, int s, int half,
                               float[] cos, float[] sin, float dir, boolean add) {
        int dh = 2 * half;
        for (int bh = 0; bh < heads; bh++)
            for (int pos = 0; pos < s; pos++) {
                int row = (bh * s + pos) * dh;
                for (int i = 0; i < half; i++) {
                    float c = cos[pos * half + i], sn = dir * sin[pos * half + i];
                    float a = src[so + row + 2 * i], b = src[so + row + 2 * i + 1];
                    float ya = a * c - b * sn, yb = a * sn + b * c;
                    if (add) { dst[row + 2 * i] += ya; dst[row + 2 * i + 1] += yb; }
                    else { dst[row + 2 * i] = ya; dst[row + 2 * i + 1] = yb; }
                }
            }
    }
}
