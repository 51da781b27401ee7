package moelab.eval;

import moelab.tensor.NoGrad;
import moelab.data.Batch;
import moelab.nn.MoeFeedForward;
import moelab.nn.Transformer;
import moelab.ops.Activations;
import moelab.ops.CrossEntropy;
import moelab.ops.Elementwise;
import moelab.ops.Join;
import moelab.ops.MatMul;
import moelab.routing.Router;
import moelab.routing.Routing;
import moelab.routing.RoutingInput;
import moelab.routing.RoutingRecord;
import moelab.tensor.Tensor;
import moelab.train.EvalMetrics;
import moelab.train.EvalProbe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pseudo-balance and specialization diagnostics of memory-aware routing (spec §3), measured with
 * eval routing on a fixed probe set: the first {@code probeBatches} validation batches.
 *
 * <ul>
 *   <li>{@code mar.switch_rate}: share of (token, layer) pairs whose top-k expert set changed since
 *       the previous evaluation; {@code mar.consistency}: their mean Jaccard overlap (NaN at the first).</li>
 *   <li>{@code mar.routing_entropy}: mean over tokens and layers of H(softmax z) in nats;
 *       {@code mar.routing_entropy_norm}: the same / ln E.</li>
 *   <li>{@code mar.ked_top1}: KED, (L_masked - L)/L with L the probe set's cross-entropy and L_masked
 *       the same with each token's top-1 expert (under unmasked routing, per layer) removed from its
 *       candidates, the token re-routed among the rest; {@code mar.ked_topk}: all k removed. NaN when
 *       too few experts remain (E - masked < k).</li>
 *   <li>{@code mar.load_std_pct} (std of the experts' shares of routed slots, in %),
 *       {@code mar.max_vio} (max load / mean load - 1), {@code mar.min_load_pct}: means over layers;
 *       {@code mar.dead_experts}: (layer, expert) pairs with no route on the probe set.</li>
 *   <li>{@code mar.expert_output_cos}: mean pairwise cosine of the E experts' outputs on the same
 *       inputs (the first {@code similarityTokens} probe tokens), mean over layers, and per layer
 *       {@code mar.expert_output_cos.l<layer>}.</li>
 * </ul>
 * Masking is a temporary router decorator installed with {@link MoeFeedForward#swapRouter} and
 * removed in a finally block; eval routing neither reads nor writes router state, and the
 * parameters are only read.
 */
public final class MarProbe implements EvalProbe {
    private final int probeBatches, similarityTokens;
    private List<int[]> previousSets;   // per (batch, layer): sorted top-k sets, [T*k]

    public MarProbe(int probeBatches, int similarityTokens) {
        if (probeBatches < 1) throw new IllegalArgumentException("MarProbe: probe batches must be >= 1, got " + probeBatches);
        if (similarityTokens < 1) throw new IllegalArgumentException("MarProbe: similarity tokens must be >= 1, got " + similarityTokens);
        this.probeBatches = probeBatches;
        this.similarityTokens = similarityTokens;
    }

    /** One probe batch, 256 tokens for the expert-output similarity. */
    public MarProbe() { this(1, 256); }

    @Override
    public Map<String, Double> measure(Transformer model, List<Batch> validation, EvalMetrics base) {
        Map<String, Double> out = new LinkedHashMap<>();
        List<Batch> probe = validation.subList(0, Math.min(probeBatches, validation.size()));
        List<MoeFeedForward> layers = model.moeLayers();
        if (probe.isEmpty() || layers.isEmpty()) return out;
        try (NoGrad ng = NoGrad.enter()) {
            // Unmasked pass: loss, routing records, and the router inputs of the first batch.
            Capture capture = new Capture(layers.size());
            List<List<RoutingRecord>> records = new ArrayList<>();
            double loss = runWith(model, layers, probe, capture, records);

            routingMetrics(records, out);
            loadMetrics(records, out);
            int experts = records.get(0).get(0).experts(), k = records.get(0).get(0).topK();
            double lTop1 = experts - 1 >= k ? runWith(model, layers, probe, new Mask(records, 1), null) : Double.NaN;
            double lTopK = experts - k >= k ? runWith(model, layers, probe, new Mask(records, k), null) : Double.NaN;
            out.put("mar.ked_top1", (lTop1 - loss) / loss);
            out.put("mar.ked_topk", (lTopK - loss) / loss);
            expertSimilarity(model, layers, capture, out);
        }
        return out;
    }

    /** What a probe pass installs around each layer's router. */
    private interface Wrap {
        Router wrap(int moeIndex, Router inner);
        default void beginBatch(int batch) {}
    }

    /** Runs the probe set with every MoE router wrapped; mean token cross-entropy. Restores the routers. */
    private static double runWith(Transformer model, List<MoeFeedForward> layers, List<Batch> probe, Wrap wrap,
                                  List<List<RoutingRecord>> records) {
        Router[] originals = new Router[layers.size()];
        try {
            for (int l = 0; l < layers.size(); l++) {
                originals[l] = layers.get(l).router();
                layers.get(l).swapRouter(wrap.wrap(l, originals[l]));
            }
            double sum = 0;
            long count = 0;
            for (int b = 0; b < probe.size(); b++) {
                Batch batch = probe.get(b);
                wrap.beginBatch(b);
                Transformer.Output o = model.forward(batch.inputs(), batch.tokenInfo(), false);
                if (records != null) records.add(o.routing());
                int n = 0;
                for (int t : batch.targets()) if (t != CrossEntropy.IGNORE) n++;
                sum += (double) CrossEntropy.crossEntropy(o.logits(), batch.targets()).item() * n;
                count += n;
            }
            return count == 0 ? Double.NaN : sum / count;
        } finally {
            for (int l = 0; l < layers.size(); l++) if (originals[l] != null) layers.get(l).swapRouter(originals[l]);
        }
    }

    /** Records the router input x of each layer for the first batch. */
    private static final class Capture implements Wrap {
        final Tensor[] hidden;
        int batch;
        Capture(int layers) { hidden = new Tensor[layers]; }
        @Override public void beginBatch(int b) { batch = b; }
        @Override public Router wrap(int moeIndex, Router inner) {
            return new Delegate(inner) {
                @Override public Routing route(RoutingInput in) {
                    if (batch == 0) hidden[moeIndex] = in.hidden();
                    return inner.route(in);
                }
            };
        }
    }

    /** Removes, per token and layer, the first `masked` experts the unmasked pass selected (logit -> -inf). */
    private static final class Mask implements Wrap {
        final List<List<RoutingRecord>> unmasked;
        final int masked;
        int batch;
        Mask(List<List<RoutingRecord>> unmasked, int masked) { this.unmasked = unmasked; this.masked = masked; }
        @Override public void beginBatch(int b) { batch = b; }
        @Override public Router wrap(int moeIndex, Router inner) {
            return new Delegate(inner) {
                @Override public Routing route(RoutingInput in) {
                    RoutingRecord rec = unmasked.get(batch).get(moeIndex);
                    int t = in.numTokens(), e = in.numExperts(), k = rec.topK();
                    float[] add = new float[t * e];
                    for (int i = 0; i < t; i++)
                        for (int j = 0; j < masked; j++) add[i * e + rec.selected()[i * k + j]] = Float.NEGATIVE_INFINITY;
                    Tensor z = Elementwise.add(in.logits(), Tensor.of(add, t, e));
                    return inner.route(new RoutingInput(in.layer(), in.hidden(), z, in.topK(), in.tokens(), in.training()));
                }
            };
        }
    }

    private abstract static class Delegate implements Router {
        final Router inner;
        Delegate(Router inner) { this.inner = inner; }
        @Override public String name() { return inner.name(); }
        @Override public void endStep() { throw new IllegalStateException("MarProbe: a probe router must not see an optimizer step"); }
        @Override public Map<String, float[]> state() { return inner.state(); }
        @Override public void loadState(Map<String, float[]> s) { throw new IllegalStateException("MarProbe: a probe router must not load state"); }
    }

    // ------------------------------------------------------------------ metrics

    private void routingMetrics(List<List<RoutingRecord>> records, Map<String, Double> out) {
        double hSum = 0, hNormSum = 0;
        long hCount = 0;
        List<int[]> sets = new ArrayList<>();
        for (List<RoutingRecord> batch : records)
            for (RoutingRecord r : batch) {
                int t = r.tokens(), e = r.experts(), k = r.topK();
                if (r.probs() != null)
                    for (int i = 0; i < t; i++) {
                        double h = 0;
                        for (int j = 0; j < e; j++) {
                            double p = r.probs()[i * e + j];
                            if (p > 0) h -= p * Math.log(p);
                        }
                        hSum += h;
                        hNormSum += e > 1 ? h / Math.log(e) : Double.NaN;
                        hCount++;
                    }
                int[] s = r.selected().clone();
                for (int i = 0; i < t; i++) Arrays.sort(s, i * k, (i + 1) * k);
                sets.add(s);
            }
        out.put("mar.routing_entropy", hCount == 0 ? Double.NaN : hSum / hCount);
        out.put("mar.routing_entropy_norm", hCount == 0 ? Double.NaN : hNormSum / hCount);
        double switches = 0, jaccard = 0;
        long pairs = 0;
        boolean comparable = previousSets != null && previousSets.size() == sets.size();
        for (int b = 0; comparable && b < sets.size(); b++) comparable = previousSets.get(b).length == sets.get(b).length;
        if (comparable) {
            int idx = 0;
            for (List<RoutingRecord> batch : records)
                for (RoutingRecord r : batch) {
                    int[] now = sets.get(idx), before = previousSets.get(idx);
                    idx++;
                    int k = r.topK();
                    for (int i = 0; i < r.tokens(); i++) {
                        int inter = 0;
                        for (int a = 0; a < k; a++)
                            for (int c = 0; c < k; c++) if (now[i * k + a] == before[i * k + c]) { inter++; break; }
                        jaccard += (double) inter / (2 * k - inter);
                        if (inter < k) switches++;
                        pairs++;
                    }
                }
        }
        out.put("mar.switch_rate", pairs == 0 ? Double.NaN : switches / pairs);
        out.put("mar.consistency", pairs == 0 ? Double.NaN : jaccard / pairs);
        previousSets = sets;
    }

    private static void loadMetrics(List<List<RoutingRecord>> records, Map<String, Double> out) {
        int layers = records.get(0).size();
        double std = 0, vio = 0, min = 0, dead = 0;
        for (int l = 0; l < layers; l++) {
            int e = records.get(0).get(l).experts();
            long[] counts = new long[e];
            long slots = 0;
            for (List<RoutingRecord> batch : records) {
                long[] c = batch.get(l).requestedCounts();
                for (int i = 0; i < e; i++) { counts[i] += c[i]; slots += c[i]; }
            }
            double mean = 100.0 / e, var = 0, lo = Double.MAX_VALUE;
            long max = 0;
            for (long c : counts) {
                double share = slots == 0 ? 0 : 100.0 * c / slots;
                var += (share - mean) * (share - mean);
                lo = Math.min(lo, share);
                max = Math.max(max, c);
                if (c == 0) dead++;
            }
            std += Math.sqrt(var / e);
            vio += slots == 0 ? Double.NaN : max / ((double) slots / e) - 1;
            min += lo;
        }
        out.put("mar.load_std_pct", std / layers);
        out.put("mar.max_vio", vio / layers);
        out.put("mar.min_load_pct", min / layers);
        out.put("mar.dead_experts", dead);
    }

    /** Mean pairwise cosine of the experts' SwiGLU outputs on the same router inputs x. */
    private void expertSimilarity(Transformer model, List<MoeFeedForward> layers, Capture capture, Map<String, Double> out) {
        double all = 0;
        int n = 0;
        Map<String, Double> perLayer = new LinkedHashMap<>();
        for (int l = 0; l < layers.size(); l++) {
            Tensor x = capture.hidden[l];
            if (x == null || x.dim(0) == 0) continue;
            int layer = layers.get(l).layer();
            String p = "layers." + layer + ".moe.";
            Tensor w1 = model.parameters().get(p + "w1"), w3 = model.parameters().get(p + "w3"), w2 = model.parameters().get(p + "w2");
            int e = w1.dim(0), d = w1.dim(1), f = w1.dim(2), t = Math.min(similarityTokens, x.dim(0));
            Tensor xs = Join.narrow(x, 0, 0, t);
            float[][] y = new float[e][];
            for (int i = 0; i < e; i++) {
                Tensor h = Activations.swiglu(MatMul.matmul(xs, Join.narrow(w1, 0, i, 1).reshape(d, f)),
                        MatMul.matmul(xs, Join.narrow(w3, 0, i, 1).reshape(d, f)));
                y[i] = MatMul.matmul(h, Join.narrow(w2, 0, i, 1).reshape(f, d)).toArray();   // [t, d]
            }
            double sum = 0;
            long pairs = 0;
            for (int a = 0; a < e; a++)
                for (int b = a + 1; b < e; b++)
                    for (int tok = 0; tok < t; tok++) {
                        double dot = 0, na = 0, nb = 0;
                        for (int j = 0; j < d; j++) {
                            double va = y[a][tok * d + j], vb = y[b][tok * d + j];
                            dot += va * vb; na += va * va; nb += vb * vb;
                        }
                        sum += dot / Math.max(Math.sqrt(na * nb), 1e-12);
                        pairs++;
                    }
            double c = pairs == 0 ? Double.NaN : sum / pairs;
            perLayer.put("mar.expert_output_cos.l" + layer, c);
            if (pairs > 0) { all += c; n++; }
        }
        out.put("mar.expert_output_cos", n == 0 ? Double.NaN : all / n);
        out.putAll(perLayer);
    }
}
