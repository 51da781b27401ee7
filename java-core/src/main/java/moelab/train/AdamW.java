package moelab.train;

import moelab.tensor.Parameters;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter): Adam moments with bias correction, and weight decay applied
 * directly to the weights (decoupled), not through the gradient. By default only matrices
 * (rank >= 2) decay; norm gains and biases do not.
 *
 * <p>p -= lr * (mhat / (sqrt(vhat) + eps) + wd * p), with m, v the running first and second moments;
 * the elementwise update is the {@link Kernels#adamwUpdate} kernel (the same bits on every back end).
 */
public final class AdamW {
    private final List<String> names = new ArrayList<>();
    private final List<Tensor> params = new ArrayList<>();
    private final List<Boolean> decays = new ArrayList<>();
    private final List<float[]> m = new ArrayList<>();
    private final List<float[]> v = new ArrayList<>();
    private final float beta1, beta2, eps, weightDecay;
    private long step;

    public AdamW(Parameters parameters, float beta1, float beta2, float eps, float weightDecay) {
        this(parameters, beta1, beta2, eps, weightDecay, (name, t) -> t.rank() >= 2);
    }

    /** decayRule(name, tensor) says which parameters get weight decay. */
    public AdamW(Parameters parameters, float beta1, float beta2, float eps, float weightDecay,
                 java.util.function.BiPredicate<String, Tensor> decayRule) {
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("AdamW: beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("AdamW: beta2 must be in [0, 1), got " + beta2);
        if (!(eps > 0)) throw new IllegalArgumentException("AdamW: eps must be > 0, got " + eps);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("AdamW: weight decay must be >= 0, got " + weightDecay);
        this.beta1 = beta1; this.beta2 = beta2; this.eps = eps; this.weightDecay = weightDecay;
        for (Map.Entry<String, Tensor> e : parameters.asMap().entrySet()) {
            Tensor t = e.getValue();
            if (!t.isContiguous()) throw new IllegalArgumentException("AdamW: parameter '" + e.getKey() + "' is not contiguous");
            names.add(e.getKey());
            params.add(t);
            decays.add(decayRule.test(e.getKey(), t));
            m.add(new float[t.numel()]);
            v.add(new float[t.numel()]);
        }
    }

    /** One update with learning rate lr; parameters without a gradient are skipped. */
    public void step(float lr) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1);
        float invSqrtBc2 = (float) (1 / Math.sqrt(bc2));
        Kernels kernels = Backends.get();
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            float[] g = p.grad();
            if (g == null) continue;
            float[] w = p.data(), mi = m.get(i), vi = v.get(i);
            int off = p.offset();
            float decay = decays.get(i) ? lr * weightDecay : 0f;
            kernels.adamwUpdate(w, off, g, mi, vi, g.length, beta1, beta2, eps, stepSize, invSqrtBc2, decay);
        }
    }

    public long stepCount() { return step; }
    /** Moment buffers in parameter order (for checkpoints). */
    public List<float[]> firstMoments() { return m; }
    public List<float[]> secondMoments() { return v; }
    public List<String> parameterNames() { return names; }
    public void setStepCount(long s) { this.step = s; }

    /** Whether a parameter of this name gets weight decay. */
    public boolean decays(String name) {
        int i = names.indexOf(name);
        if (i < 0) throw new IllegalArgumentException("AdamW: no parameter named '" + name + "'");
        return decays.get(i);
    }

}
