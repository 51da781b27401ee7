package moelab.app.report;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.Marker;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.data.xy.XYDataset;
import org.jfree.data.xy.XYZDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The run page's charts from crafted metrics: what each chart holds, not only that it draws. */
class PlotsTest {

    @Test
    void tinyRangesGetPlainTickLabels() {
        assertEquals("5.526715", Ticks.label(5.526715, 5e-6));
        assertEquals("0.30", Ticks.label(0.3, 0.05));
        assertEquals("12,000", Ticks.label(12000, 2000));
        assertEquals(2e-5, new Ticks().getCeilingTickUnit(1.3e-5).getSize(), 0);
        assertEquals(5e-5, new Ticks().getLargerTickUnit(new Ticks().getCeilingTickUnit(2e-5)).getSize(), 0);
        // a chart whose y values differ in the sixth decimal: the drawn tick unit labels without an exponent
        RunMetrics rm = new RunMetrics(List.of(), List.of(eval(10, 5.526711), eval(20, 5.526716), eval(30, 5.526719)), 0);
        JFreeChart c = Plots.loss(rm);
        c.createBufferedImage(900, 480);                               // lays out the axes: picks the tick unit
        NumberAxis y = (NumberAxis) c.getXYPlot().getRangeAxis();
        String label = y.getTickUnit().valueToString(5.526715);
        assertFalse(label.contains("E"), label);
        assertTrue(label.startsWith("5.5267"), label);
        assertTrue(y.getTickUnit().getSize() <= 1e-4, "the axis resolves the range: tick " + y.getTickUnit().getSize());
    }

    @Test
    void expertLoadIsAnExpertByStepHeatmapOfShareTimesE() {
        List<Metrics.Step> steps = new ArrayList<>();
        for (int s = 1; s <= 5; s++)   // steps count optimizer updates done, from 1
            steps.add(step(s, new Metrics.Layer(0, new double[]{0.7, 0.1, 0.1, 0.1}, 0, 1.8, 1.0, 0.9),
                    new Metrics.Layer(2, new double[]{0.25, 0.25, 0.25, 0.25}, 0, 0, 1.386, 1.386)));
        JFreeChart c = Plots.expertLoad(new RunMetrics(steps, List.of(), 0));
        List<XYPlot> panels = ((CombinedDomainXYPlot) c.getPlot()).getSubplots();
        assertEquals(2, panels.size(), "one panel per MoE layer");
        assertEquals("L0 expert", panels.get(0).getRangeAxis().getLabel());
        assertEquals("L2 expert", panels.get(1).getRangeAxis().getLabel());
        assertInstanceOf(XYBlockRenderer.class, panels.get(0).getRenderer());
        XYZDataset d = (XYZDataset) panels.get(0).getDataset();
        assertEquals(5 * 4, d.getItemCount(0), "a cell per step and expert");
        // first cell: step 1, expert 0, 0.7 x 4 experts = 2.8 (over-loaded); second: expert 1, 0.4
        assertEquals(1, d.getXValue(0, 0), 0);
        assertEquals(0, d.getYValue(0, 0), 0);
        assertEquals(2.8, d.getZValue(0, 0), 1e-12);
        assertEquals(0.4, d.getZValue(0, 1), 1e-12);
        assertEquals(1.0, ((XYZDataset) panels.get(1).getDataset()).getZValue(0, 3), 1e-12);
        Plots.LoadScale scale = new Plots.LoadScale();
        assertEquals(Color.WHITE, scale.getPaint(1.0), "balanced is white");
        Color under = (Color) scale.getPaint(0), over = (Color) scale.getPaint(10);
        assertTrue(under.getBlue() > under.getRed(), "unused is blue: " + under);
        assertTrue(over.getRed() > over.getBlue(), "over-loaded (clamped) is red: " + over);
        assertEquals(scale.getPaint(Plots.LOAD_SCALE_MAX), over);
    }

