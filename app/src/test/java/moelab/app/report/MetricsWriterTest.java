package moelab.app.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class MetricsWriterTest {
    static RunFolder folder(Path tmp) {
        RunFolder f = RunFolder.create("t", tmp, tmp.resolve("run"), Clock.systemUTC());
        f.writeConfig(moelab.app.config.ConfigLoader.toYaml(moelab.app.config.ConfigLoader.load(null, List.of())));
        return f;
    }

    @Test
    void writesOneParseableLinePerStepAndEval(@TempDir Path tmp) throws Exception {
        RunFolder f = folder(tmp);
        try (MetricsWriter w = new MetricsWriter(f, Synthetic.DOMAINS)) {
            Synthetic.run(w, 30, 10, 1);
            // flushed line by line: readable before close
            assertEquals(30, Files.readAllLines(f.metricsJsonl()).size());
        }
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(f.metricsJsonl());
        assertEquals(30, lines.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonNode n = json.readTree(lines.get(i));
            assertEquals(i, n.get("step").asLong());
            for (String k : List.of("loss", "lm_loss", "aux_loss", "lr", "grad_norm", "tokens_per_sec", "elapsed_sec"))
                assertTrue(n.get(k).isNumber(), k + " in " + lines.get(i));
            JsonNode layers = n.get("layers");
            assertEquals(2, layers.size());
            assertEquals(1, layers.get(0).get("layer").asInt());
            assertEquals(3, layers.get(1).get("layer").asInt());
            JsonNode load = layers.get(0).get("load");
            assertEquals(Synthetic.EXPERTS, load.size());
            double sum = 0;
            for (JsonNode x : load) sum += x.asDouble();
            assertEquals(1.0, sum, 1e-9);
            for (String k : List.of("drop_rate", "max_vio", "router_entropy", "load_entropy"))
                assertTrue(layers.get(0).get(k).isNumber(), k);
        }

        List<String> csv = Files.readAllLines(f.metricsCsv());
        assertEquals(31, csv.size(), "header + one row per step");
        String[] header = csv.getFirst().split(",");
        assertEquals("step", header[0]);
        assertTrue(List.of(header).containsAll(List.of("loss", "lm_loss", "grad_norm", "tokens_per_sec", "l1_max_vio", "l3_drop_rate", "l3_load_e3")));
        for (String row : csv.subList(1, csv.size())) {
            String[] cells = row.split(",", -1);
            assertEquals(header.length, cells.length, row);
            for (String c : cells) Double.parseDouble(c);
        }

        List<String> evals = Files.readAllLines(f.evalJsonl());
        assertEquals(3, evals.size());
        JsonNode ev = json.readTree(evals.getLast());
        assertEquals(30, ev.get("step").asLong());
        assertEquals(Synthetic.DOMAINS.size(), ev.get("per_domain").size());
        assertTrue(ev.get("per_domain").get("prose").isNumber());
        JsonNode counts = ev.get("routing").get(0);
        assertEquals(List.of("code", "prose", "math"), json.convertValue(counts.get("domains"), List.class));
        assertEquals(Synthetic.EXPERTS, counts.get("counts").size());
        long total = 0;
        for (JsonNode row : counts.get("counts")) for (JsonNode c : row) total += c.asLong();
        assertEquals(Synthetic.TOKENS * Synthetic.TOP_K, total, "eval is dropless: every route counted once");

        RunMetrics rm = RunMetrics.read(f);
        assertEquals(30, rm.steps().size());
        assertEquals(3, rm.evals().size());
        assertEquals(0, rm.skippedLines());
    }

    @Test
    void resumedRunAppendsAndReadersKeepTheLastLineOfEachStep(@TempDir Path tmp) throws Exception {
        RunFolder f = folder(tmp);
        try (MetricsWriter w = new MetricsWriter(f, Synthetic.DOMAINS)) {
            Synthetic.run(w, 20, 100, 1);
        }
        // a crash cut the last line in half
        String text = Files.readString(f.metricsJsonl());
        Files.writeString(f.metricsJsonl(), text.substring(0, text.length() - 40));
        // resumed from a checkpoint at step 15: steps 15..24 are written (again)
        Random rng = new Random(9);
        try (MetricsWriter w = new MetricsWriter(f, Synthetic.DOMAINS)) {
            for (long s = 15; s < 25; s++) w.onStep(Synthetic.step(rng, s, 25));
        }
        RunMetrics rm = RunMetrics.read(f);
        assertEquals(1, rm.skippedLines(), "the cut-off line");
        assertEquals(25, rm.steps().size());
        for (int i = 0; i < 25; i++) assertEquals(i, rm.steps().get(i).step());
        List<String> csv = Files.readAllLines(f.metricsCsv());
        assertEquals(1, csv.stream().filter(l -> l.startsWith("step,")).count(), "the header is written once");
        assertEquals(1 + 20 + 10, csv.size());
    }
}
