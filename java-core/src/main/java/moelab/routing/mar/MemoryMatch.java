package moelab.routing.mar;

import moelab.tensor.Autograd;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.tensor.Tensor;

/**
 * The memory match term of memory-aware routing as a tape op: m[t,i] = cos(x_t, p_i) for experts
 * with a memory, 0 for the others. The preference vectors are constants (detached history), so
 * the gradient flows into x only: dx = sum_i dm[:,i] (p̂_i - m[:,i] x̂) / ||x||.
 */
public final class MemoryMatch {
    private MemoryMatch() {}

    /**
     * x [T, d], p [E, d] (copied: later pushes do not change this node), active [E] -> m [T, E].
     */
    public static Tensor similarity(Tensor x, float[] p, boolean[] active) {
        if (x.rank() != 2) throw new IllegalArgumentException("memorySimilarity: x must be [T, d], got rank " + x.rank());
        int t = x.dim(0), d = x.dim(1), e = active.length;
        if (p.length != e * d)
            throw new IllegalArgumentException("memorySimilarity: x [" + t + ", " + d + "] needs p [" + e + ", " + d + "] = "
                    + e * d + " values, got " + p.length);
        Tensor xc = x.contiguous();
        float[] pc = p.clone();
        boolean[] ac = active.clone();
        float[] m = new float[t * e];
        Kernels k = Backends.get();
        k.memorySimilarity(xc.data(), xc.offset(), pc, ac, m, 0, t, e, d);
        Tensor out = Tensor.of(m, t, e);
        return Autograd.record("memorySimilarity", out, g ->
                k.memorySimilarityBackward(xc.data(), xc.offset(), pc, ac, m, 0, g, 0, xc.gradBuffer(), 0, t, e, d), xc);
    }
}
