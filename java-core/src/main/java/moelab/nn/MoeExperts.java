package moelab.nn;

import moelab.tensor.Autograd;
import moelab.tensor.BackwardFn;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.kernels.Profile;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

import java.util.Arrays;

/**
 * The routed SwiGLU experts of an MoE feed-forward as one tape node: a fused forward and a
 * hand-written backward (llm.c style), the way fast MoE systems dispatch.
 *
 * <p>Forward: sort the kept slots by expert ({@link ExpertDispatch}), gather their token rows into
 * one packed buffer X [S, d], run per expert block e (rows n_e) one gated GEMM pair
 * A = X_e·W1_e, B = X_e·W3_e [n_e, f], H = silu(A) * B, Y_e = H·W2_e [n_e, d], then combine
 * out[t] = sum_j gate[t, j] * Y[row(t, j)] over the kept slots. A token whose routes were all
 * dropped gets zeros (it keeps only the residual). X, A, B, H and Y are kept for backward.
 *
 * <p>Backward: dY = gate * dout per packed row, dgate[t, j] = dot(dout[t], Y[row]),
 * dW2_e += Hᵀ·dY, dH = dY·W2_eᵀ, swiglu backward to dA, dB, dW1_e += Xᵀ·dA, dW3_e += Xᵀ·dB,
 * dX = dA·W1_eᵀ + dB·W3_eᵀ, dx[t] += dX[row]. The expert blocks run as one grouped kernel
 * ({@link Kernels#expertsForward}, {@link Kernels#expertsBackward}: the back end fuses what it can);
 * the weight gradients accumulate. Work for inputs that do not require grad is skipped. The packed
 * activations come from the layer's {@link ExpertBuffers}, reused from step to step.
 */
public final class MoeExperts {
    private MoeExperts() {}

    /**
     * x [T, d], gates [T, k], w1, w3 [E, d, f], w2 [E, f, d], routes experts [T*k] (slot t*k + j),
     * kept [T*k] -> out [T, d]. Routes and kept flags carry no gradient.
     */
    public static Result forward(Tensor x, Tensor gates, Tensor w1, Tensor w3, Tensor w2, int[] experts, boolean[] kept) {
        return forward(x, gates, w1, w3, w2, experts, kept, null);
    }

    /**
     * {@link #forward(Tensor, Tensor, Tensor, Tensor, Tensor, int[], boolean[])} with the packed
     * activations taken from {@code buffers} (the layer's, reused across steps; null: fresh arrays).
     */
    static Result forward(Tensor x, Tensor gates, Tensor w1, Tensor w3, Tensor w2, int[] experts, boolean[] kept,
                          ExpertBuffers buffers) {
        Shape.requireRank("moe_experts", x, 2);
        Shape.requireRank("moe_experts", gates, 2);
        Shape.requireRank("moe_experts", w1, 3);
        int t = x.dim(0), d = x.dim(1), k = gates.dim(1), e = w1.dim(0), f = w1.dim(2);
        String shapes = "x " + Shape.str(x.shape()) + ", gates " + Shape.str(gates.shape()) + ", w1 " + Shape.str(w1.shape())
                + ", w3 " + Shape.str(w3.shape()) + ", w2 " + Shape.str(w2.shape());
        if (gates.dim(0) != t || w1.dim(1) != d || !Arrays.equals(w3.shape(), w1.shape())
                || !Arrays.equals(w2.shape(), new int[]{e, f, d}))
            throw new ShapeException("moe_experts: expected x [T,d], gates [T,k], w1 and w3 [E,d,f], w2 [E,f,d] but got " + shapes);
        if (experts.length != t * k || kept.length != t * k)
            throw new ShapeException("moe_experts: " + experts.length + " routes and " + kept.length + " kept flags for "
                    + shapes + " (need T*k = " + (t * k) + " of each)");
        Profile.begin(Profile.ROUTING);
        ExpertDispatch plan = ExpertDispatch.of(experts, kept, e, k == 0 ? 1 : k);
        Profile.end(Profile.ROUTING);
        return new Result(x.contiguous(), gates.contiguous(), w1.contiguous(), w3.contiguous(), w2.contiguous(), plan, t, d, f, e, k,
                ExpertBuffers.lease(buffers, plan.rows(), d, f));
    }

