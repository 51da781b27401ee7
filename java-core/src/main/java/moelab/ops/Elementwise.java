package moelab.ops;

import moelab.tensor.Autograd;
import moelab.tensor.NonFiniteException;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.Tensor;

import java.util.Arrays;

/**
 * Elementwise arithmetic. Binary ops broadcast with NumPy rules ({@link Shape#broadcast}); their
 * gradients are summed back over the broadcast axes. Same-shape operands take the kernel fast
 * path (add, mul, axpy). Outputs are always new contiguous tensors.
 *
 * <p>Domains: {@code log} throws {@link NonFiniteException} for any input {@code <= 0} and
 * {@code sqrt} for any input {@code < 0} (both would produce -Inf or NaN that later poisons the
 * whole model); the check is one compare per element. {@code div} follows IEEE (x/0 = ±Inf,
 * 0/0 = NaN) because a zero denominator is usually a caller bug upstream; turn on
 * {@link Autograd#setCheckFinite} to have the first non-finite value reported with the op's name.
 * {@code sqrt}'s gradient at exactly 0 is +Inf, which the same check reports in backward.
 */
public final class Elementwise {
    private Elementwise() {}

    // ------------------------------------------------------------------ binary, broadcasting

    // a [...], b [...] -> out [broadcast(a, b)]: a + b
    public static Tensor add(Tensor a, Tensor b) {
        Kernels k = Backends.get();
        int[] os = Shape.broadcast("add", a.shape(), b.shape());
        Tensor ad = dense(a), bd = dense(b);
        float[] out = StepArena.floats(Shape.numel(os));
        if (sameShape(a, os) && sameShape(b, os)) {
            k.add(ad.data(), ad.offset(), bd.data(), bd.offset(), out, 0, out.length);
        } else {
            int[] ia = Broadcast.indexMap(os, a.shape()), ib = Broadcast.indexMap(os, b.shape());
            float[] x = ad.data(), y = bd.data();
            int xo = ad.offset(), yo = bd.offset();
            for (int i = 0; i < out.length; i++) out[i] = x[xo + ia[i]] + y[yo + ib[i]];
        }
        return Autograd.record("add", Tensor.of(out, os), g -> {
            accumulate(k, a, 1f, g, os);
            accumulate(k, b, 1f, g, os);
        }, a, b);
    }

    // a [...], b [...] -> out [broadcast(a, b)]: a - b
    public static Tensor sub(Tensor a, Tensor b) {
        Kernels k = Backends.get();
        int[] os = Shape.broadcast("sub", a.shape(), b.shape());
        Tensor ad = dense(a), bd = dense(b);
        float[] out = StepArena.floats(Shape.numel(os));
        if (sameShape(a, os) && sameShape(b, os)) {
            System.arraycopy(ad.data(), ad.offset(), out, 0, out.length);
            k.axpy(-1f, bd.data(), bd.offset(), out, 0, out.length);
        } else {
            int[] ia = Broadcast.indexMap(os, a.shape()), ib = Broadcast.indexMap(os, b.shape());
            float[] x = ad.data(), y = bd.data();
            int xo = ad.offset(), yo = bd.offset();
            for (int i = 0; i < out.length; i++) out[i] = x[xo + ia[i]] - y[yo + ib[i]];
        }
        return Autograd.record("sub", Tensor.of(out, os), g -> {
            accumulate(k, a, 1f, g, os);
            accumulate(k, b, -1f, g, os);
        }, a, b);
    }

    // a [...], b [...] -> out [broadcast(a, b)]: a * b
    public static Tensor mul(Tensor a, Tensor b) {
        Kernels k = Backends.get();
        int[] os = Shape.broadcast("mul", a.shape(), b.shape());
        Tensor ad = dense(a), bd = dense(b);
        float[] out = StepArena.floats(Shape.numel(os));
        if (sameShape(a, os) && sameShape(b, os)) {
            k.mul(ad.data(), ad.offset(), bd.data(), bd.offset(), out, 0, out.length);
        } else {
            int[] ia = Broadcast.indexMap(os, a.shape()), ib = Broadcast.indexMap(os, b.shape());
            float[] x = ad.data(), y = bd.data();
            int xo = ad.offset(), yo = bd.offset();
            for (int i = 0; i < out.length; i++) out[i] = x[xo + ia[i]] * y[yo + ib[i]];
        }
        return Autograd.record("mul", Tensor.of(out, os), g -> {
            // da = g * b, db = g * a, each summed over the axes it was broadcast along
            if (a.requiresGrad()) accumulate(k, a, 1f, times(k, g, bd, os), os);
            if (b.requiresGrad()) accumulate(k, b, 1f, times(k, g, ad, os), os);
        }, a, b);
    }

