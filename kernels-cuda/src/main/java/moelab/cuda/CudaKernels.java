package moelab.cuda;

import static moelab.cuda.CudaContext.GEMM_THREADS;
import static moelab.cuda.CudaContext.ROW_THREADS;
import static moelab.cuda.CudaContext.ROW_WARPS;
import static moelab.cuda.CudaContext.TILE;
import static moelab.cuda.CudaContext.ceilDiv;

import java.util.Arrays;
import moelab.kernels.ExpertLoop;
import moelab.kernels.ForwardingKernels;
import moelab.kernels.Kernels;
import moelab.kernels.ScalarKernels;

/**
 * The {@link Kernels} interface on the GPU, for comparing back ends op by op. Each call copies its
 * float[] inputs to the device and its outputs back (the interface works on host arrays); the
 * device-resident path without those copies is {@link CudaMoeExperts} on {@link DeviceTensor}s.
 *
 * <p>On the GPU: sgemm (the tiled kernel), softmaxRows and topkRows (the fused softmax/top-k
 * kernel), memorySimilarity and its backward, and the grouped experts (the kernels of
 * {@link CudaMoeExperts}). Forwarded to {@link ScalarKernels} (elementwise or row ops where two
 * PCIe copies cost more than the op): softmaxBackwardRows, logSoftmaxRows,
 * rmsnormForward/Backward, swigluForward/Backward (fused into the expert GEMMs on the device path),
 * add, mul, axpy, scale, sum, dot, adamwUpdate.
 */
public final class CudaKernels extends ForwardingKernels {
    private final CudaContext ctx;

    public CudaKernels(CudaContext ctx) {
        super(new ScalarKernels());
        this.ctx = ctx;
    }

    @Override public String name() { return "cuda"; }
    @Override public int threads() { return 1; }

    public CudaContext context() { return ctx; }

    // ---------------------------------------------------------------- grouped experts: the kernels of CudaMoeExperts

    // x [S,d], w1, w3 [E,d,f], w2 [E,f,d] -> a, b, h [S,f], y [S,d]
    @Override
    public void expertsForward(int experts, int d, int f, int[] offsets, float[] x,
                               float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                               float[] a, float[] b, float[] h, float[] y) {
        ExpertLoop.checkPlan("expertsForward", experts, offsets);
        int s = offsets[experts], rowTiles = ceilDiv(maxBlock(experts, offsets), TILE);
        if (s == 0) return;
        try (DeviceTensor off = DeviceTensor.ofInts(ctx, "expert offsets", Arrays.copyOf(offsets, experts + 1));
             DeviceTensor dx = DeviceTensor.of(ctx, "packed x", x, 0, s, d);
             DeviceTensor d1 = DeviceTensor.of(ctx, "w1", w1, w1Off, experts, d, f);
             DeviceTensor d3 = DeviceTensor.of(ctx, "w3", w3, w3Off, experts, d, f);
             DeviceTensor d2 = DeviceTensor.of(ctx, "w2", w2, w2Off, experts, f, d);
             DeviceTensor da = DeviceTensor.zeros(ctx, "A", s, f);
             DeviceTensor db = DeviceTensor.zeros(ctx, "B", s, f);
             DeviceTensor dh = DeviceTensor.zeros(ctx, "H", s, f);
             DeviceTensor dy = DeviceTensor.zeros(ctx, "Y", s, d)) {
            CudaMoeExperts.launchForward(ctx, off, rowTiles, experts, d, f, dx, d1, d3, d2, da, db, dh, dy);
            da.download(a, 0);
            db.download(b, 0);
            dh.download(h, 0);
            dy.download(y, 0);
        }
    }

