package moelab.ops;

import moelab.tensor.Autograd;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

/**
 * Matrix products. Every product is one or more {@code sgemm} calls on the current back end;
 * backward uses the transpose flags (dA = dC·Bᵀ, dB = Aᵀ·dC) instead of building transposed copies.
 * Inputs that are 2-D transposed views (w.t()) or row slices with a leading dimension (a split of
 * [T,3d] into [T,d] pieces) are read in place; other strided inputs are copied once with
 * {@link Tensor#contiguous()}.
 */
public final class MatMul {
    private MatMul() {}

    /**
     * How sgemm reads a matrix [rows, cols]: element (i,j) sits at off + i*ld + j (plain) or at
     * off + j*ld + i (trans, i.e. the array holds the transpose [cols, rows] row-major).
     */
    private record Operand(float[] data, int off, int ld, boolean trans) {}

    /**
     * matmul(a, b):
     * <ul>
     *   <li>a [m,k], b [k,n] -> [m,n]</li>
     *   <li>a [B,m,k], b [B,k,n] -> [B,m,n] (one sgemm per batch entry)</li>
     *   <li>a [B,m,k], b [k,n] -> [B,m,n] (shared b: one sgemm on a flattened to [B*m,k]; b's
     *       gradient sums over the batch inside that single GEMM)</li>
     * </ul>
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        if (a.rank() == 2 && b.rank() == 2) return flat("matmul", a, b);
        if (a.rank() == 3 && b.rank() == 2) return flat("matmul", a, b);
        if (a.rank() == 3 && b.rank() == 3) return batched("matmul", a, b);
        throw new ShapeException("matmul: unsupported ranks: shapes " + Shape.str(a.shape()) + " and " + Shape.str(b.shape())
                + " (expected [m,k]x[k,n], [B,m,k]x[B,k,n] or [B,m,k]x[k,n])");
    }

    /** x [..., k], w [k, n] -> [..., n]: the leading dims of x (any number, even none) are flattened into rows. */
    public static Tensor linear(Tensor x, Tensor w) {
        if (x.rank() < 1 || w.rank() != 2)
            throw new ShapeException("linear: expected x [..., k] and w [k, n] but got shapes " + Shape.str(x.shape()) + " and " + Shape.str(w.shape()));
        return flat("linear", x, w);
    }

    // a [..., k], b [k, n] -> [..., n]; a read as one [M, k] matrix (M = product of a's leading dims).
    private static Tensor flat(String op, Tensor a, Tensor b) {
        int k = a.dim(-1), n = b.dim(1);
        if (b.dim(0) != k) throw innerMismatch(op, a, b, k, b.dim(0));
        Kernels kern = Backends.get();   // backward runs on the kernels the forward ran on
        int m = 1; // rows: product of a's leading dims (not numel/k, which fails for k == 0)
        for (int i = 0; i < a.rank() - 1; i++) m *= a.dim(i);
        Operand oa = rowsView(a);
        if (oa == null) { a = a.contiguous(); oa = rowsView(a); }
        Operand ob = matrixView(b, 0, 1, b.offset());
        if (ob == null) { b = b.contiguous(); ob = matrixView(b, 0, 1, b.offset()); }

        int[] outShape = a.shape();
        outShape[outShape.length - 1] = n;
        float[] c = StepArena.floats(m * n);
        gemm(kern, m, n, k, oa, ob, c, 0);
        Tensor out = Tensor.of(c, outShape);

        Tensor aa = a, bb = b;
        Operand fa = oa, fb = ob;
        int rows = m;
        return Autograd.record(op, out, g -> {
            if (aa.requiresGrad()) gradA(kern, rows, n, k, g, 0, fb, aa.gradBuffer(), 0);
            if (bb.requiresGrad()) gradB(kern, rows, n, k, fa, g, 0, bb.gradBuffer(), 0);
        }, aa, bb);
    }