    // a [...], b [...] -> out [broadcast(a, b)]: a / b (IEEE for b == 0, see the class comment)
    public static Tensor div(Tensor a, Tensor b) {
        Kernels k = Backends.get();
        int[] os = Shape.broadcast("div", a.shape(), b.shape());
        Tensor ad = dense(a), bd = dense(b);
        float[] out = StepArena.floats(Shape.numel(os));
        int[] ia = Broadcast.indexMap(os, a.shape()), ib = Broadcast.indexMap(os, b.shape());
        float[] x = ad.data(), y = bd.data();
        int xo = ad.offset(), yo = bd.offset();
        for (int i = 0; i < out.length; i++) out[i] = x[xo + ia[i]] / y[yo + ib[i]];
        return Autograd.record("div", Tensor.of(out, os), g -> {
            // da = g / b, db = -g * a / b^2 = -g * out / b
            int[] jb = Broadcast.indexMap(os, b.shape());
            if (a.requiresGrad()) {
                float[] c = StepArena.floats(g.length);
                for (int i = 0; i < c.length; i++) c[i] = g[i] / y[yo + jb[i]];
                accumulate(k, a, 1f, c, os);
            }
            if (b.requiresGrad()) {
                float[] c = StepArena.floats(g.length);
                for (int i = 0; i < c.length; i++) c[i] = -g[i] * out[i] / y[yo + jb[i]];
                accumulate(k, b, 1f, c, os);
            }
        }, a, b);
    }

    // ------------------------------------------------------------------ with a scalar

    // x [...] -> [...]: x + s
    public static Tensor addScalar(Tensor x, float s) {
        Kernels k = Backends.get();
        Tensor xd = dense(x);
        float[] v = xd.data(), out = StepArena.floats(x.numel());
        int o = xd.offset();
        for (int i = 0; i < out.length; i++) out[i] = v[o + i] + s;
        return Autograd.record("addScalar", Tensor.of(out, x.shape()), g -> {
            if (x.requiresGrad()) k.axpy(1f, g, 0, x.gradBuffer(), 0, g.length);
        }, x);
    }

    // x [...] -> [...]: x * s
    public static Tensor mulScalar(Tensor x, float s) {
        Kernels k = Backends.get();
        Tensor xd = dense(x);
        float[] out = StepArena.floats(x.numel());
        System.arraycopy(xd.data(), xd.offset(), out, 0, out.length);
        k.scale(s, out, 0, out.length);
        return Autograd.record("mulScalar", Tensor.of(out, x.shape()), g -> {
            if (x.requiresGrad()) k.axpy(s, g, 0, x.gradBuffer(), 0, g.length);
        }, x);
    }

    // ------------------------------------------------------------------ unary

    // x [...] -> [...]: -x
    public static Tensor neg(Tensor x) {
        Kernels k = Backends.get();
        Tensor xd = dense(x);
        float[] v = xd.data(), out = StepArena.floats(x.numel());
        int o = xd.offset();
        for (int i = 0; i < out.length; i++) out[i] = -v[o + i];
        return Autograd.record("neg", Tensor.of(out, x.shape()), g -> {
            if (x.requiresGrad()) k.axpy(-1f, g, 0, x.gradBuffer(), 0, g.length);
        }, x);
    }

    // x [...] -> [...]: e^x (overflows to +Inf above ~88.7, as float does)
    public static Tensor exp(Tensor x) {
        Tensor xd = dense(x);
        float[] v = xd.data(), out = StepArena.floats(x.numel());
        int o = xd.offset();
        for (int i = 0; i < out.length; i++) out[i] = (float) Math.exp(v[o + i]);
        return Autograd.record("exp", Tensor.of(out, x.shape()), g -> {
            if (!x.requiresGrad()) return;
            float[] dx = x.gradBuffer();
            for (int i = 0; i < g.length; i++) dx[i] += g[i] * out[i]; // d e^x = e^x
        }, x);
    }

