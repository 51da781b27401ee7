package moelab.nativ;

import moelab.kernels.ExpertLoop;
import moelab.kernels.ForwardingKernels;
import moelab.simd.SimdKernels;

/**
 * What the native back ends share: every kernel the subclass does not override runs on the SIMD
 * back end, with the same thread count. The grouped experts are the per-expert loop on the
 * subclass's own SGEMM, not the SIMD one.
 */
abstract class SimdBackedKernels extends ForwardingKernels {
    SimdBackedKernels(int threads) {
        super(new SimdKernels(threads));
    }

    // x [S,d], w1, w3 [E,d,f], w2 [E,f,d] -> a, b, h [S,f], y [S,d]
    @Override
    public void expertsForward(int experts, int d, int f, int[] offsets, float[] x,
                               float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                               float[] a, float[] b, float[] h, float[] y) {
        ExpertLoop.forward(this, experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, y);
    }

    // dy [S,d] -> dx [S,d] (written), dw1, dw3 [E,d,f], dw2 [E,f,d] (accumulated)
    @Override
    public void expertsBackward(int experts, int d, int f, int[] offsets, float[] x,
                                float[] w1, int w1Off, float[] w3, int w3Off, float[] w2, int w2Off,
                                float[] a, float[] b, float[] h, float[] dy,
                                float[] dx, float[] dw1, float[] dw3, float[] dw2) {
        ExpertLoop.backward(this, experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, dy, dx, dw1, dw3, dw2);
    }
}
