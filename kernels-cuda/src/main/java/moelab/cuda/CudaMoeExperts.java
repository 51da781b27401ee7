package moelab.cuda;

import static moelab.cuda.CudaContext.GEMM_THREADS;
import static moelab.cuda.CudaContext.TILE;
import static moelab.cuda.CudaContext.VEC_THREADS;
import static moelab.cuda.CudaContext.ceilDiv;

import moelab.nn.ExpertDispatch;

/**
 * The routed SwiGLU experts of an MoE layer, resident on the GPU: the device counterpart of
 * java-core's nn/MoeExperts, with the same math. Weights and their gradients stay on the device;
 * forward and backward chain the kernels of kernels-cuda/src/main/cuda without host round trips.
 *
 * <p>Forward: gather token rows into expert order (Xp [S,d]), one grouped launch for
 * A = Xp·W1_e, B = Xp·W3_e, H = silu(A)*B (fused), one for Y = H·W2_e, then combine
 * out[t] = sum_j gate[t,j] * Y[row(t,j)]. Backward: dY = gate * dout and dgate = dout·Y per packed
 * row, dW2_e += Hᵀ·dY, dH = dY·W2_eᵀ with the SwiGLU backward fused (dA, dB), dW1_e += Xpᵀ·dA,
 * dW3_e += Xpᵀ·dB, dXp = dA·W1_eᵀ + dB·W3_eᵀ, dx[t] += dXp[row] (fixed order).
 */
public final class CudaMoeExperts implements AutoCloseable {
    private final CudaContext ctx;
    private final int experts, d, f;
    private final DeviceTensor w1, w3, w2, dw1, dw3, dw2;

    /** w1, w3 [E,d,f], w2 [E,f,d] (host arrays, uploaded once); gradients start at 0. */
    public CudaMoeExperts(CudaContext ctx, int experts, int d, int f, float[] w1, float[] w3, float[] w2) {
        this.ctx = ctx;
        this.experts = experts;
        this.d = d;
        this.f = f;
        this.w1 = DeviceTensor.of(ctx, "w1", w1, 0, experts, d, f);
        this.w3 = DeviceTensor.of(ctx, "w3", w3, 0, experts, d, f);
        this.w2 = DeviceTensor.of(ctx, "w2", w2, 0, experts, f, d);
        this.dw1 = DeviceTensor.zeros(ctx, "dw1", experts, d, f);
        this.dw3 = DeviceTensor.zeros(ctx, "dw3", experts, d, f);
        this.dw2 = DeviceTensor.zeros(ctx, "dw2", experts, f, d);
    }

    public DeviceTensor w1() { return w1; }
    public DeviceTensor w3() { return w3; }
    public DeviceTensor w2() { return w2; }
    /** Gradients, accumulated by {@link #backward} until zeroed. */
    public DeviceTensor dw1() { return dw1; }
    public DeviceTensor dw3() { return dw3; }
    public DeviceTensor dw2() { return dw2; }

    /** A dispatch plan on the device: offsets [E+1], tokenOf, slotOf [S], rowOf [T*k]. */
    public static final class Plan implements AutoCloseable {
        final DeviceTensor offsets, tokenOf, slotOf, rowOf;
        final int tokens, k, rows, maxCount;

        public Plan(CudaContext ctx, ExpertDispatch p, int tokens, int k) {
            if (p.rowOf().length != tokens * k)
                throw new IllegalArgumentException("plan: rowOf has " + p.rowOf().length + " slots, expected T*k = " + tokens + "*" + k);
            this.tokens = tokens;
            this.k = k;
            this.rows = p.rows();
            this.maxCount = p.maxCount();
            offsets = DeviceTensor.ofInts(ctx, "offsets", p.offsets());
            tokenOf = DeviceTensor.ofInts(ctx, "tokenOf", p.tokenOf());
            slotOf = DeviceTensor.ofInts(ctx, "slotOf", p.slotOf());
            rowOf = DeviceTensor.ofInts(ctx, "rowOf", p.rowOf());
        }

        @Override public void close() {
            offsets.close(); tokenOf.close(); slotOf.close(); rowOf.close();
        }
    }

    /** What forward keeps for backward, and the output. Close to free. */
    public final class Activations implements AutoCloseable {
        final Plan plan;
        final DeviceTensor gates, xp, a, b, h, y, out;

        Activations(Plan plan, DeviceTensor gates) {
            int s = plan.rows;
            this.plan = plan;
            this.gates = gates;
            xp = DeviceTensor.zeros(ctx, "packed x", s, d);
            a = DeviceTensor.zeros(ctx, "A", s, f);
            b = DeviceTensor.zeros(ctx, "B", s, f);
            h = DeviceTensor.zeros(ctx, "H", s, f);
            y = DeviceTensor.zeros(ctx, "Y", s, d);
            out = DeviceTensor.zeros(ctx, "out", plan.tokens, d);
        }

        /** out [T, d]. */
        public DeviceTensor out() { return out; }
        /** Unweighted expert outputs per packed row [S, d]. */
        public DeviceTensor packedOutputs() { return y; }

        @Override public void close() { xp.close(); a.close(); b.close(); h.close(); y.close(); out.close(); }
    }

