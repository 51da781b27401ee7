package moelab.train;

import moelab.data.Batch;
import moelab.eval.MarProbe;
import moelab.nn.Transformer;
import moelab.routing.Router;
import moelab.routing.mar.MarRouter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static moelab.train.TrainerFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** The MAR diagnostics probe: its values, its memory of the previous eval, and that it changes nothing. */
class MarProbeTest {

    @Test
    void reportsEveryMetricAndComparesWithThePreviousEvaluation() {
        Trainer t = trainer(MarTrainingTest.marModel(), train(4, 4, 1));
        t.addEvalProbe(new MarProbe());
        t.step();
        Map<String, Double> first = t.evaluate().scalars();
        for (String k : List.of("mar.routing_entropy", "mar.routing_entropy_norm", "mar.ked_top1", "mar.ked_topk", "mar.load_std_pct",
                "mar.max_vio", "mar.min_load_pct", "mar.dead_experts", "mar.expert_output_cos", "mar.expert_output_cos.l1"))
            assertTrue(first.containsKey(k) && Double.isFinite(first.get(k)), k + " = " + first.get(k));
        assertTrue(first.get("mar.switch_rate").isNaN(), "no previous evaluation");
        assertTrue(first.get("mar.consistency").isNaN());
        double hn = first.get("mar.routing_entropy_norm");
        assertTrue(hn > 0 && hn <= 1, "normalised entropy " + hn);
        assertEquals(first.get("mar.routing_entropy") / Math.log(4), hn, 1e-9);
        assertTrue(first.get("mar.load_std_pct") >= 0 && first.get("mar.max_vio") >= 0);
        assertTrue(first.get("mar.min_load_pct") <= 25.0 + 1e-9, "min share <= mean share");
        double cos = first.get("mar.expert_output_cos");
        assertTrue(cos >= -1 && cos <= 1);

        Map<String, Double> again = t.evaluate().scalars();
        assertEquals(0.0, again.get("mar.switch_rate"), "same weights: no switches");
        assertEquals(1.0, again.get("mar.consistency"));
        assertEquals(first.get("mar.ked_top1"), again.get("mar.ked_top1"), "deterministic");

        for (int i = 0; i < 3; i++) t.step();
        Map<String, Double> later = t.evaluate().scalars();
        double sw = later.get("mar.switch_rate"), cons = later.get("mar.consistency");
        assertTrue(sw >= 0 && sw <= 1 && cons >= 0 && cons <= 1, sw + " " + cons);
        assertTrue(cons <= (1 - sw) + sw / 3 + 1e-12, "a changed k=2 set has Jaccard <= 1/3: consistency " + cons + ", switch rate " + sw);
    }

    @Test
    void loadMetricsMatchAHandCount() {
        Trainer t = trainer(model(), train(1, 4, 1));
        Transformer m = t.model();
        MarProbe probe = new MarProbe(2, 8);
        List<Batch> val = validation();
        Map<String, Double> s = probe.measure(m, val, null);
        // recount layer 1 (the only MoE layer) from plain eval forwards
        long[] c = new long[4];
        long slots = 0;
        for (Batch b : val) for (int e : m.forward(b.inputs(), b.tokenInfo(), false).routing().get(0).selected()) { c[e]++; slots++; }
        double mean = 25, var = 0, min = 100, dead = 0;
        long max = 0;
        for (long x : c) { double sh = 100.0 * x / slots; var += (sh - mean) * (sh - mean); min = Math.min(min, sh); max = Math.max(max, x); if (x == 0) dead++; }
        assertEquals(Math.sqrt(var / 4), s.get("mar.load_std_pct"), 1e-9);
        assertEquals(min, s.get("mar.min_load_pct"), 1e-9);
        assertEquals(max / (slots / 4.0) - 1, s.get("mar.max_vio"), 1e-9);
        assertEquals(dead, s.get("mar.dead_experts"));
        assertNotEquals(0.0, s.get("mar.ked_top1"), "masking the top-1 expert changes the loss");
    }

    @Test
    void leavesTheModelAndTheRoutersAsItFoundThem() {
        Trainer t = trainer(MarTrainingTest.marModel(), train(3, 4, 1));
        for (int i = 0; i < 2; i++) t.step();
        Transformer m = t.model();
        float[] weights = snapshot(m);
        List<Router> routers = new ArrayList<>(m.routers());
        List<Map<String, float[]>> states = new ArrayList<>();
        for (Router r : routers) states.add(r.state());
        assertInstanceOf(MarRouter.class, routers.get(0));
        new MarProbe(2, 16).measure(m, validation(), null);
        assertSameBits(weights, snapshot(m), "weights after the probe");
        for (int i = 0; i < routers.size(); i++) {
            assertSame(routers.get(i), m.routers().get(i), "router " + i + " put back");
            Map<String, float[]> now = routers.get(i).state();
            assertEquals(states.get(i).keySet(), now.keySet());
            for (String k : now.keySet()) assertSameBits(states.get(i).get(k), now.get(k), k);
        }
        // and the next training step is the one it would have been without the probe
        Trainer twin = trainer(MarTrainingTest.marModel(), train(3, 4, 1));
        for (int i = 0; i < 2; i++) twin.step();
        t.step();
        twin.step();
        assertSameWeights(twin.model(), t.model());
    }
}