    @Test
    void routerEntropyIsInNatsWithTheLnELine() {
        List<Metrics.Step> steps = new ArrayList<>();
        for (int s = 0; s < 4; s++) steps.add(step(s, new Metrics.Layer(0, new double[]{0.4, 0.2, 0.2, 0.2}, 0, 0.6, 1.2 + 0.01 * s, 1.3)));
        JFreeChart c = Plots.routingStats(new RunMetrics(steps, List.of(), 0));
        XYPlot entropy = ((CombinedDomainXYPlot) c.getPlot()).getSubplots().get(1);
        assertEquals("router entropy (nats)", entropy.getRangeAxis().getLabel());
        List<Double> lines = new ArrayList<>();
        for (Object m : entropy.getRangeMarkers(org.jfree.chart.ui.Layer.FOREGROUND)) lines.add(((ValueMarker) m).getValue());
        assertEquals(List.of(Math.log(4)), lines, "ln E for E = 4");
        assertTrue(entropy.getRangeAxis().getRange().contains(Math.log(4)), "the reference line is inside the axis range");
        String subtitles = c.getSubtitles().toString();
        assertTrue(java.util.stream.IntStream.range(0, c.getSubtitleCount())
                .anyMatch(i -> c.getSubtitle(i) instanceof org.jfree.chart.title.TextTitle t && t.getText().contains("ln E = ln 4 = 1.386 nats")), subtitles);
    }

    @Test
    void perDomainLossHasItsOwnChart() {
        RunMetrics rm = new RunMetrics(List.of(), List.of(eval(10, 3.0, "code", 2.5, "prose", 3.5), eval(20, 2.0, "code", 1.5, "prose", 2.5)), 0);
        assertEquals(List.of("train (lm loss)", "train, moving average", "validation"), seriesNames(Plots.loss(rm).getXYPlot().getDataset()));
        assertTrue(Plots.hasDomainLoss(rm));
        XYDataset d = Plots.domainLoss(rm).getXYPlot().getDataset();
        assertEquals(List.of("code", "prose", "all domains"), seriesNames(d));
        assertEquals(1.5, d.getYValue(0, 1), 0);
        assertFalse(Plots.hasDomainLoss(new RunMetrics(List.of(), List.of(eval(10, 3.0)), 0)));
    }

    @Test
    void routingMetricsPerLayerOverTraining() {
        Map<String, Double> sc1 = Map.of("purity", 0.3, "layer0.purity", 0.3, "layer0.nmi", 0.1, "layer0.utilization", 0.8,
                "layer2.purity", 0.4, "layer2.nmi", 0.2, "layer2.utilization", 0.9);
        Map<String, Double> sc2 = Map.of("layer0.purity", 0.5, "layer0.nmi", 0.3, "layer0.utilization", 0.7,
                "layer2.purity", 0.6, "layer2.nmi", 0.4, "layer2.utilization", 0.95);
        Map<String, Double> dom = new LinkedHashMap<>(Map.of("a", 1.0, "b", 1.0, "c", 1.0, "d", 1.0));
        RunMetrics rm = new RunMetrics(List.of(), List.of(new Metrics.Eval(10, 2.0, dom, List.of(), sc1), new Metrics.Eval(20, 1.5, dom, List.of(), sc2)), 0);
        assertTrue(Plots.hasRoutingMetrics(rm));
        List<XYPlot> panels = ((CombinedDomainXYPlot) Plots.routingMetrics(rm).getPlot()).getSubplots();
        assertEquals(List.of("purity", "NMI(expert; domain)", "utilization U"), panels.stream().map(p -> p.getRangeAxis().getLabel()).toList());
        XYDataset nmi = panels.get(1).getDataset();
        assertEquals(List.of("layer 0", "layer 2"), seriesNames(nmi));
        assertEquals(20, nmi.getXValue(1, 1), 0);
        assertEquals(0.4, nmi.getYValue(1, 1), 0);
        Marker chance = (Marker) panels.get(0).getRangeMarkers(org.jfree.chart.ui.Layer.FOREGROUND).iterator().next();
        assertEquals(0.25, ((ValueMarker) chance).getValue(), 0, "1/D with 4 domains");
        assertFalse(Plots.hasRoutingMetrics(new RunMetrics(List.of(), List.of(eval(10, 3.0)), 0)));
    }

