package moelab.eval;

import moelab.data.Batch;
import moelab.losses.VarianceLoss;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import moelab.nn.Transformer;
import moelab.ops.Softmax;
import moelab.routing.RoutingRecord;
import moelab.tensor.Tensor;
import moelab.train.EvalMetrics;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

class SpecializationProbeTest {
    static final int E = 4, K = 2, SEQ = 10, VOCAB = 20;

    static Transformer model() {
        MoeConfig moe = MoeConfig.defaults(E, K, 12).withLayers("1,2");
        return new Transformer(new ModelConfig(VOCAB, 16, 2, 3, 24, SEQ, false, 10000, 1e-5f, 0.3, moe), 5);
    }

    static List<Batch> batches() {
        Random rng = new Random(2);
        List<Batch> out = new ArrayList<>();
        for (int b = 0; b < 3; b++) {
            int n = 3 * SEQ;
            int[] in = new int[n], tg = new int[n], dom = new int[n];
            for (int i = 0; i < n; i++) {
                dom[i] = (i / SEQ + b) % 2;
                in[i] = dom[i] * 10 + rng.nextInt(10);   // the two domains use disjoint tokens
                tg[i] = rng.nextInt(VOCAB);
            }
            out.add(new Batch(in, tg, 3, SEQ, dom));
        }
        return out;
    }

    @Test
    void reportsEveryMetricPerLayerInRangeAndLeavesTheModelAlone() {
        Transformer m = model();
        List<Batch> val = batches();
        Map<String, float[]> before = new TreeMap<>();
        m.parameters().asMap().forEach((k, v) -> before.put(k, v.toArray()));
        List<RoutingRecord> routing = new ArrayList<>();
        for (Batch b : val) routing.addAll(m.forward(b.inputs(), b.tokenInfo(), false).routing());
        Map<String, Double> r = new SpecializationProbe(50, 5).measure(m, val, new EvalMetrics(0, 1.0, Map.of(), routing));

        String[] names = {"cos2", "l_o", "row_var", "col_var", "routing_var", "entropy", "top1_prob", "overlap", "silhouette", "nmi", "maxvio"};
        for (String n : names)
            for (String suffix : new String[]{".layer1", ".layer2", ""})
                assertTrue(r.containsKey("spec." + n + suffix) && Double.isFinite(r.get("spec." + n + suffix)), "spec." + n + suffix + " in " + r);
        assertFalse(r.containsKey("spec.cos2.layer0"), "block 0 is dense");
        for (String l : new String[]{".layer1", ".layer2"}) {
            assertBetween(r.get("spec.cos2" + l), 0, 1);
            assertBetween(r.get("spec.row_var" + l), 0, 1.0 / E);
            assertBetween(r.get("spec.entropy" + l), 0, Math.log(E));
            assertBetween(r.get("spec.top1_prob" + l), 1.0 / E, 1);
            assertBetween(r.get("spec.overlap" + l), 0, 1);
            assertBetween(r.get("spec.silhouette" + l), -1, 1);
            assertBetween(r.get("spec.nmi" + l), 0, 1);
            assertBetween(r.get("spec.maxvio" + l), 0, E - 1);
        }
        // row variance agrees with the loss on the same probabilities (layer 1 records: every other one)
        double sum = 0;
        int n = 0;
        for (RoutingRecord rec : routing)
            if (rec.layer() == 1) {
                sum += VarianceLoss.variance(Tensor.of(rec.probs(), rec.tokens(), E), "per_token").item() * rec.tokens();
                n += rec.tokens();
            }
        assertEquals(sum / n, r.get("spec.row_var.layer1"), 1e-6);
        m.parameters().asMap().forEach((k, v) -> assertArrayEquals(before.get(k), v.toArray(), k));
        assertNull(m.expertLosses().setObserver(null), "the probe removed its observer");
    }

    @Test
    void nmiIsOneForAPerfectMappingAndZeroForIndependence() {
        Map<Long, long[]> perfect = new TreeMap<>(), indep = new TreeMap<>();
        perfect.put((0L << 32) | 1, new long[]{5});
        perfect.put((3L << 32) | 0, new long[]{5});
        for (long e = 0; e < 2; e++) for (long d = 0; d < 3; d++) indep.put((e << 32) | d, new long[]{4});
        assertEquals(1.0, SpecializationProbe.nmi(perfect), 1e-12);
        assertEquals(0.0, SpecializationProbe.nmi(indep), 1e-12);
    }

    @Test
    void separatedClustersHaveNoOverlapAndHighSilhouette() {
        Random rng = new Random(1);
        List<float[]> pts = new ArrayList<>();
        List<Integer> good = new ArrayList<>(), mixed = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            int c = i % 2;
            pts.add(new float[]{c == 0 ? 1f : 0.01f * (float) rng.nextGaussian(), c == 1 ? 1f : 0.01f * (float) rng.nextGaussian(), 0.01f * (float) rng.nextGaussian()});
            good.add(c);
            mixed.add((i / 2) % 2);
        }
        SpecializationProbe p = new SpecializationProbe(40, 5);
        double[] g = p.overlapAndSilhouette(pts, good), x = p.overlapAndSilhouette(pts, mixed);
        assertEquals(0.0, g[0], 1e-12);
        assertTrue(g[1] > 0.9, "silhouette " + g[1]);
        assertTrue(x[0] > 0.3 && x[1] < 0.1, "labels unrelated to the clusters: " + x[0] + ", " + x[1]);
    }

    static void assertBetween(double v, double lo, double hi) {
        assertTrue(v >= lo - 1e-9 && v <= hi + 1e-9, v + " not in [" + lo + ", " + hi + "]");
    }
}
