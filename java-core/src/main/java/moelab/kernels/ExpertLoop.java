package moelab.kernels;

/**
 * The plain per-expert loop behind {@link Kernels#expertsForward} and {@link Kernels#expertsBackward}:
 * for every non-empty expert block, one sgemm per product and the SwiGLU as a separate pass,
 * through whatever back end it is given. It is the reference the grouped kernels are tested
 * against, and the implementation of back ends without a fused one.
 */
public final class ExpertLoop {
    private ExpertLoop() {}

    // x [S,d], w1, w3 [E,d,f], w2 [E,f,d] -> a, b, h [S,f], y [S,d]; expert e owns rows [offsets[e], offsets[e+1])
    public static void forward(Kernels kr, int experts, int d, int f, int[] offsets, float[] x,
                               float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                               float[] a, float[] b, float[] h, float[] y) {
        checkPlan("expertsForward", experts, offsets);
        for (int e = 0; e < experts; e++) {
            int o = offsets[e], n = offsets[e + 1] - o;
            if (n == 0) continue;
            int wdf = e * d * f;
            // X_e [n,d] · W1_e [d,f] -> A_e [n,f]; the same with W3_e -> B_e
            kr.sgemm(false, false, n, f, d, 1f, x, o * d, d, w1, w1Off + wdf, f, 0f, a, o * f, f);
            kr.sgemm(false, false, n, f, d, 1f, x, o * d, d, w3, w3Off + wdf, f, 0f, b, o * f, f);
            kr.swigluForward(a, o * f, b, o * f, h, o * f, n * f);
            // H_e [n,f] · W2_e [f,d] -> Y_e [n,d]
            kr.sgemm(false, false, n, d, f, 1f, h, o * f, f, w2, w2Off + wdf, d, 0f, y, o * d, d);
        }
    }

    // dy [S,d] and the forward's x [S,d], a, b, h [S,f] -> dx [S,d] (written), dw1, dw3 [E,d,f], dw2 [E,f,d] (accumulated)
    public static void backward(Kernels kr, int experts, int d, int f, int[] offsets, float[] x,
                                float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                                float[] a, float[] b, float[] h, float[] dy,
                                float[] dx, float[] dw1, float[] dw3, float[] dw2) {
        backward(kr, new Scratch(), experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, dy, dx, dw1, dw3, dw2);
    }

    /** The backward's dH, dA, dB [largest block, f], grown on demand: a back end keeps one to reuse across calls. */
    public static final class Scratch {
        float[] dh = new float[0], da = new float[0], db = new float[0];

        void ensure(int n) {
            if (dh.length >= n) return;
            int cap = n + n / 8; // the blocks change a little from step to step
            dh = new float[cap]; da = new float[cap]; db = new float[cap];
        }
    }

    /** The same backward with the caller's scratch (steady-state calls allocate nothing). */
    public static void backward(Kernels kr, Scratch scratch, int experts, int d, int f, int[] offsets, float[] x,
                                float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                                float[] a, float[] b, float[] h, float[] dy,
                                float[] dx, float[] dw1, float[] dw3, float[] dw2) {
        checkPlan("expertsBackward", experts, offsets);
        boolean needAB = dx != null || dw1 != null || dw3 != null;
        int maxN = 0;
        for (int e = 0; e < experts; e++) maxN = Math.max(maxN, offsets[e + 1] - offsets[e]);
        if (needAB) scratch.ensure(maxN * f);
        float[] dh = scratch.dh, da = scratch.da, db = scratch.db;
        for (int e = 0; e < experts; e++) {
            int o = offsets[e], n = offsets[e + 1] - o;
            if (n == 0) continue;
            int wdf = e * d * f; // the same offset for W1_e, W3_e [d,f] and W2_e [f,d]
            // dW2_e [f,d] += H_eᵀ [f,n] · dY_e [n,d]
            if (dw2 != null) kr.sgemm(true, false, f, d, n, 1f, h, o * f, f, dy, o * d, d, 1f, dw2, wdf, d);
            if (!needAB) continue;
            // dH [n,f] = dY_e [n,d] · W2_eᵀ [d,f]
            kr.sgemm(false, true, n, f, d, 1f, dy, o * d, d, w2, w2Off + wdf, d, 0f, dh, 0, f);
            java.util.Arrays.fill(da, 0, n * f, 0f);
            java.util.Arrays.fill(db, 0, n * f, 0f);
            kr.swigluBackward(a, o * f, b, o * f, dh, 0, da, 0, db, 0, n * f);
            // dW1_e [d,f] += X_eᵀ [d,n] · dA [n,f]; dW3_e likewise with dB
            if (dw1 != null) kr.sgemm(true, false, d, f, n, 1f, x, o * d, d, da, 0, f, 1f, dw1, wdf, f);
            if (dw3 != null) kr.sgemm(true, false, d, f, n, 1f, x, o * d, d, db, 0, f, 1f, dw3, wdf, f);
            if (dx != null) { // dX_e [n,d] = dA·W1_eᵀ + dB·W3_eᵀ (dY_e is no longer needed: dx may be dy)
                kr.sgemm(false, true, n, d, f, 1f, da, 0, f, w1, w1Off + wdf, f, 0f, dx, o * d, d);
                kr.sgemm(false, true, n, d, f, 1f, db, 0, f, w3, w3Off + wdf, f, 1f, dx, o * d, d);
            }
        }
    }

    /** offsets [E+1] must start at 0 and never decrease. */
    public static void checkPlan(String op, int experts, int[] offsets) {
        if (experts < 0 || offsets == null || offsets.length < experts + 1)
            throw new IllegalArgumentException(op + ": need offsets [E+1] for E=" + experts + ", got "
                    + (offsets == null ? "null" : offsets.length + " offsets"));
        if (offsets[0] != 0) throw new IllegalArgumentException(op + ": offsets[0] = " + offsets[0] + ", must be 0");
        for (int e = 0; e < experts; e++)
            if (offsets[e + 1] < offsets[e])
                throw new IllegalArgumentException(op + ": offsets decrease at expert " + e + " (" + offsets[e] + " -> " + offsets[e + 1] + ")");
    }
}
