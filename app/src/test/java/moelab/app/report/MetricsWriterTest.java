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
            assertEquals(i + 1, n.get("step").asLong(), "steps count from 1");
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

        // eval.csv: one flat row per eval, the same step and values as eval.jsonl
        List<String> ecsv = Files.readAllLines(f.evalCsv());
        assertEquals(4, ecsv.size(), "header + one row per eval");
        List<String> eh = List.of(ecsv.getFirst().split(","));
        assertEquals(List.of("step", "val_loss", "val_loss.code", "val_loss.prose", "val_loss.math"), eh);
        String[] lastRow = ecsv.getLast().split(",", -1);
        assertEquals("30", lastRow[0]);
        assertEquals(ev.get("loss").asDouble(), Double.parseDouble(lastRow[1]), 0);
        assertEquals(ev.get("per_domain").get("prose").asDouble(), Double.parseDouble(lastRow[eh.indexOf("val_loss.prose")]), 0);
    }

    @Test
    void evalCsvFlattensProbeScalarsUnderReadableNames() {
        var row = new Metrics.Eval(7, 2.5, new java.util.LinkedHashMap<>(java.util.Map.of("zh tw", 3.0)), List.of(),
                new java.util.LinkedHashMap<>(java.util.Map.of("layer0.purity", 0.4)));
        var flat = MetricsWriter.evalRow(row);
        assertEquals(List.of("val_loss", "val_loss.zh_tw", "layer0.purity"), List.copyOf(flat.keySet()));
        assertEquals(0.4, flat.get("layer0.purity"));
    }

    @Test
    void resumeCutsEveryMetricFileBackToTheCheckpointSoNoStepAppearsTwice(@TempDir Path tmp) throws Exception {
        RunFolder f = folder(tmp);
        try (MetricsWriter w = new MetricsWriter(f, Synthetic.DOMAINS)) {
            Synthetic.run(w, 20, 10, 1);                               // steps 1..20, evals at 10 and 20
        }
        // a crash cut the last line in half
        String text = Files.readString(f.metricsJsonl());
        Files.writeString(f.metricsJsonl(), text.substring(0, text.length() - 40));
        // resumed from the checkpoint of step 15: steps 16..25 follow
        Random rng = new Random(9);
        try (MetricsWriter w = new MetricsWriter(f, Synthetic.DOMAINS)) {
            w.onResume(15);
            for (long s = 16; s <= 25; s++) w.onStep(Synthetic.step(rng, s, 25));
            w.onEval(Synthetic.eval(rng, 25, 25));
        }
        ObjectMapper json = new ObjectMapper();
        List<Long> steps = new java.util.ArrayList<>();
        for (String l : Files.readAllLines(f.metricsJsonl())) steps.add(json.readTree(l).get("step").asLong());
        assertEquals(java.util.stream.LongStream.rangeClosed(1, 25).boxed().toList(), steps, "each step once, in order; the cut line gone");
        List<String> csv = Files.readAllLines(f.metricsCsv());
        assertEquals("step", csv.getFirst().split(",")[0], "the header kept");
        assertEquals(java.util.stream.LongStream.rangeClosed(1, 25).boxed().toList(),
                csv.subList(1, csv.size()).stream().map(l -> Long.parseLong(l.split(",")[0])).toList());
        List<Long> evalSteps = new java.util.ArrayList<>();
        for (String l : Files.readAllLines(f.evalJsonl())) evalSteps.add(json.readTree(l).get("step").asLong());
        assertEquals(List.of(10L, 25L), evalSteps, "the eval of step 20 came after the checkpoint: dropped");
        List<String> ecsv = Files.readAllLines(f.evalCsv());
        assertEquals(List.of("10", "25"), ecsv.subList(1, ecsv.size()).stream().map(l -> l.split(",")[0]).toList());
        assertFalse(Files.list(f.dir()).anyMatch(p -> p.toString().endsWith(".tmp")), "no temporary file left");
        RunMetrics rm = RunMetrics.read(f);
        assertEquals(0, rm.skippedLines());
        assertEquals(25, rm.steps().size());
    }
}
