package moelab.app.report;

import moelab.train.StepMetrics;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ProgressLineTest {
    @Test
    void withoutATerminalPrintsALineEveryLogEverySteps() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressLine p = new ProgressLine(new PrintStream(buf, true, StandardCharsets.UTF_8), false, 100, 25);
        Synthetic.run(p, 100, 50, 3);
        String[] lines = buf.toString(StandardCharsets.UTF_8).split("\n");
        List<String> steps = java.util.Arrays.stream(lines).filter(l -> l.startsWith("step")).toList();
        assertEquals(List.of("step   1/100", "step  25/100", "step  50/100", "step  75/100", "step 100/100"),
                steps.stream().map(l -> l.substring(0, 12)).toList());
        assertEquals(2, java.util.Arrays.stream(lines).filter(l -> l.startsWith("eval @ step")).count());
        assertEquals(1, java.util.Arrays.stream(lines).filter(x -> x.startsWith(ProgressLine.LEGEND)).count(), "mv explained once");
        assertFalse(buf.toString(StandardCharsets.UTF_8).contains("\r"));
        String l = steps.get(1);
        assertTrue(l.contains("tok/s") && l.contains("ETA") && l.contains("lr 2.99e-03") || l.contains("lr 3.00e-03"), l);
        assertTrue(l.matches(".*\\| load L1 \\d+-\\d+% mv\\d\\.\\d\\d L3 \\d+-\\d+% mv\\d\\.\\d\\d drop<=\\d+\\.\\d%$"), l);
        assertTrue(lines[lines.length - 1].startsWith("eval @ step 100: val loss ") && lines[lines.length - 1].contains("| code "), lines[lines.length - 1]);
    }

    @Test
    void onATerminalRewritesOneLine() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressLine p = new ProgressLine(new PrintStream(buf, true, StandardCharsets.UTF_8), true, 10, 5);
        Synthetic.run(p, 10, 100, 3);
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(10, out.chars().filter(c -> c == '\r').count());
        assertTrue(out.contains("step 10/10"));
        assertEquals(ProgressLine.LEGEND, out.split("\n")[0]);
        assertEquals("eval @ step 10", out.split("\n")[2].substring(0, 14), "the live line ends before the eval line");
    }

    @Test
    void etaFromTheTimePerStep() {
        ProgressLine p = new ProgressLine(new PrintStream(new ByteArrayOutputStream()), false, 100, 10);
        Random rng = new Random(1);
        StepMetrics s1 = Synthetic.step(rng, 1, 100);                      // elapsed 0.05 s per step
        p.onStep(s1);
        StepMetrics s11 = Synthetic.step(rng, 11, 100);
        assertEquals(0.05 * 89, p.eta(s11), 1e-9, "89 steps left after step 11 of 100");
        assertEquals("1m23s", ProgressLine.duration(83));
        assertEquals("2h01m", ProgressLine.duration(7300));
        assertEquals("?", ProgressLine.duration(Double.NaN));
        assertEquals("41.2k", ProgressLine.compact(41234));
        assertEquals("1.50M", ProgressLine.compact(1.5e6));
    }

    @Test
    void manyLayersShowTheWorstOnly() {
        List<Metrics.Layer> layers = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++)
            layers.add(new Metrics.Layer(i, new double[]{0.5, 0.5}, 0, i == 4 ? 0.9 : 0.1, null, Math.log(2)));
        assertEquals("load worst of 6 L4 50-50% mv0.90", ProgressLine.loadSummary(layers));
        assertEquals("", ProgressLine.loadSummary(List.of()));
    }
}
