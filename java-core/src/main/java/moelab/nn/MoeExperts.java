package moelab.nn;

import moelab.autograd.Autograd;
import moelab.autograd.BackwardFn;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.kernels.Profile;
import moelab.tensor.Shape;
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
 * dX = dA·W1_eᵀ + dB·W3_eᵀ, dx[t] += dX[row]. Every product is one sgemm with transpose flags;
 * the weight gradients accumulate (beta = 1). Work for inputs that do not require grad is skipped.
 */
public final class MoeExperts {
    private MoeExperts() {}

    /**
     * x [T, d], gates [T, k], w1, w3 [E, d, f], w2 [E, f, d], routes experts [T*k] (slot t*k + j),
     * kept [T*k] -> out [T, d]. Routes and kept flags carry no gradient.
     */
    public static Result forward(Tensor x, Tensor gates, Tensor w1, Tensor w3, Tensor w2, int[] experts, boolean[] kept) {
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
        return new Result(x.contiguous(), gates.contiguous(), w1.contiguous(), w3.contiguous(), w2.contiguous(), plan, t, d, f, e, k);
    }

    /** The output tensor, the dispatch plan, and (on demand) the unweighted expert output of every slot. */
    public static final class Result {
        private final Tensor x, gates, w1, w3, w2, out;
        private final ExpertDispatch plan;
        private final int t, d, f, e, k;
        private final float[] xp, a, b, h, y; // packed X [S,d], A, B, H [S,f], Y [S,d]
        private Tensor slotOutputs, slotOutputsDetached;

        private Result(Tensor x, Tensor gates, Tensor w1, Tensor w3, Tensor w2, ExpertDispatch plan, int t, int d, int f, int e, int k) {
            this.x = x; this.gates = gates; this.w1 = w1; this.w3 = w3; this.w2 = w2; this.plan = plan;
            this.t = t; this.d = d; this.f = f; this.e = e; this.k = k;
            int s = plan.rows();
            Kernels kr = Backends.get();
            float[] xd = x.data();
            int xo = x.offset();
            Profile.begin(Profile.EXPERTS);
            Profile.begin(Profile.ROUTING);
            xp = new float[s * d];
            for (int p = 0; p < s; p++) System.arraycopy(xd, xo + plan.tokenOf()[p] * d, xp, p * d, d); // gather
            Profile.end(Profile.ROUTING);
            a = new float[s * f];
            b = new float[s * f];
            h = new float[s * f];
            y = new float[s * d];
            int[] off = plan.offsets();
            for (int ex = 0; ex < e; ex++) {
                int n = plan.counts()[ex], o = off[ex];
                if (n == 0) continue;
                // X_e [n,d] · W1_e [d,f] -> A_e [n,f]; same with W3_e -> B_e
                kr.sgemm(false, false, n, f, d, 1f, xp, o * d, d, w1.data(), w1.offset() + ex * d * f, f, 0f, a, o * f, f);
                kr.sgemm(false, false, n, f, d, 1f, xp, o * d, d, w3.data(), w3.offset() + ex * d * f, f, 0f, b, o * f, f);
            }
            kr.swigluForward(a, 0, b, 0, h, 0, s * f); // all blocks at once: elementwise
            for (int ex = 0; ex < e; ex++) {
                int n = plan.counts()[ex], o = off[ex];
                if (n == 0) continue;
                // H_e [n,f] · W2_e [f,d] -> Y_e [n,d]
                kr.sgemm(false, false, n, d, f, 1f, h, o * f, f, w2.data(), w2.offset() + ex * f * d, d, 0f, y, o * d, d);
            }
            Profile.begin(Profile.ROUTING);
            // combine: out[t] = sum_j gate[t,j] * Y[row(t,j)], j ascending (fixed order)
            float[] o = new float[t * d], g = gates.data();
            int go = gates.offset();
            int[] rowOf = plan.rowOf();
            for (int tok = 0; tok < t; tok++)
                for (int j = 0; j < k; j++) {
                    int p = rowOf[tok * k + j];
                    if (p >= 0) kr.axpy(g[go + tok * k + j], y, p * d, o, tok * d, d);
                }
            out = Autograd.record("moe_experts", Tensor.of(o, t, d), this::backward, x, gates, w1, w3, w2);
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
            float[] ys = new float[t * k * d];
            int[] slotOf = plan.slotOf();
            for (int p = 0; p < plan.rows(); p++) System.arraycopy(y, p * d, ys, slotOf[p] * d, d);
            BackwardFn back = gy -> {
                float[] dy = new float[plan.rows() * d];
                for (int p = 0; p < plan.rows(); p++) System.arraycopy(gy, slotOf[p] * d, dy, p * d, d);
                expertBackward(dy, !detachInput);
            };
            Tensor out = detachInput
                    ? Autograd.record("moe_experts_y_detached", Tensor.of(ys, t * k, d), back, w1, w3, w2)
                    : Autograd.record("moe_experts_y", Tensor.of(ys, t * k, d), back, x, w1, w3, w2);
            if (detachInput) slotOutputsDetached = out; else slotOutputs = out;
            return out;
        }

