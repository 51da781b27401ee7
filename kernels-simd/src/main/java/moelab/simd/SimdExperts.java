package moelab.simd;

import moelab.kernels.ExpertLoop;
import moelab.kernels.Kernels;

/**
 * The grouped SwiGLU experts ({@link Kernels#expertsForward}, {@link Kernels#expertsBackward})
 * on {@link SimdGemm}, fused where a pass over memory can be saved. For each expert block e
 * (packed rows [o, o + n) of X):
 * <pre>
 * forward   A_e, B_e = X_e·W1_e, X_e·W3_e    one pass: X_e packed once for both (sgemmPair),
 *                                            H = silu(A)*B in the tile epilogue, tiles still in L1
 *           Y_e = H_e·W2_e
 * backward  dW2_e += H_eᵀ·dY_e
 *           dH = dY_e·W2_eᵀ, then dA, dB     the SwiGLU backward over the block (contiguous pass)
 *           dW1_e, dW3_e += X_eᵀ·dA, X_eᵀ·dB one packing of X_eᵀ for both (sgemmPair)
 *           dX_e = dA·W1_eᵀ + dB·W3_eᵀ       written over dY_e when dx is dy
 * </pre>
 * Each product keeps sgemm's thread split and arithmetic, so results are bit-identical for any
 * thread count. The scratch dH, dA, dB [S, f] is kept and grown on demand: steady-state calls
 * allocate nothing. {@link ExpertLoop} is the reference this is tested against.
 */
final class SimdExperts {
    private final SimdGemm gemm;
    private float[] dh = new float[0], da = new float[0], db = new float[0];
    private final SwigluEpilogue swiglu = new SwigluEpilogue();
    private final SimdSwiGlu swigluPass;

    SimdExperts(SimdGemm gemm, SimdSwiGlu swigluPass) { this.gemm = gemm; this.swigluPass = swigluPass; }

    /** h = silu(a) * b on finished tiles of the expert block whose first row is {@code row0}. */
    private static final class SwigluEpilogue implements SimdGemm.TileEpilogue {
        float[] a, b, h;
        int row0, f;

        @Override public void apply(int i0, int rows, int j0, int cols) {
            for (int r = 0; r < rows; r++) {
                int p = (row0 + i0 + r) * f + j0;
                SimdSwiGlu.forwardRange(a, p, b, p, h, p, 0, cols);
            }
        }
    }

    // x [S,d], w1, w3 [E,d,f], w2 [E,f,d] -> a, b, h [S,f], y [S,d]
    void forward(Kernels self, int experts, int d, int f, int[] offsets, float[] x,
                 float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                 float[] a, float[] b, float[] h, float[] y) {
        ExpertLoop.checkPlan("expertsForward", experts, offsets);
        if (d == 0) { // nothing to fuse: the products have no k
            ExpertLoop.forward(self, experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, y);
            return;
        }
        SwigluEpilogue epi = swiglu;
        epi.a = a; epi.b = b; epi.h = h; epi.f = f;
        try {
            for (int e = 0; e < experts; e++) {
                int o = offsets[e], n = offsets[e + 1] - o, wdf = e * d * f;
                if (n == 0) continue;
                epi.row0 = o;
                // A_e, B_e [n,f] = X_e [n,d] · W1_e, W3_e [d,f]; H_e in the epilogue
                gemm.sgemmPair(false, false, n, f, d, x, o * d, d, w1, w1Off + wdf, w3, w3Off + wdf, f,
                        0f, a, o * f, b, o * f, f, epi);
                // Y_e [n,d] = H_e [n,f] · W2_e [f,d]
                gemm.sgemm(false, false, n, d, f, 1f, h, o * f, f, w2, w2Off + wdf, d, 0f, y, o * d, d);
            }
        } finally {
            epi.a = epi.b = epi.h = null; // hold no caller arrays between calls
        }
    }

    // dy [S,d] and the forward's x [S,d], a, b, h [S,f] -> dx [S,d] (written), dw1, dw3 [E,d,f], dw2 [E,f,d] (accumulated)
    void backward(Kernels self, int experts, int d, int f, int[] offsets, float[] x,
                  float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                  float[] a, float[] b, float[] h, float[] dy,
                  float[] dx, float[] dw1, float[] dw3, float[] dw2) {
        ExpertLoop.checkPlan("expertsBackward", experts, offsets);
        if (d == 0) {
            ExpertLoop.backward(self, experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, dy, dx, dw1, dw3, dw2);
            return;
        }
        boolean needAB = dx != null || dw1 != null || dw3 != null;
        int s = offsets[experts];
        if (needAB && dh.length < s * f) { // grown with headroom: the kept rows vary from step to step
            int cap = s * f + s * f / 8;
            dh = new float[cap]; da = new float[cap]; db = new float[cap];
        }
        for (int e = 0; e < experts; e++) {
            int o = offsets[e], n = offsets[e + 1] - o, wdf = e * d * f;
            if (n == 0) continue;
            // dW2_e [f,d] += H_eᵀ [f,n] · dY_e [n,d]
            if (dw2 != null) gemm.sgemm(true, false, f, d, n, 1f, h, o * f, f, dy, o * d, d, 1f, dw2, wdf, d);
            if (!needAB) continue;
            // dH [n,f] = dY_e [n,d] · W2_eᵀ [d,f]; then dA, dB over the block in one contiguous pass (as the
            // GEMM epilogue, on short tile rows, it measured 15% slower for this pair of steps on AVX2)
            gemm.sgemm(false, true, n, f, d, 1f, dy, o * d, d, w2, w2Off + wdf, d, 0f, dh, o * f, f);
            swigluPass.backwardWrite(a, o * f, b, o * f, dh, o * f, da, o * f, db, o * f, n * f);
            // dW1_e, dW3_e [d,f] += X_eᵀ [d,n] · dA, dB [n,f]
            if (dw1 != null && dw3 != null)
                gemm.sgemmPair(true, false, d, f, n, x, o * d, d, da, o * f, db, o * f, f, 1f, dw1, wdf, dw3, wdf, f, null);
            else if (dw1 != null) gemm.sgemm(true, false, d, f, n, 1f, x, o * d, d, da, o * f, f, 1f, dw1, wdf, f);
            else if (dw3 != null) gemm.sgemm(true, false, d, f, n, 1f, x, o * d, d, db, o * f, f, 1f, dw3, wdf, f);
            if (dx != null) { // dX_e [n,d] = dA·W1_eᵀ + dB·W3_eᵀ
                gemm.sgemm(false, true, n, d, f, 1f, da, o * f, f, w1, w1Off + wdf, f, 0f, dx, o * d, d);
                gemm.sgemm(false, true, n, d, f, 1f, db, o * f, f, w3, w3Off + wdf, f, 1f, dx, o * d, d);
            }
        }
    }
}
