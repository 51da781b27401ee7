package moelab.nativ;

import moelab.kernels.Backends;
import moelab.kernels.ExpertLoop;
import moelab.kernels.ForwardingKernels;
import moelab.kernels.KernelsProvider;

/**
 * What the native back ends share: every kernel the subclass does not override runs on the SIMD
 * back end ("simd", found by name like any back end, so this module does not compile against it),
 * with the same thread count. The grouped experts are the per-expert loop on the subclass's own
 * SGEMM, not the SIMD one.
 */
abstract class SimdBackedKernels extends ForwardingKernels {
    SimdBackedKernels(int threads) {
        super(Backends.create("simd", threads));
    }

    /** Why the SIMD back end cannot run here (then neither can a native one), or null. */
    static String simdUnavailableReason() {
        for (KernelsProvider p : Backends.providers())
            if (p.name().equals("simd")) return p.isAvailable() ? null : "it runs on the SIMD kernels, and " + p.unavailableReason();
        return "it runs on the SIMD kernels, and the simd back end (module kernels-simd) is not on the class path";
    }

    /** The grouped experts' backward scratch, kept across calls (calls come from one thread at a time). */
    private final ExpertLoop.Scratch expertScratch = new ExpertLoop.Scratch();

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
        ExpertLoop.backward(this, expertScratch, experts, d, f, offsets, x, w1, w1Off, w3, w3Off, w2, w2Off, a, b, h, dy, dx, dw1, dw3, dw2);
    }
}
