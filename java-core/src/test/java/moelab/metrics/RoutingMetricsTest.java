package moelab.metrics;

import moelab.eval.RoutingMetricsProbe;
import moelab.routing.RoutingRecord;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class RoutingMetricsTest {

    /** A dropless record: selected[t*k + j], one domain per token. */
    static RoutingRecord rec(int layer, int experts, int k, int[] selected, int[] domains) {
        boolean[] kept = new boolean[selected.length];
        Arrays.fill(kept, true);
        return new RoutingRecord(layer, selected.length / k, experts, k, selected, kept, null, domains);
    }

    /** Reference routing: E=32, D=8, k=4; domain d uses its block of 4 experts, every token all 4 of them. */
    @Test
    void referenceRoutingIsExactlyPureAndBalanced() {
        int e = 32, d = 8, k = 4, perDomain = 13;
        List<RoutingRecord> recs = new ArrayList<>();
        for (int layer = 0; layer < 3; layer++) {
            int[] sel = new int[d * perDomain * k], dom = new int[d * perDomain];
            for (int t = 0; t < dom.length; t++) {
                dom[t] = t % d;
                for (int j = 0; j < k; j++) sel[t * k + j] = dom[t] * (e / d) + (j + t) % k;
            }
            recs.add(rec(layer, e, k, sel, dom));
        }
        RoutingMetrics.Summary s = RoutingMetrics.of(recs, d);
        assertEquals(1.0, s.purity());
        assertEquals(1.0, s.purityNorm());
        assertEquals(1.0, s.utilization());
        assertEquals(3, s.layers().size());
        for (RoutingMetrics.Layer l : s.layers()) {
            assertEquals(1.0, l.purity());
            assertEquals(1.0, l.utilization());
            assertEquals(0.0, l.maxVio(), 1e-12);
            assertEquals(1.0, l.expertEntropy(), 1e-12);
            assertEquals(0.0, l.dropRate());
        }
        for (double p : s.domainPurity()) assertEquals(1.0, p);
    }

    /**
     * Uniform random routing on balanced domains: purity ≈ 1/D. With m routes per expert the max of D
     * cell counts exceeds the mean by about 1.4 standard deviations (D = 8), a bias of roughly
     * 1.4·sqrt((1/D)(1 − 1/D)/m) ≈ 0.005 for m = 10 000; tolerance 0.01 (seed 7, 80 000 tokens).
     */
    @Test
    void uniformRandomRoutingHasPurityNearOneOverD() {
        int e = 32, d = 8, k = 4, tokens = 80_000;
        SplittableRandom rnd = new SplittableRandom(7);
        int[] sel = new int[tokens * k], dom = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            dom[t] = t % d;
            int[] perm = rnd.ints(0, e).distinct().limit(k).toArray();      // k distinct experts
            System.arraycopy(perm, 0, sel, t * k, k);
        }
        RoutingMetrics.Summary s = RoutingMetrics.of(List.of(rec(0, e, k, sel, dom)), d);
        assertEquals(1.0 / d, s.purity(), 0.01);
        assertEquals(0.0, s.purityNorm(), 0.012);
        assertEquals(1.0, s.utilization(), 0.02);
        assertEquals(0.0, s.nmi(), 0.01);
    }

    @Test
    void collapseOntoKExpertsGivesUtilizationKOverE() {
        int e = 16, k = 3;
        int[] sel = new int[10 * k], dom = new int[10];
        for (int t = 0; t < 10; t++) for (int j = 0; j < k; j++) sel[t * k + j] = j + 5;    // experts 5, 6, 7
        RoutingMetrics.Layer l = RoutingMetrics.layer(0, List.of(rec(0, e, k, sel, dom)), 2);
        assertEquals((double) k / e, l.utilization(), 1e-15);
        assertEquals((double) e / k - 1, l.maxVio(), 1e-12);
        assertEquals(Math.log(k) / Math.log(e), l.expertEntropy(), 1e-12);
    }

    /** Hand-computed: E=2, D=2, n = [[3,1],[0,2]] (expert 0: three d0 routes, one d1; expert 1: two d1). */
    @Test
    void handComputedSmallCase() {
        int[] sel = {0, 0, 0, 0, 1, 1}, dom = {0, 0, 0, 1, 1, 1};
        RoutingMetrics.Layer l = RoutingMetrics.layer(4, List.of(rec(4, 2, 1, sel, dom)), 2);
        assertArrayEquals(new long[]{3, 1}, l.counts()[0]);
        assertArrayEquals(new long[]{0, 2}, l.counts()[1]);
        assertEquals(5.0 / 6, l.purity(), 1e-15);                        // (3 + 2) / 6
        assertEquals((5.0 / 6 - 0.5) / 0.5, l.purityNorm(), 1e-15);       // 2/3
        assertEquals(1.0, l.domainPurity()[0], 1e-15);                    // d0's 3 routes all on expert 0 (majority d0)
        assertEquals(2.0 / 3, l.domainPurity()[1], 1e-15);                // d1: 2 of 3 on expert 1
        // f = (4/6, 2/6): U = min(4/6, 1/2) + min(2/6, 1/2) = 1/2 + 1/3
        assertEquals(0.5 + 1.0 / 3, l.utilization(), 1e-15);
        assertEquals(2 * 4.0 / 6 - 1, l.maxVio(), 1e-15);
        double h = -(4.0 / 6 * Math.log(4.0 / 6) + 2.0 / 6 * Math.log(2.0 / 6));
        assertEquals(h / Math.log(2), l.expertEntropy(), 1e-12);
        // NMI: p(x,d) = [[3,1],[0,2]]/6, H(X) = h, H(D) = ln 2
        double mi = 3.0 / 6 * Math.log((3.0 / 6) / (4.0 / 6 * 0.5)) + 1.0 / 6 * Math.log((1.0 / 6) / (4.0 / 6 * 0.5))
                + 2.0 / 6 * Math.log((2.0 / 6) / (2.0 / 6 * 0.5));
        assertEquals(mi / ((h + Math.log(2)) / 2), l.nmi(), 1e-12);
        assertEquals(4, l.layer());
    }

    @Test
    void nmiIsOneForABijectionAndZeroForIndependence() {
        assertEquals(1.0, RoutingMetrics.nmi(new long[][]{{0, 5, 0}, {7, 0, 0}, {0, 0, 2}}), 1e-12);
        assertEquals(0.0, RoutingMetrics.nmi(new long[][]{{2, 4}, {3, 6}, {5, 10}}), 1e-12);   // rank-1 table
        assertEquals(1.0, RoutingMetrics.nmi(new long[][]{{9}}));                                 // both constant: sklearn's 1
    }

    @Test
    void dropRateFromKeptFlags() {
        boolean[] kept = {true, false, true, true};
        RoutingRecord r = new RoutingRecord(0, 2, 4, 2, new int[]{0, 1, 2, 3}, kept, null, new int[]{0, 1});
        assertEquals(0.25, RoutingMetrics.layer(0, List.of(r), 2).dropRate());
        RoutingRecord r2 = new RoutingRecord(1, 2, 4, 2, new int[]{0, 1, 2, 3}, new boolean[]{false, false, true, true}, null, null);
        assertEquals(3.0 / 8, RoutingMetrics.stepDropRate(List.of(r, r2)));
        assertTrue(Double.isNaN(RoutingMetrics.stepDropRate(List.of())));
    }

    @Test
    void emptyInputGivesNaNNotAnException() {
        RoutingMetrics.Summary s = RoutingMetrics.of(List.of(), 8);
        assertTrue(s.layers().isEmpty());
        for (double v : new double[]{s.purity(), s.purityNorm(), s.utilization(), s.expertEntropy(), s.maxVio(), s.nmi(), s.dropRate()})
            assertTrue(Double.isNaN(v));
        RoutingMetrics.Layer l = RoutingMetrics.layer(0, List.of(rec(0, 4, 1, new int[0], new int[0])), 2);
        assertTrue(Double.isNaN(l.purity()));
        assertTrue(Double.isNaN(l.utilization()));
        assertTrue(Double.isNaN(l.nmi()));
        // unlabelled tokens count for the load, not for purity
        RoutingMetrics.Layer u = RoutingMetrics.layer(0, List.of(rec(0, 2, 1, new int[]{0, 1}, null)), 2);
        assertEquals(1.0, u.utilization());
        assertTrue(Double.isNaN(u.purity()));
    }

    @Test
    void probeNamesAreStable() {
        int[] sel = {0, 0, 0, 0, 1, 1}, dom = {0, 0, 0, 1, 1, 1};
        Map<String, Double> m = RoutingMetricsProbe.scalars(
                RoutingMetrics.of(List.of(rec(0, 2, 1, sel, dom), rec(1, 2, 1, sel, dom)), 2), List.of("en", "de"));
        assertEquals(List.of("purity", "purity_norm", "utilization", "expert_entropy", "max_vio", "nmi", "drop_rate",
                "purity.en", "purity.de", "layer0.purity", "layer0.purity_norm", "layer0.utilization", "layer0.expert_entropy",
                "layer0.max_vio", "layer0.nmi", "layer0.drop_rate", "layer1.purity", "layer1.purity_norm", "layer1.utilization",
                "layer1.expert_entropy", "layer1.max_vio", "layer1.nmi", "layer1.drop_rate"), List.copyOf(m.keySet()));
        assertEquals(5.0 / 6, m.get("purity"), 1e-15);
        assertEquals(2.0 / 3, m.get("purity.de"), 1e-15);
    }
}
