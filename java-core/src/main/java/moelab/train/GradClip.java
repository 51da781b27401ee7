package moelab.train;

import moelab.tensor.Parameters;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.tensor.Tensor;

/** Gradient clipping by the global L2 norm over all parameters. */
public final class GradClip {
    private GradClip() {}

    /** Scales every gradient by min(1, maxNorm / norm); returns the norm before clipping. */
    public static double clipGlobalNorm(Parameters params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("clipGlobalNorm: maxNorm must be > 0, got " + maxNorm);
        // each tensor's sum of squares by the kernels (vectorized, split over their threads in fixed
        // blocks: the same bits for any thread count), in float like PyTorch's per-tensor norms;
        // the tensors' sums added in double
        Kernels kernels = Backends.get();
        double ss = 0;
        for (Tensor t : params.asMap().values()) {
            float[] g = t.grad();
            if (g == null) continue;
            ss += kernels.dot(g, 0, g, 0, g.length);
        }
        double norm = Math.sqrt(ss);
        if (norm > maxNorm) {
            float s = (float) (maxNorm / (norm + 1e-6));
            for (Tensor t : params.asMap().values()) {
                float[] g = t.grad();
                if (g == null) continue;
                kernels.scale(s, g, 0, g.length);
            }
        }
        return norm;
    }
}
