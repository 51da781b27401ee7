package moelab.ops;

import moelab.tensor.Autograd;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.Tensor;

/**
 * Softmax and log-softmax along any axis. The last axis runs the row kernels on the data in
 * place; another axis is first gathered into rows ([outer*inner, n]), run through the same
 * kernels, and scattered back, so every axis is one tape node.
 */
public final class Softmax {
    private Softmax() {}

    /** x [..., n, ...] -> y (same shape), softmax over {@code axis} (negative counts from the end). */
    public static Tensor softmax(Tensor x, int axis) {
        Lines l = Lines.of("softmax", x, axis);
        Kernels k = Backends.get();
        float[] y = StepArena.floats(l.numel());
        if (l.inner == 1) {
            k.softmaxRows(l.xc.data(), l.xc.offset(), y, 0, l.rows(), l.n);
        } else {
            float[] buf = l.toRows(l.xc.data(), l.xc.offset());
            k.softmaxRows(buf, 0, buf, 0, l.rows(), l.n);
            l.fromRows(buf, y, false);
        }
        Tensor out = Tensor.of(y, l.xc.shape());
        return Autograd.record("softmax", out, g -> {
            float[] dx = l.xc.gradBuffer();
            if (l.inner == 1) {
                k.softmaxBackwardRows(y, 0, g, 0, dx, 0, l.rows(), l.n); // accumulates into dx
            } else {
                float[] yr = l.toRows(y, 0), gr = l.toRows(g, 0), dr = StepArena.floats(l.numel());
                k.softmaxBackwardRows(yr, 0, gr, 0, dr, 0, l.rows(), l.n);
                l.fromRows(dr, dx, true);
            }
        }, l.xc);
    }

    /** x [..., n, ...] -> y = x - logsumexp(x) over {@code axis} (same shape). */
    public static Tensor logSoftmax(Tensor x, int axis) {
        Lines l = Lines.of("logSoftmax", x, axis);
        Kernels k = Backends.get();
        float[] y = StepArena.floats(l.numel());
        if (l.inner == 1) {
            k.logSoftmaxRows(l.xc.data(), l.xc.offset(), y, 0, l.rows(), l.n);
        } else {
            float[] buf = l.toRows(l.xc.data(), l.xc.offset());
            k.logSoftmaxRows(buf, 0, buf, 0, l.rows(), l.n);
            l.fromRows(buf, y, false);
        }
        Tensor out = Tensor.of(y, l.xc.shape());
        return Autograd.record("logSoftmax", out, g -> {
            // dx = g - softmax(x) * sum(g) per line, with softmax(x) = exp(y).
            float[] yr = l.inner == 1 ? y : l.toRows(y, 0);
            float[] gr = l.inner == 1 ? g : l.toRows(g, 0);
            float[] dr = StepArena.floats(l.numel());
            int n = l.n;
            for (int r = 0; r < l.rows(); r++) {
                int o = r * n;
                double gs = 0;
                for (int j = 0; j < n; j++) gs += gr[o + j];
                for (int j = 0; j < n; j++) dr[o + j] = gr[o + j] - (float) Math.exp(yr[o + j]) * (float) gs;
            }
            float[] dx = l.xc.gradBuffer();
            if (l.inner == 1) { for (int i = 0; i < dr.length; i++) dx[i] += dr[i]; }
            else l.fromRows(dr, dx, true);
        }, l.xc);
    }

    /**
     * The geometry of "lines along an axis" of a contiguous tensor: shape = [outer, n, inner].
     * Element (o, j, i) lives at (o*n + j)*inner + i; its row form is [(o*inner + i), j].
     */
    private record Lines(Tensor xc, int outer, int n, int inner) {
        static Lines of(String op, Tensor x, int axis) {
            int a = Shape.axis(op, axis, x.rank());
            Tensor xc = x.contiguous();
            int[] s = xc.shape();
            int outer = 1, inner = 1;
            for (int i = 0; i < a; i++) outer *= s[i];
            for (int i = a + 1; i < s.length; i++) inner *= s[i];
            return new Lines(xc, outer, s[a], inner);
        }

        int rows() { return outer * inner; }
        int numel() { return outer * n * inner; }

        /** Copies src (contiguous [outer, n, inner] from off) into row form [outer*inner, n]. */
        float[] toRows(float[] src, int off) {
            float[] buf = StepArena.floats(numel());
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < n; j++) {
                    int s = off + (o * n + j) * inner;
                    for (int i = 0; i < inner; i++) buf[(o * inner + i) * n + j] = src[s + i];
                }
            return buf;
        }

        /** Writes (or adds) row form [outer*inner, n] back into contiguous dst [outer, n, inner]. */
        void fromRows(float[] buf, float[] dst, boolean add) {
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < n; j++) {
                    int d = (o * n + j) * inner;
                    for (int i = 0; i < inner; i++) {
                        float v = buf[(o * inner + i) * n + j];
                        dst[d + i] = add ? dst[d + i] + v : v;
                    }
                }
        }
    }
}