        // dout [T, d] -> gradients of x, gates, w1, w3, w2 (accumulated)
        private void backward(float[] dout) {
            Kernels kr = Backends.get();
            Profile.begin(Profile.ROUTING); // gate gradients and the dispatch of dout to packed rows
            int s = plan.rows();
            int[] tokenOf = plan.tokenOf(), slotOf = plan.slotOf();
            float[] g = gates.data();
            int go = gates.offset();
            if (gates.requiresGrad()) {
                float[] dg = gates.gradBuffer(); // dropped slots get no gradient: they were not used
                for (int p = 0; p < s; p++) dg[slotOf[p]] += kr.dot(dout, tokenOf[p] * d, y, p * d, d);
            }
            if (!(x.requiresGrad() || w1.requiresGrad() || w3.requiresGrad() || w2.requiresGrad())) { Profile.end(Profile.ROUTING); return; }
            float[] dy = new float[s * d]; // dY[p] = gate(slot p) * dout[token p]
            for (int p = 0; p < s; p++) kr.axpy(g[go + slotOf[p]], dout, tokenOf[p] * d, dy, p * d, d);
            Profile.end(Profile.ROUTING);
            expertBackward(dy, true);
        }

        /** Backward through the experts from dY [S, d] (packed, consumed: reused for dX); toX = false skips dX. */
        private void expertBackward(float[] dy, boolean toX) {
            Kernels kr = Backends.get();
            Profile.begin(Profile.EXPERTS);
            boolean needX = toX && x.requiresGrad(), need1 = w1.requiresGrad(), need3 = w3.requiresGrad(), need2 = w2.requiresGrad();
            boolean needAB = needX || need1 || need3;
            int maxN = plan.maxCount();
            float[] dh = needAB ? new float[maxN * f] : null, da = needAB ? new float[maxN * f] : null,
                    db = needAB ? new float[maxN * f] : null;
            float[] dw1 = need1 ? w1.gradBuffer() : null, dw3 = need3 ? w3.gradBuffer() : null, dw2 = need2 ? w2.gradBuffer() : null;
            int[] off = plan.offsets();
            for (int ex = 0; ex < e; ex++) {
                int n = plan.counts()[ex], o = off[ex];
                if (n == 0) continue;
                int wdf = ex * d * f; // the same offset for W1_e, W3_e [d,f] and W2_e [f,d]
                // dW2_e [f,d] += H_eᵀ [f,n] · dY_e [n,d]
                if (need2) kr.sgemm(true, false, f, d, n, 1f, h, o * f, f, dy, o * d, d, 1f, dw2, wdf, d);
                if (!needAB) continue;
                // dH [n,f] = dY_e [n,d] · W2_eᵀ [d,f]
                kr.sgemm(false, true, n, f, d, 1f, dy, o * d, d, w2.data(), w2.offset() + wdf, d, 0f, dh, 0, f);
                Arrays.fill(da, 0, n * f, 0f);
                Arrays.fill(db, 0, n * f, 0f);
                kr.swigluBackward(a, o * f, b, o * f, dh, 0, da, 0, db, 0, n * f);
                // dW1_e [d,f] += X_eᵀ [d,n] · dA [n,f]; dW3_e likewise with dB
                if (need1) kr.sgemm(true, false, d, f, n, 1f, xp, o * d, d, da, 0, f, 1f, dw1, wdf, f);
                if (need3) kr.sgemm(true, false, d, f, n, 1f, xp, o * d, d, db, 0, f, 1f, dw3, wdf, f);
                if (needX) { // dX_e [n,d] = dA·W1_eᵀ + dB·W3_eᵀ, written over dY_e (no longer needed)
                    kr.sgemm(false, true, n, d, f, 1f, da, 0, f, w1.data(), w1.offset() + wdf, f, 0f, dy, o * d, d);
                    kr.sgemm(false, true, n, d, f, 1f, db, 0, f, w3.data(), w3.offset() + wdf, f, 1f, dy, o * d, d);
                }
            }
            if (needX) { // scatter-add back to tokens, packed-row order (fixed)
                Profile.begin(Profile.ROUTING);
                float[] dx = x.gradBuffer();
                int[] tokenOf = plan.tokenOf();
                for (int p = 0; p < plan.rows(); p++) kr.add(dx, tokenOf[p] * d, dy, p * d, dx, tokenOf[p] * d, d);
                Profile.end(Profile.ROUTING);
            }
            Profile.end(Profile.EXPERTS);
        }
    }
}
