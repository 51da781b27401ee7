package moelab.app.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static moelab.app.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A train run's event files read by TensorBoard's own EventAccumulator (a Python script) agree
 * with metrics.csv and eval.csv: every step, every column. Skipped only where python3 or the
 * tensorboard package is missing (.ci/run installs it).
 */
class TensorBoardTest {
    static boolean tensorboardPresent() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import tensorboard").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    static JsonNode readWithTensorBoard(Path runDir) throws Exception {
        Path script = Path.of(TensorBoardTest.class.getResource("/tensorboard/read_events.py").toURI());
        Process p = new ProcessBuilder("python3", script.toString(), runDir.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();       // it warns that TensorFlow is absent
        String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the reader hung");
        assertEquals(0, p.exitValue(), json);
        return new ObjectMapper().readTree(json);
    }

    /** column -> value per row, from a CSV with a header. */
    static List<java.util.Map<String, String>> csv(Path f) throws Exception {
        List<String> lines = Files.readAllLines(f);
        String[] h = lines.getFirst().split(",", -1);
        return lines.subList(1, lines.size()).stream().map(l -> {
            String[] c = l.split(",", -1);
            java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
            for (int i = 0; i < h.length; i++) m.put(h[i], c[i]);
            return m;
        }).toList();
    }

    static void sameSeries(JsonNode series, List<java.util.Map<String, String>> rows, String column, String tag) {
        assertNotNull(series, tag + " missing");
        assertEquals(rows.size(), series.size(), tag + ": one value per row");
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(Long.parseLong(rows.get(i).get("step")), series.get(i).get(0).asLong(), tag + " step");
            double want = Double.parseDouble(rows.get(i).get(column));
            assertEquals((float) want, series.get(i).get(1).asDouble(), Math.abs(want) * 1e-6 + 1e-12, tag + " at row " + i);
        }
    }

    @Test
    void eventFilesReadByTensorBoardMatchTheMetricFiles(@TempDir Path tmp) throws Exception {
        assumeTrue(tensorboardPresent(), "python3 with the tensorboard package is not installed");
        Path dir = tmp.resolve("run");
        MainTest.Run r = run(EndToEndTest.args(new String[]{"train", "--run-dir", dir.toString()}, "--set", "model.moe.experts=4"));
        assertEquals(0, r.exit(), r.err());
        JsonNode tb = readWithTensorBoard(dir);
        JsonNode sc = tb.get("scalars");

        var steps = csv(dir.resolve("metrics.csv"));
        for (String c : List.of("loss", "lm_loss", "aux_loss", "lr", "grad_norm", "tokens_per_sec"))
            sameSeries(sc.get("train/" + c), steps, c, "train/" + c);
        for (int layer = 0; layer < 2; layer++)
            for (String c : List.of("max_vio", "drop_rate", "router_entropy", "load_entropy"))
                sameSeries(sc.get("routing/layer" + layer + "/" + c), steps, "l" + layer + "_" + c, "routing/layer" + layer + "/" + c);

        var evals = csv(dir.resolve("eval.csv"));
        assertEquals(2, evals.size());
        int evalColumns = 0;
        for (String c : evals.getFirst().keySet()) {
            if (c.equals("step") || evals.getFirst().get(c).isEmpty()) continue;
            String tag = c.startsWith("val_loss.") ? "eval/val_loss/" + c.substring("val_loss.".length()) : "eval/" + c;
            sameSeries(sc.get(tag), evals, c, tag);
            evalColumns++;
        }
        assertTrue(evalColumns > 8 + 1 + 5, "loss, 8 domains and the routing metrics: " + evals.getFirst().keySet());

        // the expert-load histogram: bucket e is expert e's load share, as in metrics.csv
        JsonNode h = tb.get("histograms").get("routing/layer1/expert_load");
        assertEquals(steps.size(), h.size());
        for (int i = 0; i < steps.size(); i++)
            for (int e = 0; e < 4; e++)
                assertEquals(Double.parseDouble(steps.get(i).get("l1_load_e" + e)), h.get(i).get(1).get(e).asDouble(), 1e-12);

        JsonNode img = tb.get("images").get("plots/loss");
        assertNotNull(img, "the loss plot as an image: " + tb.get("images"));
        assertEquals(4, img.get(0).get(0).asLong());
        assertTrue(img.get(0).get(1).asInt() > 100 && img.get(0).get(3).asInt() > 1000, img.toString());
    }
}
