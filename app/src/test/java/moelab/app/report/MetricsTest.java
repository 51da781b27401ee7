package moelab.app.report;

import moelab.routing.RoutingRecord;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class MetricsTest {
    @Test
    void layerStatisticsOnAHandCase() {
        // layer 2, E=4, k=1, 4 tokens -> experts 0,0,0,1; the last route dropped; uniform probs
        float[] uniform = new float[16];
        java.util.Arrays.fill(uniform, 0.25f);
        RoutingRecord a = new RoutingRecord(2, 4, 4, 1, new int[]{0, 0, 0, 1}, new boolean[]{true, true, true, false}, uniform, null);
        // a second micro-batch of the same layer: experts 2,3 with certain probs
        float[] sure = new float[8];
        sure[2] = 1; sure[4 + 3] = 1;
        RoutingRecord b = new RoutingRecord(2, 2, 4, 1, new int[]{2, 3}, new boolean[]{true, true}, sure, null);
        List<Metrics.Layer> layers = Metrics.layers(List.of(b, a));
        assertEquals(1, layers.size());
        Metrics.Layer l = layers.getFirst();
        assertEquals(2, l.layer());
        assertArrayEquals(new double[]{3 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0}, l.load(), 1e-12);
        assertEquals(1 / 6.0, l.dropRate(), 1e-12);
        assertEquals((0.5 - 0.25) / 0.25, l.maxVio(), 1e-12, "MaxVio = (max - mean) / mean");
        assertEquals(4 * Math.log(4) / 6, l.routerEntropy(), 1e-6, "4 tokens at ln 4, 2 tokens at 0");
        assertEquals(-(0.5 * Math.log(0.5) + 3 * (1 / 6.0) * Math.log(1 / 6.0)), l.loadEntropy(), 1e-12);
    }

    @Test
    void noProbsMeansNoRouterEntropyAndLayersComeInOrder() {
        RoutingRecord l3 = new RoutingRecord(3, 1, 2, 1, new int[]{1}, new boolean[]{true}, null, null);
        RoutingRecord l0 = new RoutingRecord(0, 1, 2, 1, new int[]{0}, new boolean[]{true}, null, null);
        List<Metrics.Layer> layers = Metrics.layers(List.of(l3, l0));
        assertEquals(List.of(0, 3), layers.stream().map(Metrics.Layer::layer).toList());
        assertNull(layers.getFirst().routerEntropy());
        assertEquals(1.0, layers.getFirst().maxVio(), 1e-12, "one expert of two takes everything: (1 - 0.5) / 0.5");
    }

    @Test
    void expertByDomainCountsKeptRoutesAndAddsAnUnlabeledColumnOnlyWhenNeeded() {
        // E=3, k=2, tokens of domains 0, 1, and one outside the list
        RoutingRecord r = new RoutingRecord(0, 3, 3, 2, new int[]{0, 1, 1, 2, 2, 0}, new boolean[]{true, true, true, false, true, true},
                null, new int[]{0, 1, 7});
        Metrics.DomainCounts dc = Metrics.domainCounts(List.of(r), List.of("a", "b")).getFirst();
        assertEquals(List.of("a", "b", Metrics.UNLABELED), dc.domains());
        assertArrayEquals(new long[]{1, 0, 1}, dc.counts()[0]);
        assertArrayEquals(new long[]{1, 1, 0}, dc.counts()[1]);
        assertArrayEquals(new long[]{0, 0, 1}, dc.counts()[2], "the dropped route of token 1 is not counted");

        RoutingRecord labeled = new RoutingRecord(0, 1, 3, 1, new int[]{2}, new boolean[]{true}, null, new int[]{1});
        assertEquals(List.of("a", "b"), Metrics.domainCounts(List.of(labeled), List.of("a", "b")).getFirst().domains());
    }

    @Test
    void nonFiniteNumbersAreWrittenAsNull() {
        var m = new moelab.train.StepMetrics(0, Double.NaN, 2, 0, 1e-3, Double.POSITIVE_INFINITY, 10, 1, List.of());
        Metrics.Step s = Metrics.step(m);
        assertNull(s.loss());
        assertNull(s.gradNorm());
        assertEquals(2.0, s.lmLoss());
    }
}