    /** The output tensor, the dispatch plan, and (on demand) the unweighted expert output of every slot. */
    public static final class Result {
        private final Tensor x, gates, w1, w3, w2, out;
        private final ExpertDispatch plan;
        private final int t, d, f, e, k;
        private final ExpertBuffers.Lease lease;
        private final float[] xp, a, b, h, y; // packed X [S,d], A, B, H [S,f], Y [S,d] (the lease's, used up to S rows)
        private final Kernels kr;             // the forward's kernels: every backward runs on them too
        private Tensor slotOutputs, slotOutputsDetached;

        private Result(Tensor x, Tensor gates, Tensor w1, Tensor w3, Tensor w2, ExpertDispatch plan, int t, int d, int f, int e, int k,
                       ExpertBuffers.Lease lease) {
            this.x = x; this.gates = gates; this.w1 = w1; this.w3 = w3; this.w2 = w2; this.plan = plan;
            this.t = t; this.d = d; this.f = f; this.e = e; this.k = k;
            this.lease = lease;
            xp = lease.xp; a = lease.a; b = lease.b; h = lease.h; y = lease.y;
            int s = plan.rows();
            kr = Backends.get();
            float[] xd = x.data();
            int xo = x.offset();
            Profile.begin(Profile.EXPERTS);
            Profile.begin(Profile.ROUTING);
            int[] tokens = plan.tokenOf();
            forRows(kr, s, p -> System.arraycopy(xd, xo + tokens[p] * d, xp, p * d, d)); // gather
            Profile.end(Profile.ROUTING);
            // per expert block: A, B = X·W1, X·W3; H = silu(A) * B; Y = H·W2
            kr.expertsForward(e, d, f, plan.offsets(), xp, w1.data(), w1.offset(), w3.data(), w3.offset(), w2.data(), w2.offset(),
                    a, b, h, y);
            Profile.begin(Profile.ROUTING);
            // combine: out[t] = sum_j gate[t,j] * Y[row(t,j)], j ascending (fixed order)
            float[] o = StepArena.floats(t * d), g = gates.data();
            int go = gates.offset();
            int[] rowOf = plan.rowOf();
            forRows(kr, t, tok -> {
                for (int j = 0; j < k; j++) {
                    int p = rowOf[tok * k + j];
                    if (p >= 0) kr.axpy(g[go + tok * k + j], y, p * d, o, tok * d, d);
                }
            });
            out = Autograd.record("moe_experts", Tensor.of(o, t, d), this::backward, x, gates, w1, w3, w2);
            if (!out.requiresGrad()) lease.release(); // no backward will come
            Profile.end(Profile.ROUTING);
            Profile.end(Profile.EXPERTS);
        }

        /** out [T, d] = sum over kept slots of gate * expert output. */
        public Tensor out() { return out; }

        /** How the slots were sorted into expert blocks. */
        public ExpertDispatch dispatch() { return plan; }

        /**
         * The unweighted expert output of every slot, [T*k, d] with row t*k + j = expert(t, j)'s
         * SwiGLU output for token t, zeros for a dropped slot. Differentiable toward x, w1, w3 and
         * w2 (not the gates); built on first call, then the same tensor. Its backward reruns the
         * expert backward, so use it only where a loss needs it (e.g. an orthogonality loss).
         */
        public Tensor slotOutputs() { return slotOutputs(false); }

        /**
         * {@link #slotOutputs()}; detachInput = true gives a tensor whose gradient reaches only
         * w1, w3 and w2, as if x had been detached (no second expert pass: the backward just skips dX).
         */
        public Tensor slotOutputs(boolean detachInput) {
            Tensor cached = detachInput ? slotOutputsDetached : slotOutputs;
            if (cached != null) return cached;
            checkLease();
            float[] ys = StepArena.floats(t * k * d);
            int[] slotOf = plan.slotOf();
            for (int p = 0; p < plan.rows(); p++) System.arraycopy(y, p * d, ys, slotOf[p] * d, d);
            BackwardFn back = gy -> {
                float[] dy = StepArena.floats(plan.rows() * d);
                for (int p = 0; p < plan.rows(); p++) System.arraycopy(gy, slotOf[p] * d, dy, p * d, d);
                expertBackward(dy, !detachInput);
            };
            Tensor out = detachInput
                    ? Autograd.record("moe_experts_y_detached", Tensor.of(ys, t * k, d), back, w1, w3, w2)
                    : Autograd.record("moe_experts_y", Tensor.of(ys, t * k, d), back, x, w1, w3, w2);
            if (detachInput) slotOutputsDetached = out; else slotOutputs = out;
            return out;
        }

