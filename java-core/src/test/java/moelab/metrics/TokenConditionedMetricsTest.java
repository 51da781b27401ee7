package moelab.metrics;

import moelab.data.Batch;
import moelab.eval.RoutingMetricsProbe;
import moelab.routing.RoutingRecord;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static moelab.metrics.RoutingMetricsTest.rec;
import static org.junit.jupiter.api.Assertions.*;

/** Token-conditioned purity and NMI on crafted routings (E = 2, k = 1, D = 2, tokens A = 1 and B = 2) with hand-computed values. */
class TokenConditionedMetricsTest {
    static final int A = 1, B = 2;

    private static TokenConditionedMetrics.Layer one(int[] tokens, int[] domains, int[] experts) {
        return TokenConditionedMetrics.layer(0, List.of(rec(0, 2, 1, experts, domains)), List.of(tokens), 2);
    }

    @Test
    void routingByTokenIdentityScoresZeroThoughPlainNmiIsPositive() {
        // A: 3x in d0, 1x in d1, always e0; B: 1x in d0, 3x in d1, always e1
        int[] tok = {A, A, A, A, B, B, B, B}, dom = {0, 0, 0, 1, 0, 1, 1, 1}, ex = {0, 0, 0, 0, 1, 1, 1, 1};
        TokenConditionedMetrics.Layer l = one(tok, dom, ex);
        assertEquals(0.0, l.condNmi(), 1e-12, "within each token the expert is constant: no information about the domain");
        assertTrue(RoutingMetrics.nmi(new long[][]{{3, 1}, {1, 3}}) > 0.15, "plain NMI credits the token-driven split");
        assertEquals(0.75, l.sharedPurity(), 1e-12, "(3 + 3) / 8");
        assertEquals(0.75, l.tokenPurity(), 1e-12, "A: e0 max 3; B: e1 max 3");
        assertEquals(0.75, l.tokenPurityBase(), 1e-12, "what any token-only router gets: routing adds nothing");
        assertEquals(1.0, l.sharedShare(), 1e-12);
    }

    @Test
    void domainRoutingWithinASharedTokenScoresOne() {
        // A: d0 -> e0 twice, d1 -> e1 twice; B only in d0 -> e0 twice (not shared, no conditional information)
        int[] tok = {A, A, A, A, B, B}, dom = {0, 0, 1, 1, 0, 0}, ex = {0, 0, 1, 1, 0, 0};
        TokenConditionedMetrics.Layer l = one(tok, dom, ex);
        assertEquals(1.0, l.condNmi(), 1e-12);
        assertEquals(1.0, l.sharedPurity(), 1e-12);
        assertEquals(1.0, l.tokenPurity(), 1e-12);
        assertEquals(0.5, l.tokenPurityBase(), 1e-12, "A splits 2 / 2 over the domains");
        assertEquals(4.0 / 6, l.sharedShare(), 1e-12);
    }

    @Test
    void partialDependenceMatchesTheClosedForm() {
        // A: (e0,d0) x2, (e0,d1) x1, (e1,d1) x1; B in d0 only, e0 x2 (adds nothing to any conditional term)
        int[] tok = {A, A, A, A, B, B}, dom = {0, 0, 1, 1, 0, 0}, ex = {0, 0, 0, 1, 0, 0};
        TokenConditionedMetrics.Layer l = one(tok, dom, ex);
        double mi = 0.5 * Math.log(4.0 / 3) + 0.25 * Math.log(2.0 / 3) + 0.25 * Math.log(2);   // within A
        double hd = Math.log(2), hx = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
        assertEquals(mi / ((hd + hx) / 2), l.condNmi(), 1e-12);                                 // = 0.3437...
        assertEquals(0.34371, l.condNmi(), 1e-5);
        assertEquals(0.75, l.tokenPurity(), 1e-12, "A: e0 max(2,1) + e1 max(0,1) = 3 of 4");
        assertEquals(0.5, l.tokenPurityBase(), 1e-12);
    }

    @Test
    void undefinedWithoutSharedTokensOrLabels() {
        TokenConditionedMetrics.Layer l = one(new int[]{A, B}, new int[]{0, 1}, new int[]{0, 1});
        assertTrue(Double.isNaN(l.condNmi()), "every token in one domain, routed one way: nothing to condition on");
        assertTrue(Double.isNaN(l.sharedPurity()));
        assertEquals(0.0, l.sharedShare());
        TokenConditionedMetrics.Layer unlabeled = TokenConditionedMetrics.layer(0, List.of(rec(0, 2, 1, new int[]{0, 1}, null)),
                List.of(new int[]{A, A}), 2);
        assertTrue(Double.isNaN(unlabeled.condNmi()));
    }

    @Test
    void probeZipsRecordsWithTheirBatchesTokenIdsPerLayer() {
        // two batches of 4 tokens, two layers: records come batch by batch, one per layer
        Batch b0 = new Batch(new int[]{A, A, A, A}, new int[]{0, 0, 0, 0}, 1, 4, new int[]{0, 0, 1, 1});
        Batch b1 = new Batch(new int[]{B, B, B, B}, new int[]{0, 0, 0, 0}, 1, 4, new int[]{0, 0, 0, 0});
        List<RoutingRecord> records = List.of(
                rec(0, 2, 1, new int[]{0, 0, 1, 1}, b0.domains()), rec(1, 2, 1, new int[]{0, 0, 0, 0}, b0.domains()),
                rec(0, 2, 1, new int[]{0, 0, 0, 0}, b1.domains()), rec(1, 2, 1, new int[]{1, 1, 1, 1}, b1.domains()));
        Map<String, Double> s = RoutingMetricsProbe.conditioned(
                TokenConditionedMetrics.of(records, RoutingMetricsProbe.tokenIds(records, List.of(b0, b1)), 2));
        assertEquals(1.0, s.get("layer0.cond_nmi"), 1e-12, "layer 0 splits A by domain");
        assertEquals(0.0, s.get("layer1.cond_nmi"), 1e-12, "layer 1 sends A to e0 whatever its domain");
        assertEquals(0.5, s.get("cond_nmi"), 1e-12);
        assertEquals(0.5, s.get("layer1.shared_share"), 1e-12, "4 of 8 routes are of A, the shared token");
    }
}
