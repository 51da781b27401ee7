package moelab.app.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import moelab.data.Batch;
import moelab.eval.RoutingStability;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import moelab.nn.Transformer;
import moelab.routing.RoutingRecord;
import moelab.routing.mar.MarConfig;
import moelab.train.StepMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The routing-study files: what lands in train_routing.jsonl, probe.jsonl and mar.jsonl, and when. */
class DiagnosticsWriterTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static RoutingRecord rec(int layer, int[] selected, boolean[] kept, int[] domains) {
        return new RoutingRecord(layer, domains.length, 3, 1, selected, kept, null, domains);
    }

    static StepMetrics step(long s, List<RoutingRecord> r) { return new StepMetrics(s, 1, 1, 0, 1e-3, 1, 1, 1, r); }

    @Test
    void countsKeptTrainingRoutesPerLayerOverEachWindowAndProbesAtItsEnd(@TempDir Path tmp) throws Exception {
        ModelConfig mc = new ModelConfig(16, 8, 2, 2, 12, 8, false, 1e4, 1e-5f, 0.1,
                MoeConfig.defaults(3, 1, 6).withMar(MarConfig.on()));
        Transformer model = new Transformer(mc, 1);
        int[] in = new int[16], dom = new int[16];
        for (int i = 0; i < 16; i++) { in[i] = i; dom[i] = i / 8; }
        RoutingStability probe = new RoutingStability(RoutingStability.probeBatch(List.of(new Batch(in, in.clone(), 2, 8, dom)), 2, 1));
        RunFolder f = MetricsWriterTest.folder(tmp);
        try (DiagnosticsWriter w = new DiagnosticsWriter(f, model, List.of("a", "b"), probe, 2)) {
            // step 1 (steps count updates done): layer 0 tokens (a, b, b) -> experts 0, 1, 1, the last dropped; layer 1 ignored unlabelled record
            w.onStep(step(1, List.of(rec(0, new int[]{0, 1, 1}, new boolean[]{true, true, false}, new int[]{0, 1, 1}),
                    new RoutingRecord(1, 1, 3, 1, new int[]{2}, new boolean[]{true}, null, null))));
            assertFalse(Files.exists(f.dir().resolve(DiagnosticsWriter.TRAIN_ROUTING_JSONL)), "nothing before the window ends");
            w.onStep(step(2, List.of(rec(0, new int[]{2}, new boolean[]{true}, new int[]{1}))));
            w.onStep(step(3, List.of(rec(0, new int[]{0}, new boolean[]{true}, new int[]{0}))));
        }
        List<String> lines = Files.readAllLines(f.dir().resolve(DiagnosticsWriter.TRAIN_ROUTING_JSONL));
        assertEquals(1, lines.size(), "one full window of 2 steps");
        JsonNode row = JSON.readTree(lines.getFirst());
        assertEquals(0, row.get("step_from").asInt());
        assertEquals(2, row.get("step_to").asInt());
        assertEquals("[[1,0],[0,1],[0,1]]", row.get("layers").get(0).get("counts").toString(), "expert x domain, kept routes only");
        assertEquals(1, row.get("layers").size(), "the unlabelled layer has no counts");
        JsonNode p = JSON.readTree(Files.readAllLines(f.dir().resolve(DiagnosticsWriter.PROBE_JSONL)).getFirst());
        assertEquals(2, p.get("step").asInt());
        assertEquals(2, p.get("domains_covered").asInt());
        assertEquals(16, p.get("probe_tokens").asInt());
        assertTrue(p.get("layers").get(0).get("switch_rate").isNull(), "no earlier probe");
        assertEquals(2, p.get("layers").size(), "both MoE blocks");
        List<String> mar = Files.readAllLines(f.dir().resolve(DiagnosticsWriter.MAR_JSONL));
        assertEquals(3, mar.size(), "one line per step for a MAR model");
        assertEquals(1, JSON.readTree(mar.getFirst()).get("layers").get(1).get("layer").asInt(), "block indices of the MoE layers");
        assertTrue(JSON.readTree(mar.getFirst()).get("layers").get(0).get("memory_std").isNull(), "no training routing in these steps: null, not NaN");
    }
}