        /** The activations must still be this forward's (see {@link ExpertBuffers}). */
        private void checkLease() {
            if (!lease.valid())
                throw new IllegalStateException("moe_experts: the expert activations of this forward were reused by a later forward of "
                        + "the same layer before this one's backward (run each forward's backward before the next forward)");
        }

        // dout [T, d] -> gradients of x, gates, w1, w3, w2 (accumulated)
        private void backward(float[] dout) {
            try {
                backwardFromOutput(dout);
            } finally {
                lease.release();
            }
        }

        private void backwardFromOutput(float[] dout) {
            checkLease();
            Profile.begin(Profile.ROUTING); // gate gradients and the dispatch of dout to packed rows
            int s = plan.rows();
            int[] tokenOf = plan.tokenOf(), slotOf = plan.slotOf();
            float[] g = gates.data();
            int go = gates.offset();
            if (gates.requiresGrad()) {
                float[] dg = gates.gradBuffer(); // dropped slots get no gradient: they were not used
                forRows(kr, s, p -> dg[slotOf[p]] += kr.dot(dout, tokenOf[p] * d, y, p * d, d)); // one slot per packed row
            }
            if (!(x.requiresGrad() || w1.requiresGrad() || w3.requiresGrad() || w2.requiresGrad())) { Profile.end(Profile.ROUTING); return; }
            float[] dy = lease.dy; // dY[p] = gate(slot p) * dout[token p], rows [0, S)
            forRows(kr, s, p -> {
                Arrays.fill(dy, p * d, (p + 1) * d, 0f);
                kr.axpy(g[go + slotOf[p]], dout, tokenOf[p] * d, dy, p * d, d);
            });
            Profile.end(Profile.ROUTING);
            expertBackward(dy, true);
        }

        /** Backward through the experts from dY [S, d] (packed, consumed: reused for dX); toX = false skips dX. */
        private void expertBackward(float[] dy, boolean toX) {
            checkLease();
            Profile.begin(Profile.EXPERTS);
            boolean needX = toX && x.requiresGrad();
            float[] dw1 = w1.requiresGrad() ? w1.gradBuffer() : null, dw3 = w3.requiresGrad() ? w3.gradBuffer() : null,
                    dw2 = w2.requiresGrad() ? w2.gradBuffer() : null;
            // per expert block: dW2 += Hᵀ·dY; dH = dY·W2ᵀ -> dA, dB; dW1 += Xᵀ·dA, dW3 += Xᵀ·dB; dX = dA·W1ᵀ + dB·W3ᵀ over dY
            kr.expertsBackward(e, d, f, plan.offsets(), xp, w1.data(), w1.offset(), w3.data(), w3.offset(), w2.data(), w2.offset(),
                    a, b, h, dy, needX ? dy : null, dw1, dw3, dw2);
            if (needX) { // scatter-add back to tokens: each token adds its rows in ascending packed-row order (fixed)
                Profile.begin(Profile.ROUTING);
                float[] dx = x.gradBuffer();
                int[] rowOf = plan.rowOf();
                forRows(kr, t, tok -> {
                    // the token's kept rows, smallest first: k is small, so pick the next one by a scan
                    for (int last = -1; ; ) {
                        int next = Integer.MAX_VALUE;
                        for (int j = 0; j < k; j++) {
                            int p = rowOf[tok * k + j];
                            if (p > last && p < next) next = p;
                        }
                        if (next == Integer.MAX_VALUE) break;
                        kr.add(dx, tok * d, dy, next * d, dx, tok * d, d);
                        last = next;
                    }
                });
                Profile.end(Profile.ROUTING);
            }
            Profile.end(Profile.EXPERTS);
        }
    }

    /** Rows per task of {@link #forRows}: enough work per task that claiming it costs nothing. */
    private static final int ROWS_PER_TASK = 64;

    /** row(0 .. rows-1) over the kernel threads, in fixed chunks; each row must write only its own outputs. */
    private static void forRows(Kernels k, int rows, java.util.function.IntConsumer row) {
        k.forEachTask((rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK, c -> {
            for (int r = c * ROWS_PER_TASK, end = Math.min(rows, r + ROWS_PER_TASK); r < end; r++) row.accept(r);
        });
    }
}
