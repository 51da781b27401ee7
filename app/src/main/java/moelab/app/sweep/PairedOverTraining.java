package moelab.app.sweep;

import moelab.app.report.Metrics;
import moelab.app.report.Plots;
import moelab.app.report.RunFolder;
import moelab.app.report.RunMetrics;
import moelab.app.report.Ticks;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A compare pair's paired-seed difference of one per-layer metric over training: at every
 * validation step and MoE layer, B - A averaged over the seeds both configurations finished, with
 * its 95% Student t interval as an error bar. Whether an effect holds in every layer and over the
 * whole run, not only at the last step.
 */
final class PairedOverTraining {
    private PairedOverTraining() {}

    /** step -> layer -> the per-seed differences B - A of layerN.{metric}. */
    static Map<Long, Map<Integer, List<Double>>> differences(SweepPlan plan, SweepState state, String a, String b, String metric) {
        Map<Long, Map<Integer, List<Double>>> out = new TreeMap<>();
        for (SweepPlan.Run ra : plan.runs()) {
            if (!ra.label().equals(a) || !state.isDone(ra)) continue;
            SweepPlan.Run rb = plan.runs().stream().filter(r -> r.label().equals(b) && r.seed() == ra.seed() && state.isDone(r))
                    .findFirst().orElse(null);
            if (rb == null) continue;
            Map<Long, Map<String, Double>> ea = scalarsByStep(plan, ra), eb = scalarsByStep(plan, rb);
            for (Map.Entry<Long, Map<String, Double>> e : ea.entrySet()) {
                Map<String, Double> sb = eb.get(e.getKey());
                if (sb == null) continue;
                for (int layer = 0; ; layer++) {
                    Double va = e.getValue().get("layer" + layer + "." + metric), vb = sb.get("layer" + layer + "." + metric);
                    if (va == null || vb == null) break;
                    if (va.isNaN() || vb.isNaN()) continue;
                    out.computeIfAbsent(e.getKey(), k -> new TreeMap<>()).computeIfAbsent(layer, k -> new ArrayList<>()).add(vb - va);
                }
            }
        }
        return out;
    }

    private static Map<Long, Map<String, Double>> scalarsByStep(SweepPlan plan, SweepPlan.Run r) {
        Map<Long, Map<String, Double>> m = new LinkedHashMap<>();
        for (Metrics.Eval e : RunMetrics.read(RunFolder.open(r.dir(plan.root()))).evals()) m.put(e.step(), e.scalars());
        return m;
    }

    /** The chart, or null when the two configurations share no finished seed. */
    static JFreeChart chart(SweepPlan plan, SweepState state, String a, String b, String metric) {
        Map<Long, Map<Integer, List<Double>>> diffs = differences(plan, state, a, b, metric);
        Map<Integer, YIntervalSeries> byLayer = new TreeMap<>();
        int seeds = 0;
        for (Map.Entry<Long, Map<Integer, List<Double>>> e : diffs.entrySet())
            for (Map.Entry<Integer, List<Double>> l : e.getValue().entrySet()) {
                double[] d = l.getValue().stream().mapToDouble(Double::doubleValue).toArray();
                double mean = Stats.mean(d);
                double half = d.length < 2 ? 0 : Stats.tQuantile975(d.length - 1) * Stats.std(d) / Math.sqrt(d.length);
                // layers side by side around the step, so their error bars do not overlap
                double x = e.getKey() + (l.getKey() - 1.5) * 4;
                byLayer.computeIfAbsent(l.getKey(), k -> new YIntervalSeries("layer " + k)).add(x, mean, mean - half, mean + half);
                seeds = Math.max(seeds, d.length);
            }
        if (byLayer.isEmpty()) return null;
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        byLayer.values().forEach(data::addSeries);
        JFreeChart c = ChartFactory.createXYLineChart(metric + ": " + b + " − " + a + " (paired over " + seeds + " seeds, 95% t interval)",
                "step", "difference in " + metric, data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot p = c.getXYPlot();
        p.setBackgroundPaint(Color.WHITE);
        XYErrorRenderer rr = new XYErrorRenderer();
        rr.setDrawXError(false);
        rr.setDefaultLinesVisible(true);
        for (int i = 0; i < data.getSeriesCount(); i++) rr.setSeriesPaint(i, Plots.colour(i));
        p.setRenderer(rr);
        p.addRangeMarker(new ValueMarker(0, Color.GRAY, new BasicStroke(1f)));
        p.setDomainGridlinePaint(new Color(0xdddddd));
        p.setRangeGridlinePaint(new Color(0xdddddd));
        for (NumberAxis ax : List.of((NumberAxis) p.getDomainAxis(), (NumberAxis) p.getRangeAxis())) {
            Ticks.plain(ax);
            ax.setAutoRangeIncludesZero(ax == p.getRangeAxis());
        }
        return c;
    }
}
