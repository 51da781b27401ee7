package moelab.eval;

import moelab.data.Batch;
import moelab.losses.ExpertLosses;
import moelab.losses.OrthogonalityLoss;
import moelab.nn.Transformer;
import moelab.routing.Router;
import moelab.routing.RoutingRecord;
import moelab.tensor.Tensor;
import moelab.train.EvalMetrics;
import moelab.train.EvalProbe;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Expert-specialization statistics of Guo et al. (arXiv 2505.22323) per MoE layer, on the
 * validation slice the trainer evaluated (one extra eval-mode forward, no tape). Names are
 * {@code spec.<metric>.layer<i>}, plus {@code spec.<metric>} = the mean over layers:
 * <ul>
 *   <li>{@code cos2}: mean cos² between the unweighted outputs of co-selected experts (unordered pairs of a token);</li>
 *   <li>{@code l_o}: the raw orthogonality loss in the configured mode (mean over slots);</li>
 *   <li>{@code row_var}: per-token unbiased variance of the router probabilities (the code's L_v);</li>
 *   <li>{@code col_var}: paper Eq. 7 column variance over the slice, (1/(T E)) Σ_t Σ_j (s_tj − s̄_j)²;</li>
 *   <li>{@code routing_var}: paper Eq. 42, (1/E) Σ_j (s̄_j − 1/E)² (an imbalance measure, not sharpness);</li>
 *   <li>{@code entropy}: mean router entropy in nats; {@code top1_prob}: mean largest probability;</li>
 *   <li>{@code overlap}: kNN expert overlap, the share of each point's {@link #neighbours} nearest
 *       neighbours (cosine distance) whose top-1 expert differs, and {@code silhouette} (cosine
 *       distance, labels = top-1 expert), both on at most {@link #points} router-input hidden states
 *       taken at evenly spaced token positions of the slice (deterministic);</li>
 *   <li>{@code nmi}: NMI(top-1 expert; domain), arithmetic-mean normalisation (I / ((H_e + H_d)/2));</li>
 *   <li>{@code maxvio}: (max_j load_j − mean load) / mean load of the routes over the slice.</li>
 * </ul>
 * Also {@code spec.orth_coef} / {@code spec.var_coef} (the coefficients in use, after auto-scale)
 * and {@code spec.train_l_o.layer<i>} / {@code spec.train_l_v.layer<i>} (raw values of the last
 * training forward) when the losses are on. Router state is saved before and restored after.
 */
public final class SpecializationProbe implements EvalProbe {
    private final int points, neighbours;

    public SpecializationProbe() { this(1024, 10); }

    /** points: hidden states sampled for overlap and silhouette; neighbours: k' of the overlap. */
    public SpecializationProbe(int points, int neighbours) {
        if (points < 2 || neighbours < 1)
            throw new IllegalArgumentException("SpecializationProbe: points " + points + " must be >= 2 and neighbours " + neighbours + " >= 1");
        this.points = points;
        this.neighbours = neighbours;
    }

    /** Running sums of one layer. */
    private static final class Layer {
        int experts = -1, domains;
        long tokens, pairs, slotsKept;
        double cos2, lo, rowVar, entropy, top1;
        double[] colSum, colSq;
        long[] load;
        Map<Long, long[]> joint = new TreeMap<>(); // (expert, domain) -> count, domains may be absent
        boolean haveDomains = true, haveProbs = true;
        List<float[]> sample = new ArrayList<>();
        List<Integer> sampleLabel = new ArrayList<>();
    }

    @Override
    public Map<String, Double> measure(Transformer model, List<Batch> validation, EvalMetrics base) {
        ExpertLosses losses = model.expertLosses();
        String orthMode = losses.config().orthMode();
        long total = 0;
        for (Batch b : validation) total += (long) b.batch() * b.seqLen();
        long[] sampleAt = new long[(int) Math.min(points, total)];
        for (int i = 0; i < sampleAt.length; i++) sampleAt[i] = i * total / sampleAt.length;

        Map<Integer, Layer> layers = new TreeMap<>();
        long[] offset = {0};
        List<Map<String, float[]>> routerState = new ArrayList<>();
        for (Router r : model.routers()) routerState.add(copy(r.state()));
        ExpertLosses.Observer prev = losses.setObserver((layer, x, slots, rec) ->
                observe(layers.computeIfAbsent(layer, l -> new Layer()), x, slots, rec, orthMode, offset[0], sampleAt));
        try {
            for (Batch b : validation) {
                model.forward(b.inputs(), b.tokenInfo(), false);
                offset[0] += (long) b.batch() * b.seqLen();
            }
        } finally {
            losses.setObserver(prev);
            List<Router> rs = model.routers();
            for (int i = 0; i < rs.size(); i++) rs.get(i).loadState(routerState.get(i));
        }

        Map<String, Double> out = new LinkedHashMap<>();
        Map<String, double[]> means = new LinkedHashMap<>();
        for (Map.Entry<Integer, Layer> e : layers.entrySet()) {
            Map<String, Double> m = finish(e.getValue());
            for (Map.Entry<String, Double> v : m.entrySet()) {
                out.put("spec." + v.getKey() + ".layer" + e.getKey(), v.getValue());
                double[] acc = means.computeIfAbsent(v.getKey(), k -> new double[2]);
                if (!Double.isNaN(v.getValue())) { acc[0] += v.getValue(); acc[1]++; }
            }
        }
        for (Map.Entry<String, double[]> e : means.entrySet())
            out.put("spec." + e.getKey(), e.getValue()[1] == 0 ? Double.NaN : e.getValue()[0] / e.getValue()[1]);
        if (losses.active()) {
            out.put("spec.orth_coef", losses.orthCoef());
            out.put("spec.var_coef", losses.varCoef());
            for (ExpertLosses.Values v : losses.lastValues().values()) {
                out.put("spec.train_l_o.layer" + v.layer(), v.orth());
                out.put("spec.train_l_v.layer" + v.layer(), v.var());
            }
        }
        return out;
    }

    private static Map<String, float[]> copy(Map<String, float[]> m) {
        Map<String, float[]> c = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : m.entrySet()) c.put(e.getKey(), e.getValue().clone());
        return c;
    }

    private void observe(Layer acc, Tensor x, Supplier<Tensor> slots, RoutingRecord rec, String orthMode, long offset, long[] sampleAt) {
        int t = rec.tokens(), e = rec.experts(), k = rec.topK();
        float[] s = rec.probs();
        if (acc.experts < 0) {
            acc.experts = e;
            acc.colSum = new double[e];
            acc.colSq = new double[e];
            acc.load = new long[e];
        }
        int[] top1 = new int[t];
        if (s != null) {
            for (int i = 0; i < t; i++) {
                double rowSum = 0, var = 0, h = 0;
                int arg = 0;
                for (int j = 0; j < e; j++) rowSum += s[i * e + j];
                double mean = rowSum / e;
                for (int j = 0; j < e; j++) {
                    double p = s[i * e + j];
                    var += (p - mean) * (p - mean);
                    if (p > 0) h -= p * Math.log(p);
                    if (p > s[i * e + arg]) arg = j;
                    acc.colSum[j] += p;
                    acc.colSq[j] += p * p;
                }
                acc.rowVar += e > 1 ? var / (e - 1) : 0;
                acc.entropy += h;
                acc.top1 += s[i * e + arg];
                top1[i] = arg;
            }
        } else {
            acc.haveProbs = false;
            for (int i = 0; i < t; i++) top1[i] = rec.selected()[i * k];
        }
        for (int sl = 0; sl < rec.selected().length; sl++) if (rec.kept()[sl]) acc.load[rec.selected()[sl]]++;
        int[] dom = rec.domains();
        if (dom == null) acc.haveDomains = false;
        else for (int i = 0; i < t; i++) acc.joint.computeIfAbsent(((long) top1[i] << 32) | dom[i], key -> new long[1])[0]++;
        acc.tokens += t;

        Tensor y = slots.get();
        if (y != null) {
            Tensor yc = y.contiguous();
            float[] yd = yc.data();
            int yo = yc.offset(), d = y.dim(1);
            for (int i = 0; i < t; i++)
                for (int a = 0; a < k; a++)
                    for (int b = a + 1; b < k; b++) {
                        int sa = i * k + a, sb = i * k + b;
                        if (!rec.kept()[sa] || !rec.kept()[sb]) continue;
                        double dot = 0, na = 0, nb = 0;
                        for (int c = 0; c < d; c++) {
                            double u = yd[yo + sa * d + c], v = yd[yo + sb * d + c];
                            dot += u * v; na += u * u; nb += v * v;
                        }
                        acc.cos2 += na > 0 && nb > 0 ? dot * dot / (na * nb) : 0;
                        acc.pairs++;
                    }
            int kept = 0;
            for (boolean b : rec.kept()) if (b) kept++;
            acc.lo += OrthogonalityLoss.loss(y, k, rec.kept(), orthMode).item() * kept;
            acc.slotsKept += kept;
        }

        Tensor xc = x.contiguous();
        int d = x.dim(1);
        for (long g : sampleAt) {
            if (g < offset || g >= offset + t) continue;
            int i = (int) (g - offset);
            float[] row = new float[d];
            System.arraycopy(xc.data(), xc.offset() + i * d, row, 0, d);
            acc.sample.add(row);
            acc.sampleLabel.add(top1[i]);
        }
    }

    private Map<String, Double> finish(Layer a) {
        Map<String, Double> m = new LinkedHashMap<>();
        int e = a.experts;
        double nan = Double.NaN;
        m.put("cos2", a.pairs == 0 ? nan : a.cos2 / a.pairs);
        m.put("l_o", a.slotsKept == 0 ? nan : a.lo / a.slotsKept);
        boolean probs = a.tokens > 0 && a.haveProbs;
        m.put("row_var", probs ? a.rowVar / a.tokens : nan);
        double col = 0, eq42 = 0;
        for (int j = 0; j < e; j++) {
            double mean = a.colSum[j] / a.tokens;
            col += a.colSq[j] / a.tokens - mean * mean;
            eq42 += (mean - 1.0 / e) * (mean - 1.0 / e);
        }
        m.put("col_var", probs ? col / e : nan);
        m.put("routing_var", probs ? eq42 / e : nan);
        m.put("entropy", probs ? a.entropy / a.tokens : nan);
        m.put("top1_prob", probs ? a.top1 / a.tokens : nan);
        double[] os = overlapAndSilhouette(a.sample, a.sampleLabel);
        m.put("overlap", os[0]);
        m.put("silhouette", os[1]);
        m.put("nmi", a.haveDomains ? nmi(a.joint) : nan);
        long sum = 0, max = 0;
        for (long l : a.load) { sum += l; max = Math.max(max, l); }
        double meanLoad = (double) sum / e;
        m.put("maxvio", sum == 0 ? nan : (max - meanLoad) / meanLoad);
        return m;
    }

    /** [kNN overlap, silhouette] under cosine distance; NaN where undefined (too few points, one label). */
    double[] overlapAndSilhouette(List<float[]> pts, List<Integer> labels) {
        int n = pts.size();
        if (n < 2) return new double[]{Double.NaN, Double.NaN};
        int d = pts.get(0).length;
        double[][] unit = new double[n][d];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (float v : pts.get(i)) norm += (double) v * v;
            norm = Math.sqrt(norm);
            for (int c = 0; c < d; c++) unit[i][c] = norm > 0 ? pts.get(i)[c] / norm : 0;
        }
        double[][] dist = new double[n][n];
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) {
                double dot = 0;
                for (int c = 0; c < d; c++) dot += unit[i][c] * unit[j][c];
                dist[i][j] = dist[j][i] = 1 - dot;
            }
        int kn = Math.min(neighbours, n - 1);
        double overlap = 0;
        Integer[] order = new Integer[n - 1];
        for (int i = 0; i < n; i++) {
            for (int j = 0, o = 0; j < n; j++) if (j != i) order[o++] = j;
            final double[] row = dist[i];
            java.util.Arrays.sort(order, (p, q) -> { int c = Double.compare(row[p], row[q]); return c != 0 ? c : Integer.compare(p, q); });
            int diff = 0;
            for (int q = 0; q < kn; q++) if (!labels.get(order[q]).equals(labels.get(i))) diff++;
            overlap += (double) diff / kn;
        }
        overlap /= n;

        Map<Integer, Integer> sizes = new TreeMap<>();
        for (int l : labels) sizes.merge(l, 1, Integer::sum);
        double sil = Double.NaN;
        if (sizes.size() >= 2) {
            List<Integer> ids = new ArrayList<>(sizes.keySet());
            double sum = 0;
            double[] meanTo = new double[ids.size()];
            for (int i = 0; i < n; i++) {
                java.util.Arrays.fill(meanTo, 0);
                for (int j = 0; j < n; j++) if (j != i) meanTo[ids.indexOf(labels.get(j))] += dist[i][j];
                int own = ids.indexOf(labels.get(i));
                int ownSize = sizes.get(labels.get(i));
                if (ownSize == 1) continue; // s = 0 for a singleton cluster (the usual convention)
                double aIn = meanTo[own] / (ownSize - 1), b = Double.POSITIVE_INFINITY;
                for (int c = 0; c < ids.size(); c++) if (c != own) b = Math.min(b, meanTo[c] / sizes.get(ids.get(c)));
                double den = Math.max(aIn, b);
                sum += den > 0 ? (b - aIn) / den : 0;
            }
            sil = sum / n;
        }
        return new double[]{overlap, sil};
    }

    /** NMI of a joint count table keyed (expert << 32 | domain): I / ((H_e + H_d) / 2); NaN when both entropies are 0. */
    static double nmi(Map<Long, long[]> joint) {
        Map<Integer, Long> pe = new TreeMap<>(), pd = new TreeMap<>();
        long n = 0;
        for (Map.Entry<Long, long[]> en : joint.entrySet()) {
            int ex = (int) (en.getKey() >>> 32), dm = (int) (long) en.getKey();
            long c = en.getValue()[0];
            pe.merge(ex, c, Long::sum);
            pd.merge(dm, c, Long::sum);
            n += c;
        }
        if (n == 0) return Double.NaN;
        double he = entropy(pe.values(), n), hd = entropy(pd.values(), n), mi = 0;
        for (Map.Entry<Long, long[]> en : joint.entrySet()) {
            int ex = (int) (en.getKey() >>> 32), dm = (int) (long) en.getKey();
            double pxy = (double) en.getValue()[0] / n, px = (double) pe.get(ex) / n, py = (double) pd.get(dm) / n;
            mi += pxy * Math.log(pxy / (px * py));
        }
        return he + hd == 0 ? Double.NaN : Math.max(0, mi) / ((he + hd) / 2);
    }

    private static double entropy(java.util.Collection<Long> counts, long n) {
        double h = 0;
        for (long c : counts) if (c > 0) { double p = (double) c / n; h -= p * Math.log(p); }
        return h;
    }
}