    // a [B,m,k], b [B,k,n] -> [B,m,n]
    private static Tensor batched(String op, Tensor a, Tensor b) {
        int batch = a.dim(0), m = a.dim(1), k = a.dim(2), n = b.dim(2);
        if (b.dim(0) != batch)
            throw new ShapeException(op + ": batch sizes differ: shapes " + Shape.str(a.shape()) + " and " + Shape.str(b.shape()));
        if (b.dim(1) != k) throw innerMismatch(op, a, b, k, b.dim(1));
        Kernels kern = Backends.get();
        if (matrixView(a, 1, 2, a.offset()) == null) a = a.contiguous();
        if (matrixView(b, 1, 2, b.offset()) == null) b = b.contiguous();
        Operand[] oa = new Operand[batch], ob = new Operand[batch];
        float[] c = StepArena.floats(batch * m * n);
        for (int i = 0; i < batch; i++) {
            oa[i] = matrixView(a, 1, 2, a.offset() + i * a.stride(0));
            ob[i] = matrixView(b, 1, 2, b.offset() + i * b.stride(0));
            gemm(kern, m, n, k, oa[i], ob[i], c, i * m * n);
        }
        Tensor out = Tensor.of(c, batch, m, n);

        Tensor aa = a, bb = b;
        return Autograd.record(op, out, g -> {
            for (int i = 0; i < batch; i++) {
                if (aa.requiresGrad()) gradA(kern, m, n, k, g, i * m * n, ob[i], aa.gradBuffer(), i * m * k);
                if (bb.requiresGrad()) gradB(kern, m, n, k, oa[i], g, i * m * n, bb.gradBuffer(), i * k * n);
            }
        }, aa, bb);
    }

    // c [m,n] (at cOff, row-major) = A [m,k] · B [k,n]
    private static void gemm(Kernels kern, int m, int n, int k, Operand a, Operand b, float[] c, int cOff) {
        kern.sgemm(a.trans, b.trans, m, n, k, 1f, a.data, a.off, a.ld, b.data, b.off, b.ld,
                0f, c, cOff, Math.max(n, 1));
    }

    // dA [m,k] += dC [m,n] · Bᵀ: B's storage read with the opposite transpose flag.
    private static void gradA(Kernels kern, int m, int n, int k, float[] dc, int dcOff, Operand b, float[] da, int daOff) {
        kern.sgemm(false, !b.trans, m, k, n, 1f, dc, dcOff, Math.max(n, 1), b.data, b.off, b.ld,
                1f, da, daOff, Math.max(k, 1));
    }

    // dB [k,n] += Aᵀ · dC [m,n]: A's storage read with the opposite transpose flag.
    private static void gradB(Kernels kern, int m, int n, int k, Operand a, float[] dc, int dcOff, float[] db, int dbOff) {
        kern.sgemm(!a.trans, false, k, n, m, 1f, a.data, a.off, a.ld, dc, dcOff, Math.max(n, 1),
                1f, db, dbOff, Math.max(n, 1));
    }

    /**
     * The matrix formed by axes (rowAxis, colAxis) of t, starting at array offset off, as sgemm
     * reads it; null when its strides fit neither the plain nor the transposed layout.
     */
    private static Operand matrixView(Tensor t, int rowAxis, int colAxis, int off) {
        int rows = t.dim(rowAxis), cols = t.dim(colAxis);
        int sr = t.stride(rowAxis), sc = t.stride(colAxis);
        if (t.numel() == 0) return new Operand(t.data(), off, Math.max(cols, 1), false); // nothing is read
        // plain: consecutive columns adjacent, rows ld >= cols apart (a size-1 axis may have any stride)
        if ((cols == 1 || sc == 1) && (rows == 1 || sr >= cols))
            return new Operand(t.data(), off, rows == 1 ? cols : sr, false);
        // transposed: consecutive rows adjacent, columns ld >= rows apart (what w.t() looks like)
        if ((rows == 1 || sr == 1) && (cols == 1 || sc >= rows))
            return new Operand(t.data(), off, cols == 1 ? rows : sc, true);
        return null;
    }

    /**
     * t [..., k] as one matrix [M, k]. Rank 2 may be plain or transposed; other ranks must be
     * plain with the leading axes collapsing onto a single row stride. Null when they do not.
     */
    private static Operand rowsView(Tensor t) {
        if (t.rank() == 2) return matrixView(t, 0, 1, t.offset());
        int r = t.rank(), k = t.dim(-1);
        if (t.numel() == 0) return new Operand(t.data(), t.offset(), Math.max(k, 1), false);
        if (k != 1 && t.stride(-1) != 1) return null;
        int ld = -1;
        long expect = 0;
        for (int i = r - 2; i >= 0; i--) {
            if (t.dim(i) == 1) continue; // a size-1 axis never steps
            if (ld < 0) {
                ld = t.stride(i);
                if (ld < k) return null;
                expect = (long) ld * t.dim(i);
            } else {
                if (t.stride(i) != expect) return null;
                expect *= t.dim(i);
            }
        }
        return new Operand(t.data(), t.offset(), ld < 0 ? k : ld, false);
    }

    private static ShapeException innerMismatch(String op, Tensor a, Tensor b, int ka, int kb) {
        return new ShapeException(op + ": inner dimensions differ (" + ka + " vs " + kb + "): shapes "
                + Shape.str(a.shape()) + " and " + Shape.str(b.shape()));
    }
}
