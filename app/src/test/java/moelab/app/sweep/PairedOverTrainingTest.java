package moelab.app.sweep;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Per-layer, per-step paired differences over training, from hand-made run folders. */
class PairedOverTrainingTest {

    @Test
    void differencesArePairedBySeedPerStepAndLayer(@TempDir Path tmp) throws Exception {
        SweepPlan p = SweepTest.plan("""
                name: pot
                seeds: [1, 2, 3]
                compare: [[lbl, none]]
                grid:
                  - model.moe.balance.method: [lbl, none]
                """, tmp);
        // layerL.purity_norm at step s of (config c, seed k) = 0.1 c + 0.01 k + 0.001 L + 0.0001 s;
        // none's seed 3 is unfinished and layer 1 of lbl seed 2 at step 20 is NaN
        for (SweepPlan.Run r : p.runs()) {
            int c = r.label().equals("lbl") ? 0 : 1;
            if (c == 1 && r.seed() == 3) continue;
            Path dir = r.dir(p.root());
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.yaml"), "");
            StringBuilder eval = new StringBuilder();
            for (int step : new int[]{10, 20}) {
                eval.append("{\"step\":").append(step).append(",\"loss\":1.0,\"per_domain\":{},\"routing\":[],\"scalars\":{");
                for (int layer = 0; layer < 2; layer++) {
                    boolean nan = c == 0 && r.seed() == 2 && step == 20 && layer == 1;
                    double v = 0.1 * c + 0.01 * r.seed() + 0.001 * layer + 0.0001 * step;
                    eval.append(layer == 0 ? "" : ",").append("\"layer").append(layer).append(".purity_norm\":").append(nan ? "\"NaN\"" : v);
                }
                eval.append("}}\n");
            }
            Files.writeString(dir.resolve("eval.jsonl"), eval);
            new RunResult(r.id(), r.label(), r.seed(), 20, 1.0, Map.of("val_loss", 1.0), RunIdentity.of(r).keys()).write(dir);
        }
        SweepState state = SweepState.check(p);
        Map<Long, Map<Integer, List<Double>>> d = PairedOverTraining.differences(p, state, "lbl", "none", "purity_norm");
        assertEquals(List.of(10L, 20L), List.copyOf(d.keySet()));
        assertEquals(2, d.get(10L).get(0).size(), "seeds 1 and 2: seed 3 of none is not done");
        for (double x : d.get(10L).get(0)) assertEquals(0.1, x, 1e-12);
        assertEquals(2, d.get(10L).get(1).size());
        assertEquals(1, d.get(20L).get(1).size(), "the NaN of seed 2 is left out, not averaged");
        assertNotNull(PairedOverTraining.chart(p, state, "lbl", "none", "purity_norm"));
        assertNull(PairedOverTraining.chart(p, state, "lbl", "none", "no_such_metric"));

        SweepReport.generate(p, state);
        assertTrue(Files.size(p.root().resolve("plots/paired_purity_norm_lbl_vs_none.png")) > 0);
        assertTrue(Files.readString(p.root().resolve("index.html")).contains("paired_purity_norm_lbl_vs_none.png"));
    }
}