    @Test
    void heatmapRowsAreSortedByDominantDomain() {
        // shares per domain column: code {0:10%, 1:60%, 2:30%, 3:0}, prose {0:70%, 1:10%, 2:20%, 3:0}, math {0:20, 1:30, 2:50, 3:0}
        Metrics.DomainCounts dc = new Metrics.DomainCounts(1, List.of("code", "prose", "math"),
                new long[][]{{10, 70, 20}, {60, 10, 30}, {30, 20, 50}, {0, 0, 0}});
        // expert 1 -> code (60%), expert 0 -> prose (70%), expert 2 -> math (50%), expert 3 routes nothing: last
        assertArrayEquals(new int[]{1, 0, 2, 3}, Plots.expertOrder(dc));
        // two experts with the same dominant domain: the larger share first
        Metrics.DomainCounts two = new Metrics.DomainCounts(0, List.of("a", "b"), new long[][]{{20, 50}, {80, 10}, {0, 40}});
        assertArrayEquals(new int[]{1, 0, 2}, Plots.expertOrder(two));
        // drawn that way: the top row is expert 1, whose code cell is the darkest of the code column
        BufferedImage img = Plots.heatmap(dc, 50);
        int left = 80, top = 60, cellH = 26, colW = 64;
        int topRow = img.getRGB(left + 4, top + 4) & 0xff, secondRow = img.getRGB(left + 4, top + cellH + 4) & 0xff;
        assertTrue(topRow < secondRow, "top row (expert 1, 60% of code) darker than expert 0 (10%): " + topRow + " vs " + secondRow);
        assertEquals(0xffffff, img.getRGB(left + colW + 4, top + 3 * cellH + 4) & 0xffffff, "expert 3's empty row is white");
    }

    @Test
    void heatmapOverTrainingKeepsEveryExpertOnItsLastStepRow() {
        // step 10: expert 0 takes all of a, expert 1 all of b; step 20 the other way round
        Metrics.Eval early = new Metrics.Eval(10, 3.0, Map.of(), List.of(new Metrics.DomainCounts(0, List.of("a", "b"), new long[][]{{10, 0}, {0, 10}})), Map.of());
        Metrics.Eval late = new Metrics.Eval(20, 2.0, Map.of(), List.of(new Metrics.DomainCounts(0, List.of("a", "b"), new long[][]{{0, 10}, {10, 0}})), Map.of());
        BufferedImage own = Plots.heatmap(early.routing().get(0), 10, "Layer 0, step 10");
        BufferedImage over = Plots.heatmapOverTraining(List.of(early, late), 0);
        assertEquals(2 * (own.getWidth() / 2), over.getWidth(), "two half-size panels side by side");
        assertEquals(own.getHeight() / 2, over.getHeight());
        int left = 80, top = 60, cellH = 26;
        // in its own heatmap step 10's top row is expert 0 (dark in column a); over training the rows follow
        // step 20's order, so step 10's top row is expert 1, white in column a, and the second row is dark
        assertTrue((own.getRGB(left + 8, top + 8) & 0xff) < 0x80, "own order: expert 0 on top");
        assertEquals(0xffffff, over.getRGB((left + 8) / 2, (top + 8) / 2) & 0xffffff, "over training: expert 1 on top at step 10");
        int second = over.getRGB((left + 8) / 2, (top + cellH + 8) / 2) & 0xffffff;
        assertTrue((second >> 16) < 0x80, "expert 0 second (dark red channel): " + Integer.toHexString(second) + " own second row " + Integer.toHexString(own.getRGB(left + 8, top + cellH + 8) & 0xffffff));
        assertThrows(IllegalArgumentException.class, () -> Plots.heatmapOverTraining(List.of(early, late), 3));
    }

    @Test
    void runPageListsTheNewCharts(@TempDir Path tmp) throws Exception {
        RunFolder f = MetricsWriterTest.folder(tmp);
        try (MetricsWriter w = new MetricsWriter(f, Synthetic.DOMAINS)) {
            Synthetic.run(w, 40, 20, 3);
        }
        Report.Result r = Report.generate(f.dir());
        assertTrue(r.plots().containsAll(List.of("plots/domain_loss.png", "plots/expert_load.png")), r.plots().toString());
        String html = Files.readString(r.index());
        assertTrue(html.contains("Validation loss per domain") && html.contains("router entropy (nats)"), html);
    }

    private static Metrics.Step step(long s, Metrics.Layer... layers) {
        return new Metrics.Step(s, 2.0, 2.0, 0.0, 1e-3, 1.0, 1000.0, 1.0 + s, List.of(layers));
    }

    private static Metrics.Eval eval(long step, double loss, Object... perDomain) {
        Map<String, Double> d = new LinkedHashMap<>();
        for (int i = 0; i < perDomain.length; i += 2) d.put((String) perDomain[i], (Double) perDomain[i + 1]);
        return new Metrics.Eval(step, loss, d, List.of(), Map.of());
    }

    private static List<String> seriesNames(XYDataset d) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < d.getSeriesCount(); i++) out.add(d.getSeriesKey(i).toString());
        return out;
    }
}