    /** x [T,d], gates [T,k] (kept by reference for backward) -> activations with out [T,d]. */
    public Activations forward(DeviceTensor x, DeviceTensor gates, Plan plan) {
        if (x.dim(0) != plan.tokens || x.dim(1) != d || gates.numel() != (long) plan.tokens * plan.k)
            throw new IllegalArgumentException("CudaMoeExperts.forward: expected x [" + plan.tokens + "," + d + "], gates ["
                    + plan.tokens + "," + plan.k + "] but got x " + java.util.Arrays.toString(x.shape()) + ", gates "
                    + java.util.Arrays.toString(gates.shape()));
        Activations act = new Activations(plan, gates);
        int s = plan.rows, rowTiles = ceilDiv(plan.maxCount, TILE);
        ctx.launch("moe_gather_rows", s, 1, 1, VEC_THREADS, x, plan.tokenOf, s, d, act.xp);
        launchForward(ctx, plan.offsets, rowTiles, experts, d, f, act.xp, w1, w3, w2, act.a, act.b, act.h, act.y);
        ctx.launch("moe_combine", plan.tokens, 1, 1, VEC_THREADS, act.y, gates, plan.rowOf, plan.tokens, plan.k, d, act.out);
        return act;
    }

    /**
     * dout [T,d] -> dx [T,d] and dgates [T,k] (accumulated; either may be null) and the weight
     * gradients (accumulated).
     */
    public void backward(Activations act, DeviceTensor dout, DeviceTensor dx, DeviceTensor dgates) {
        Plan plan = act.plan;
        int s = plan.rows, rowTiles = ceilDiv(plan.maxCount, TILE);
        try (DeviceTensor dy = DeviceTensor.zeros(ctx, "dY", s, d);
             DeviceTensor da = DeviceTensor.zeros(ctx, "dA", s, f);
             DeviceTensor db = DeviceTensor.zeros(ctx, "dB", s, f)) {
            ctx.launch("moe_combine_bwd", s, 1, 1, VEC_THREADS, dout, act.gates, act.y, plan.tokenOf, plan.slotOf, s, d, dy, dgates);
            // dXp reuses dY's memory: dY is no longer needed once the weight gradients are done
            launchBackward(ctx, plan.offsets, rowTiles, experts, d, f, act.xp, w1, w3, w2, act.a, act.b, act.h, dy,
                    da, db, dx != null ? dy : null, dw1, dw3, dw2);
            if (dx != null)
                ctx.launch("moe_scatter_add_rows", plan.tokens, 1, 1, VEC_THREADS, dy, plan.rowOf, plan.tokens, plan.k, d, dx);
            ctx.synchronize("running the MoE expert backward");
        }
    }

    /**
     * The grouped forward on the device (what {@link moelab.kernels.Kernels#expertsForward} computes):
     * offsets [E+1] (int), xp [S,d], w1, w3 [E,d,f], w2 [E,f,d] -> a, b, h [S,f], y [S,d].
     * rowTiles = ceil(largest expert block / TILE).
     */
    static void launchForward(CudaContext ctx, DeviceTensor offsets, int rowTiles, int experts, int d, int f, DeviceTensor xp,
                              DeviceTensor w1, DeviceTensor w3, DeviceTensor w2,
                              DeviceTensor a, DeviceTensor b, DeviceTensor h, DeviceTensor y) {
        if (rowTiles == 0) return;
        ctx.launch("moe_expert_up_swiglu", ceilDiv(f, TILE), rowTiles, experts, GEMM_THREADS,
                offsets, experts, d, f, xp, w1, w3, a, b, h);
        ctx.launch("moe_expert_down", ceilDiv(d, TILE), rowTiles, experts, GEMM_THREADS,
                offsets, experts, d, f, h, w2, y);
    }

    /**
     * The grouped backward on the device: dy [S,d] -> dW2 += Hᵀ·dY, dA, dB [S,f] (written, the
     * caller's scratch), dW1 += Xᵀ·dA, dW3 += Xᵀ·dB, dx [S,d] = dA·W1ᵀ + dB·W3ᵀ (written; may be dy).
     * dx, dw1, dw3, dw2 may be null (skipped; dW1 and dW3 come from one kernel, so when only one is
     * wanted the other goes to scratch).
     */
    static void launchBackward(CudaContext ctx, DeviceTensor offsets, int rowTiles, int experts, int d, int f, DeviceTensor xp,
                               DeviceTensor w1, DeviceTensor w3, DeviceTensor w2, DeviceTensor a, DeviceTensor b, DeviceTensor h,
                               DeviceTensor dy, DeviceTensor da, DeviceTensor db,
                               DeviceTensor dx, DeviceTensor dw1, DeviceTensor dw3, DeviceTensor dw2) {
        if (rowTiles == 0) return;
        if (dw2 != null)
            ctx.launch("moe_expert_dw2", ceilDiv(d, TILE), ceilDiv(f, TILE), experts, GEMM_THREADS,
                    offsets, experts, d, f, h, dy, dw2);
        if (dx == null && dw1 == null && dw3 == null) return;
        ctx.launch("moe_expert_dh_swiglu_bwd", ceilDiv(f, TILE), rowTiles, experts, GEMM_THREADS,
                offsets, experts, d, f, dy, w2, a, b, da, db);
        if (dw1 != null || dw3 != null) {
            DeviceTensor spare = dw1 == null || dw3 == null ? DeviceTensor.zeros(ctx, "unused weight gradient", experts, d, f) : null;
            try {
                ctx.launch("moe_expert_dw13", ceilDiv(f, TILE), ceilDiv(d, TILE), experts, GEMM_THREADS,
                        offsets, experts, d, f, xp, da, db, dw1 != null ? dw1 : spare, dw3 != null ? dw3 : spare);
                if (spare != null) ctx.synchronize("the MoE expert weight gradients");
            } finally {
                if (spare != null) spare.close();
            }
        }
        if (dx != null)
            ctx.launch("moe_expert_dx", ceilDiv(d, TILE), rowTiles, experts, GEMM_THREADS,
                    offsets, experts, d, f, da, db, w1, w3, dx);
    }

    @Override public void close() { w1.close(); w3.close(); w2.close(); dw1.close(); dw3.close(); dw2.close(); }
}
