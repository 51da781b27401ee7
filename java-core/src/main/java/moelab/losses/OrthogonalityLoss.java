package moelab.losses;

import moelab.tensor.Autograd;
import moelab.tensor.Shape;
import moelab.tensor.ShapeException;
import moelab.tensor.Tensor;

/**
 * Expert orthogonality loss L_o (Guo et al., arXiv 2505.22323) on the UNWEIGHTED outputs of the
 * k experts selected for each token, grouped per token (slot t*k + j belongs to token t; the
 * released code's cross-token grouping is not reproduced). One fused tape node, double inside.
 *
 * <ul>
 *   <li>{@code subspace} (default, what the authors ran): for every kept slot i of token t,
 *       f_i = ‖P_others y_i‖² = gᵀ(G + εI)⁻¹g with O the other kept outputs of t (rows),
 *       G = O Oᵀ, g = O y_i. Equal to the code's Gram–Schmidt sum Σ_u (u·y_i)² for ε → 0.
 *       With c = (G + εI)⁻¹g and p = Oᵀc: ∂f/∂y_i = 2p, ∂f/∂O_r = 2 c_r (y_i − p).</li>
 *   <li>{@code pairwise} (paper Eq. 6): for every ordered pair j ≠ l of kept slots of a token,
 *       T_jl = ‖proj_{y_l} y_j‖² = a²q/D², a = ⟨y_j, y_l⟩, q = ‖y_l‖², D = q + ε;
 *       ∂T/∂y_j = (2aq/D²) y_l, ∂T/∂y_l = (2aq/D²) y_j + (2a²(D − 2q)/D³) y_l.</li>
 * </ul>
 * Reduction: the sum over slots (subspace) or ordered pairs (pairwise) divided by the number of
 * kept slots, i.e. the code's 1/(k·T) when nothing is dropped; a mean, so duplicating the batch
 * leaves it unchanged. Dropped slots (kept = false) are left out entirely: they are neither
 * penalised nor part of another slot's span. For k = 2 the two modes agree up to where ε sits.
 */
public final class OrthogonalityLoss {
    private OrthogonalityLoss() {}

    public static final String SUBSPACE = "subspace", PAIRWISE = "pairwise";

    /** Ridge on the Gram matrix / denominator: keeps the solve defined for parallel or zero outputs. */
    public static final double EPS = 1e-6;

    // y [T*k, d] (row t*k + j = slot j of token t), kept [T*k] or null (all kept) -> scalar
    public static Tensor loss(Tensor y, int k, boolean[] kept, String mode) {
        Shape.requireRank("orthogonality_loss", y, 2);
        if (k < 1 || y.dim(0) % k != 0)
            throw new ShapeException("orthogonality_loss: y " + Shape.str(y.shape()) + " is not [T*k, d] for k = " + k);
        if (kept != null && kept.length != y.dim(0))
            throw new ShapeException("orthogonality_loss: " + kept.length + " kept flags for y " + Shape.str(y.shape()));
        boolean pairwise = switch (mode) {
            case SUBSPACE -> false;
            case PAIRWISE -> true;
            default -> throw new IllegalArgumentException("orthogonality_loss: mode '" + mode + "' is not allowed; allowed values: subspace, pairwise");
        };
        Tensor yc = y.contiguous();
        int rows = y.dim(0), d = y.dim(1), t = rows / k;
        float[] yd = yc.data();
        int yo = yc.offset();
        int nKept = 0;
        for (int s = 0; s < rows; s++) if (kept == null || kept[s]) nKept++;
        double scale = nKept == 0 ? 0 : 1.0 / nKept;
        double[] grad = y.requiresGrad() && Autograd.isGradEnabled() ? new double[rows * d] : null;
        double total = 0;
        int[] idx = new int[k];
        double[] v = new double[k * d];
        for (int tok = 0; tok < t; tok++) {
            int m = 0;
            for (int j = 0; j < k; j++) if (kept == null || kept[tok * k + j]) idx[m++] = tok * k + j;
            if (m < 2) continue; // a lone output has nothing to be orthogonal to
            for (int a = 0; a < m; a++)
                for (int c = 0; c < d; c++) v[a * d + c] = yd[yo + idx[a] * d + c];
            double[] gram = new double[m * m];
            for (int a = 0; a < m; a++)
                for (int b = a; b < m; b++) {
                    double s = 0;
                    for (int c = 0; c < d; c++) s += v[a * d + c] * v[b * d + c];
                    gram[a * m + b] = s;
                    gram[b * m + a] = s;
                }
            total += pairwise ? pairwiseToken(v, gram, m, d, idx, grad, scale) : subspaceToken(v, gram, m, d, idx, grad, scale);
        }
        float[] out = {(float) (total * scale)};
        final double[] g = grad;
        return Autograd.record("orthogonality_loss", Tensor.of(out), gout -> {
            if (g == null || !y.requiresGrad()) return;
            float[] gy = y.gradBuffer();          // grad is contiguous [T*k, d]
            double s = gout[0];
            for (int i = 0; i < g.length; i++) gy[i] += (float) (s * g[i]);
        }, y);
    }

