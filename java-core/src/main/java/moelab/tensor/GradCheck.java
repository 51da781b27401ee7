package moelab.tensor;


import java.util.Random;
import java.util.function.Function;

/**
 * Checks an op's backward against central finite differences. The objective is
 * L = sum(f(x) * w) with fixed random weights w, accumulated in double; analytic gradients come
 * from one backward pass seeded with w. Every input with requiresGrad is checked element by element.
 */
public final class GradCheck {
    private GradCheck() {}

    /** Options: step h, absolute and relative tolerance. */
    public record Tolerance(double h, double atol, double rtol) {
        public static final Tolerance DEFAULT = new Tolerance(1e-2, 2e-3, 2e-2);
    }

    /** Throws AssertionError naming the input, element, analytic and numeric values at the first mismatch. */
    public static void check(String what, Function<Tensor[], Tensor> f, Tensor... inputs) {
        check(what, Tolerance.DEFAULT, f, inputs);
    }

    public static void check(String what, Tolerance tol, Function<Tensor[], Tensor> f, Tensor... inputs) {
        Tensor out = f.apply(inputs);
        Random rng = new Random(12345);
        float[] w = new float[out.numel()];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
        for (Tensor in : inputs) in.clearGrad();
        if (out.requiresGrad()) Autograd.backward(out, w);

        for (int t = 0; t < inputs.length; t++) {
            Tensor in = inputs[t];
            if (!in.requiresGrad()) continue;
            if (!in.isContiguous()) throw new IllegalArgumentException("gradcheck inputs must be contiguous");
            float[] analytic = in.grad() == null ? new float[in.numel()] : in.grad().clone();
            float[] data = in.data();
            for (int i = 0; i < in.numel(); i++) {
                int p = in.offset() + i;
                float orig = data[p];
                data[p] = (float) (orig + tol.h());
                double lp = objective(f, inputs, w);
                data[p] = (float) (orig - tol.h());
                double lm = objective(f, inputs, w);
                data[p] = orig;
                double numeric = (lp - lm) / (2 * tol.h());
                double a = analytic[i];
                if (Math.abs(a - numeric) > tol.atol() + tol.rtol() * Math.max(Math.abs(a), Math.abs(numeric)))
                    throw new AssertionError(what + ": input " + t + " " + in + " element " + i
                            + ": analytic " + a + " vs numeric " + numeric);
            }
        }
        for (Tensor in : inputs) in.clearGrad();
    }

    private static double objective(Function<Tensor[], Tensor> f, Tensor[] inputs, float[] w) {
        try (NoGrad ng = NoGrad.enter()) {
            float[] y = f.apply(inputs).toArray();
            double s = 0;
            for (int i = 0; i < y.length; i++) s += (double) y[i] * w[i];
            return s;
        }
    }
}