    // dy [S,d] -> dx [S,d] (written), dw1, dw3 [E,d,f], dw2 [E,f,d] (accumulated)
    @Override
    public void expertsBackward(int experts, int d, int f, int[] offsets, float[] x,
                                float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                                float[] a, float[] b, float[] h, float[] dy,
                                float[] dx, float[] dw1, float[] dw3, float[] dw2) {
        ExpertLoop.checkPlan("expertsBackward", experts, offsets);
        int s = offsets[experts], rowTiles = ceilDiv(maxBlock(experts, offsets), TILE);
        if (s == 0) return;
        try (DeviceTensor off = DeviceTensor.ofInts(ctx, "expert offsets", Arrays.copyOf(offsets, experts + 1));
             DeviceTensor dX = DeviceTensor.of(ctx, "packed x", x, 0, s, d);
             DeviceTensor d1 = DeviceTensor.of(ctx, "w1", w1, w1Off, experts, d, f);
             DeviceTensor d3 = DeviceTensor.of(ctx, "w3", w3, w3Off, experts, d, f);
             DeviceTensor d2 = DeviceTensor.of(ctx, "w2", w2, w2Off, experts, f, d);
             DeviceTensor dA = DeviceTensor.of(ctx, "A", a, 0, s, f);
             DeviceTensor dB = DeviceTensor.of(ctx, "B", b, 0, s, f);
             DeviceTensor dH = DeviceTensor.of(ctx, "H", h, 0, s, f);
             DeviceTensor dY = DeviceTensor.of(ctx, "dY", dy, 0, s, d);
             DeviceTensor gA = DeviceTensor.zeros(ctx, "dA", s, f);
             DeviceTensor gB = DeviceTensor.zeros(ctx, "dB", s, f);
             DeviceTensor g1 = dw1 == null ? null : DeviceTensor.of(ctx, "dw1", dw1, 0, experts, d, f);
             DeviceTensor g3 = dw3 == null ? null : DeviceTensor.of(ctx, "dw3", dw3, 0, experts, d, f);
             DeviceTensor g2 = dw2 == null ? null : DeviceTensor.of(ctx, "dw2", dw2, 0, experts, f, d)) {
            // dX goes over dY's device memory, as on the device-resident path
            CudaMoeExperts.launchBackward(ctx, off, rowTiles, experts, d, f, dX, d1, d3, d2, dA, dB, dH, dY,
                    gA, gB, dx != null ? dY : null, g1, g3, g2);
            if (dx != null) dY.download(dx, 0);
            if (g1 != null) g1.download(dw1, 0);
            if (g3 != null) g3.download(dw3, 0);
            if (g2 != null) g2.download(dw2, 0);
        }
    }

    private static int maxBlock(int experts, int[] offsets) {
        int m = 0;
        for (int e = 0; e < experts; e++) m = Math.max(m, offsets[e + 1] - offsets[e]);
        return m;
    }