    // x [...] -> [...]: ln x; throws NonFiniteException naming the element when any x <= 0
    public static Tensor log(Tensor x) {
        Tensor xd = dense(x);
        float[] v = xd.data(), out = StepArena.floats(x.numel());
        int o = xd.offset();
        for (int i = 0; i < out.length; i++) {
            float xi = v[o + i];
            if (xi <= 0f) // NaN inputs pass (NaN <= 0 is false): they were produced, and are reported, upstream
                throw new NonFiniteException("log: input of shape " + Shape.str(x.shape()) + " has " + xi + " at flat index " + i
                        + "; log needs x > 0 (clamp or add an epsilon first)");
            out[i] = (float) Math.log(xi);
        }
        return Autograd.record("log", Tensor.of(out, x.shape()), g -> {
            if (!x.requiresGrad()) return;
            float[] dx = x.gradBuffer();
            for (int i = 0; i < g.length; i++) dx[i] += g[i] / v[o + i];
        }, x);
    }

    // x [...] -> [...]: x^2
    public static Tensor square(Tensor x) {
        Kernels k = Backends.get();
        Tensor xd = dense(x);
        float[] v = xd.data(), out = StepArena.floats(x.numel());
        int o = xd.offset();
        k.mul(v, o, v, o, out, 0, out.length);
        return Autograd.record("square", Tensor.of(out, x.shape()), g -> {
            if (!x.requiresGrad()) return;
            float[] dx = x.gradBuffer();
            for (int i = 0; i < g.length; i++) dx[i] += 2f * v[o + i] * g[i];
        }, x);
    }

    // x [...] -> [...]: sqrt(x); throws NonFiniteException when any x < 0 (gradient at 0 is +Inf)
    public static Tensor sqrt(Tensor x) {
        Tensor xd = dense(x);
        float[] v = xd.data(), out = StepArena.floats(x.numel());
        int o = xd.offset();
        for (int i = 0; i < out.length; i++) {
            float xi = v[o + i];
            if (xi < 0f)
                throw new NonFiniteException("sqrt: input of shape " + Shape.str(x.shape()) + " has " + xi + " at flat index " + i
                        + "; sqrt needs x >= 0");
            out[i] = (float) Math.sqrt(xi);
        }
        return Autograd.record("sqrt", Tensor.of(out, x.shape()), g -> {
            if (!x.requiresGrad()) return;
            float[] dx = x.gradBuffer();
            for (int i = 0; i < g.length; i++) dx[i] += g[i] / (2f * out[i]);
        }, x);
    }

    // ------------------------------------------------------------------ helpers

    /** x itself when contiguous, else a contiguous copy of its values (no history: gradients go to x). */
    private static Tensor dense(Tensor x) { return x.isContiguous() ? x : x.detach(); }

    private static boolean sameShape(Tensor t, int[] shape) { return Arrays.equals(t.shape(), shape); }

    // g [out] * v broadcast to out -> [out]
    private static float[] times(Kernels k, float[] g, Tensor v, int[] os) {
        float[] c = StepArena.floats(g.length);
        if (sameShape(v, os)) {
            k.mul(g, 0, v.data(), v.offset(), c, 0, c.length);
        } else {
            int[] iv = Broadcast.indexMap(os, v.shape());
            float[] d = v.data();
            int o = v.offset();
            for (int i = 0; i < c.length; i++) c[i] = g[i] * d[o + iv[i]];
        }
        return c;
    }

    /** t.grad += alpha * c, c [out], summed over the axes along which t was broadcast to out. */
    private static void accumulate(Kernels k, Tensor t, float alpha, float[] c, int[] os) {
        if (!t.requiresGrad()) return;
        float[] dt = t.gradBuffer();
        if (sameShape(t, os)) {
            k.axpy(alpha, c, 0, dt, 0, c.length);
        } else {
            int[] it = Broadcast.indexMap(os, t.shape());
            for (int i = 0; i < c.length; i++) dt[it[i]] += alpha * c[i];
        }
    }
}