    // one token's m kept outputs v [m, d], gram [m, m]; adds scale * df/dy into grad; returns the sum over slots
    private static double subspaceToken(double[] v, double[] gram, int m, int d, int[] idx, double[] grad, double scale) {
        int n = m - 1;
        double sum = 0;
        double[] a = new double[n * n], c = new double[n], p = new double[d];
        int[] other = new int[n];
        for (int i = 0; i < m; i++) {
            for (int r = 0, o = 0; r < m; r++) if (r != i) other[o++] = r;
            for (int r = 0; r < n; r++) {
                for (int s = 0; s < n; s++) a[r * n + s] = gram[other[r] * m + other[s]];
                a[r * n + r] += EPS;
                c[r] = gram[other[r] * m + i];                         // g = O y_i
            }
            double[] g = c.clone();
            choleskySolve(a, c, n);                                    // c = (G + εI)⁻¹ g
            double f = 0;
            for (int r = 0; r < n; r++) f += g[r] * c[r];
            sum += f;
            if (grad == null) continue;
            java.util.Arrays.fill(p, 0);
            for (int r = 0; r < n; r++)
                for (int x = 0; x < d; x++) p[x] += c[r] * v[other[r] * d + x];   // p = Oᵀ c
            int yi = idx[i] * d;
            for (int x = 0; x < d; x++) grad[yi + x] += scale * 2 * p[x];
            for (int r = 0; r < n; r++) {
                int yr = idx[other[r]] * d;
                double w = scale * 2 * c[r];
                for (int x = 0; x < d; x++) grad[yr + x] += w * (v[i * d + x] - p[x]);
            }
        }
        return sum;
    }

    private static double pairwiseToken(double[] v, double[] gram, int m, int d, int[] idx, double[] grad, double scale) {
        double sum = 0;
        for (int j = 0; j < m; j++)
            for (int l = 0; l < m; l++) {
                if (j == l) continue;
                double a = gram[j * m + l], q = gram[l * m + l], den = q + EPS;
                sum += a * a * q / (den * den);
                if (grad == null) continue;
                double cj = scale * 2 * a * q / (den * den);             // coefficient of y_l in dT/dy_j, of y_j in dT/dy_l
                double cl = scale * 2 * a * a * (den - 2 * q) / (den * den * den);
                int yj = idx[j] * d, yl = idx[l] * d;
                for (int x = 0; x < d; x++) {
                    grad[yj + x] += cj * v[l * d + x];
                    grad[yl + x] += cj * v[j * d + x] + cl * v[l * d + x];
                }
            }
        return sum;
    }

    /** Solves A x = b in place (b becomes x) for symmetric positive definite A [n, n] (overwritten by its factor). */
    static void choleskySolve(double[] a, double[] b, int n) {
        for (int j = 0; j < n; j++) {
            double s = a[j * n + j];
            for (int q = 0; q < j; q++) s -= a[j * n + q] * a[j * n + q];
            double ljj = Math.sqrt(Math.max(s, 1e-300));
            a[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++) {
                double t = a[i * n + j];
                for (int q = 0; q < j; q++) t -= a[i * n + q] * a[j * n + q];
                a[i * n + j] = t / ljj;
            }
        }
        for (int i = 0; i < n; i++) {                                  // L z = b
            double s = b[i];
            for (int q = 0; q < i; q++) s -= a[i * n + q] * b[q];
            b[i] = s / a[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--) {                             // Lᵀ x = z
            double s = b[i];
            for (int q = i + 1; q < n; q++) s -= a[q * n + i] * b[q];
            b[i] = s / a[i * n + i];
        }
    }

    /**
     * The released code's form of one slot's term, for tests: modified Gram–Schmidt over the other
     * outputs with u = v/(‖v‖ + 1e-6), then Σ_u (u·y)². others [n, d], y [d].
     */
    public static double gramSchmidtProjection(double[][] others, double[] y) {
        int d = y.length;
        java.util.List<double[]> basis = new java.util.ArrayList<>();
        for (double[] o : others) {
            double[] w = o.clone();
            for (double[] u : basis) {
                double dot = 0;
                for (int x = 0; x < d; x++) dot += u[x] * w[x];
                for (int x = 0; x < d; x++) w[x] -= dot * u[x];
            }
            double norm = 0;
            for (double x : w) norm += x * x;
            norm = Math.sqrt(norm) + 1e-6;
            for (int x = 0; x < d; x++) w[x] /= norm;
            basis.add(w);
        }
        double s = 0;
        for (double[] u : basis) {
            double dot = 0;
            for (int x = 0; x < d; x++) dot += u[x] * y[x];
            s += dot * dot;
        }
        return s;
    }
}