    // ---------------------------------------------------------------- GEMM: C [m,n] = alpha op(A) op(B) + beta C
    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("sgemm: negative size m=" + m + ", n=" + n + ", k=" + k);
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        checkStored("A", aRows, aCols, lda, aOff, a.length, m, n, k);
        checkStored("B", bRows, bCols, ldb, bOff, b.length, m, n, k);
        checkStored("C", m, n, ldc, cOff, c.length, m, n, k);
        if (m == 0 || n == 0) return;
        int aSpan = span(aRows, aCols, lda), bSpan = span(bRows, bCols, ldb), cSpan = span(m, n, ldc);
        try (DeviceTensor da = DeviceTensor.of(ctx, "sgemm A", a, aOff, aSpan);
             DeviceTensor db = DeviceTensor.of(ctx, "sgemm B", b, bOff, bSpan);
             DeviceTensor dc = DeviceTensor.of(ctx, "sgemm C", c, cOff, cSpan)) {
            String kernel = "moe_sgemm_" + (transA ? "t" : "n") + (transB ? "t" : "n");
            ctx.launch(kernel, ceilDiv(n, TILE), ceilDiv(m, TILE), 1, GEMM_THREADS,
                    m, n, k, alpha, da, Math.max(lda, 1), db, Math.max(ldb, 1), beta, dc, ldc);
            float[] out = new float[cSpan];
            dc.download(out, 0); // the padding between rows comes back as uploaded
            System.arraycopy(out, 0, c, cOff, cSpan);
        }
    }

    private static int span(int rows, int cols, int ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; }

    private static void checkStored(String name, int rows, int cols, int ld, int off, int len, int m, int n, int k) {
        if (ld < cols || off < 0 || (long) off + span(rows, cols, ld) > len)
            throw new IllegalArgumentException("sgemm(m=" + m + ", n=" + n + ", k=" + k + "): " + name + " stored [" + rows + ","
                    + cols + "] with ld=" + ld + " at offset " + off + " does not fit an array of " + len
                    + (ld < cols ? " (ld must be >= " + cols + ")" : ""));
    }

    // ---------------------------------------------------------------- softmax / top-k (one warp per row)
    // x, y [rows, cols]
    @Override
    public void softmaxRows(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        if (rows == 0 || cols == 0) return;
        try (DeviceTensor dx = DeviceTensor.of(ctx, "softmax x", x, xOff, rows, cols);
             DeviceTensor dy = DeviceTensor.zeros(ctx, "softmax y", rows, cols);
             DeviceTensor idx = DeviceTensor.zeros(ctx, "unused idx", 1);
             DeviceTensor val = DeviceTensor.zeros(ctx, "unused val", 1)) {
            ctx.launch("moe_softmax_topk", ceilDiv(rows, ROW_WARPS), 1, 1, ROW_THREADS, dx, rows, cols, 0, dy, idx, val, 1, 0);
            dy.download(y, yOff);
        }
    }

    // x [rows, cols] -> idx, val [rows, k]
    @Override
    public void topkRows(float[] x, int xOff, int rows, int cols, int k, int[] idx, int idxOff, float[] val, int valOff) {
        if (k < 0 || k > cols) throw new IllegalArgumentException("topk: k=" + k + " must be in [0, " + cols + "]");
        if (rows == 0 || k == 0) return;
        try (DeviceTensor dx = DeviceTensor.of(ctx, "topk x", x, xOff, rows, cols);
             DeviceTensor di = DeviceTensor.zeros(ctx, "topk idx", rows, k);
             DeviceTensor dv = DeviceTensor.zeros(ctx, "topk val", rows, k)) {
            ctx.launch("moe_softmax_topk", ceilDiv(rows, ROW_WARPS), 1, 1, ROW_THREADS, dx, rows, cols, k, null, di, dv, 0, 0);
            dv.download(val, valOff);
            System.arraycopy(di.downloadInts(), 0, idx, idxOff, rows * k);
        }
    }

    // ---------------------------------------------------------------- memory similarity
    // x [T, d], p [E, d], active [E] -> m [T, E]
    @Override
    public void memorySimilarity(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                 int tokens, int experts, int d) {
        if (tokens == 0 || experts == 0) return;
        try (Sim s = new Sim(x, xOff, p, active, tokens, experts, d);
             DeviceTensor dm = DeviceTensor.zeros(ctx, "similarity m", tokens, experts)) {
            s.forward(dm);
            dm.download(m, mOff);
        }
    }

    // x, dx [T, d], p [E, d], active [E], m, dm [T, E] -> dx (accumulated)
    @Override
    public void memorySimilarityBackward(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                                         float[] dm, int dmOff, float[] dx, int dxOff, int tokens, int experts, int d) {
        if (tokens == 0 || experts == 0 || d == 0) return;
        try (Sim s = new Sim(x, xOff, p, active, tokens, experts, d);
             DeviceTensor mm = DeviceTensor.of(ctx, "similarity m", m, mOff, tokens, experts);
             DeviceTensor g = DeviceTensor.of(ctx, "similarity dm", dm, dmOff, tokens, experts);
             DeviceTensor coef = DeviceTensor.zeros(ctx, "similarity coef", tokens, experts);
             DeviceTensor xcoef = DeviceTensor.zeros(ctx, "similarity xcoef", tokens);
             DeviceTensor ddx = DeviceTensor.of(ctx, "similarity dx", dx, dxOff, tokens, d)) {
            s.backward(mm, g, coef, xcoef, ddx);
            ddx.download(dx, dxOff);
        }
    }

    /** The inputs of a similarity call on the device, with the row norms. */
    private final class Sim implements AutoCloseable {
        final DeviceTensor x, p, act, xn, pn;
        final int t, e, d;

        Sim(float[] xh, int xOff, float[] ph, boolean[] active, int t, int e, int d) {
            if (active.length < e || ph.length < e * d)
                throw new IllegalArgumentException("memorySimilarity: p [" + e + "," + d + "] and active [" + e + "] but got p of "
                        + ph.length + " floats and " + active.length + " flags");
            this.t = t; this.e = e; this.d = d;
            int[] a = new int[e];
            for (int i = 0; i < e; i++) a[i] = active[i] ? 1 : 0;
            x = DeviceTensor.of(ctx, "similarity x", xh, xOff, t, d);
            p = DeviceTensor.of(ctx, "similarity p", ph, 0, e, d);
            act = DeviceTensor.ofInts(ctx, "similarity active", a);
            xn = DeviceTensor.zeros(ctx, "x norms", t);
            pn = DeviceTensor.zeros(ctx, "p norms", e);
            ctx.launch("moe_row_norms", ceilDiv(t, ROW_WARPS), 1, 1, ROW_THREADS, x, t, d, xn);
            ctx.launch("moe_row_norms", ceilDiv(e, ROW_WARPS), 1, 1, ROW_THREADS, p, e, d, pn);
        }

        void forward(DeviceTensor m) {
            ctx.launch("moe_memory_similarity", ceilDiv(e, TILE), ceilDiv(t, TILE), 1, GEMM_THREADS, x, p, xn, pn, act, m, t, e, d);
        }

        void backward(DeviceTensor m, DeviceTensor dm, DeviceTensor coef, DeviceTensor xcoef, DeviceTensor dx) {
            ctx.launch("moe_memory_sim_coef", ceilDiv(t, ROW_WARPS), 1, 1, ROW_THREADS, xn, pn, act, m, dm, coef, xcoef, t, e);
            ctx.launch("moe_memory_sim_bwd", ceilDiv(d, TILE), ceilDiv(t, TILE), 1, GEMM_THREADS, coef, p, x, xcoef, dx, t, e, d);
        }

        @Override public void close() {
            for (DeviceTensor dt : Arrays.asList(x, p, act, xn, pn)) dt.close();
        }
    }
}
