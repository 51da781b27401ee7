package moelab.app.sweep;

import moelab.app.report.Metrics;
import moelab.app.report.Plots;
import moelab.app.report.RunFolder;
import moelab.app.report.RunMetrics;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sweep's comparison report in {@code <out>/<name>/}: index.html with a table of final
 * metrics per configuration (mean ± sample std over seeds), results.md, results.csv, and PNGs
 * in plots/: (purity_norm, val loss) and (utilization, val loss) scatters with reference runs
 * marked, purity over training per configuration (mean over seeds at each eval step), and an
 * expert-by-domain heatmap per configuration (first seed, first MoE layer, final validation run).
 * Built from the done runs only.
 */
public final class SweepReport {
    static { System.setProperty("java.awt.headless", "true"); }

    private SweepReport() {}

    /** Table columns: final metric names (see RunResult), before the sweep file's extra columns. */
    public static final List<String> COLUMNS = List.of("val_loss", "domain_loss_macro", "purity", "purity_norm", "utilization",
            "expert_entropy", "max_vio", "nmi", "train_drop_rate");

    /** One configuration's row: per column, mean and sample std over its done seeds (std NaN for one seed). */
    public record Row(String label, boolean reference, int runs, Map<String, double[]> stats) {}

    /** What the report found: the rows, Spearman ρ(purity_norm, val_loss) over all runs and over runs with utilization ≥ 0.9. */
    public record Result(List<Row> rows, double spearmanAll, int nAll, double spearmanHighU, int nHighU, Path index) {}

    /** The report over the runs that state counts as done; runs it leaves out are named in the report. */
    public static Result generate(SweepPlan plan, SweepState state) {
        Path root = plan.root(), plots = root.resolve("plots");
        try {
            Files.createDirectories(plots);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + plots + ": " + e.getMessage(), e);
        }
        List<String> columns = new ArrayList<>(COLUMNS);
        for (String c : plan.file().columns()) if (!columns.contains(c)) columns.add(c);

        Map<String, List<RunResult>> byLabel = new LinkedHashMap<>();
        Map<String, Boolean> refLabel = new LinkedHashMap<>();
        Map<String, SweepPlan.Run> firstRun = new LinkedHashMap<>();
        List<RunResult> all = new ArrayList<>();
        List<Boolean> allRef = new ArrayList<>();
        for (SweepPlan.Run r : plan.runs()) {
            RunResult res = state.isDone(r) ? RunResult.read(r.dir(root)) : null;
            if (res == null) continue;
            byLabel.computeIfAbsent(r.label(), k -> new ArrayList<>()).add(res);
            refLabel.put(r.label(), plan.isReference(r));
            firstRun.putIfAbsent(r.label(), r);
            all.add(res);
            allRef.add(plan.isReference(r));
        }
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, List<RunResult>> e : byLabel.entrySet()) {
            Map<String, double[]> stats = new LinkedHashMap<>();
            for (String c : columns) {
                double[] v = e.getValue().stream().mapToDouble(x -> x.get(c)).toArray();
                stats.put(c, new double[]{Stats.mean(v), Stats.std(v)});
            }
            rows.add(new Row(e.getKey(), refLabel.get(e.getKey()), e.getValue().size(), stats));
        }

        double[] pn = all.stream().mapToDouble(x -> x.get("purity_norm")).toArray();
        double[] loss = all.stream().mapToDouble(x -> x.get("val_loss")).toArray();
        double[] util = all.stream().mapToDouble(x -> x.get("utilization")).toArray();
        double rhoAll = Stats.spearman(pn, loss);
        int nAll = Stats.finitePairs(pn, loss);
        List<Double> hx = new ArrayList<>(), hy = new ArrayList<>();
        for (int i = 0; i < pn.length; i++) if (util[i] >= 0.9) { hx.add(pn[i]); hy.add(loss[i]); }
        double[] hxa = hx.stream().mapToDouble(Double::doubleValue).toArray(), hya = hy.stream().mapToDouble(Double::doubleValue).toArray();
        double rhoHigh = Stats.spearman(hxa, hya);
        int nHigh = Stats.finitePairs(hxa, hya);

        List<String> images = new ArrayList<>();
        Plots.save(scatter(all, allRef, "purity_norm", "normalised purity (Pur - 1/D)/(1 - 1/D)"), plots.resolve("scatter_purity_loss.png"), 500);
        images.add("scatter_purity_loss.png");
        Plots.save(scatter(all, allRef, "utilization", "utilization U"), plots.resolve("scatter_utilization_loss.png"), 500);
        images.add("scatter_utilization_loss.png");
        Plots.save(purityOverTraining(plan, state, byLabel.keySet()), plots.resolve("purity_over_training.png"), 550);
        images.add("purity_over_training.png");
        for (Map.Entry<String, SweepPlan.Run> e : firstRun.entrySet()) {
            RunMetrics rm = RunMetrics.read(RunFolder.open(e.getValue().dir(root)));
            Metrics.Eval last = rm.lastEval();
            if (last == null || last.routing().isEmpty()) continue;
            String name = "heatmap_" + e.getKey() + ".png";
            try {
                ImageIO.write(Plots.heatmap(last.routing().getFirst(), last.step()), "png", plots.resolve(name).toFile());
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot write " + plots.resolve(name) + ": " + ex.getMessage(), ex);
            }
            images.add(name);
        }

        Result res0 = new Result(rows, rhoAll, nAll, rhoHigh, nHigh, root.resolve("index.html"));
        List<String> notes = state.reportNotes();
        RunFolder.writeAtomically(root.resolve("results.md"), markdown(plan, columns, res0, notes));
        RunFolder.writeAtomically(root.resolve("results.csv"), csv(columns, rows));
        RunFolder.writeAtomically(root.resolve("index.html"), html(plan, columns, res0, images, notes));
        return res0;
    }

    static String pm(double[] s) {
        if (Double.isNaN(s[0])) return "-";
        return Double.isNaN(s[1]) ? String.format(Locale.ROOT, "%.4f", s[0]) : String.format(Locale.ROOT, "%.4f ± %.4f", s[0], s[1]);
    }

    static String rhoLine(Result r) {
        return String.format(Locale.ROOT, "Spearman rho(purity_norm, val_loss) over %d runs: %s; over the %d runs with utilization >= 0.9: %s",
                r.nAll(), fmt(r.spearmanAll()), r.nHighU(), fmt(r.spearmanHighU()));
    }

    private static String fmt(double x) { return Double.isNaN(x) ? "undefined" : String.format(Locale.ROOT, "%.3f", x); }

    static String markdown(SweepPlan plan, List<String> columns, Result r, List<String> notes) {
        StringBuilder b = new StringBuilder("# Sweep " + plan.file().name() + "\n\n");
        b.append("Final validation metrics per configuration, mean ± sample std over seeds (eval routing, dropless; "
                + "train_drop_rate over the last tenth of the steps). `*` = reference run.\n\n");
        b.append("| config | runs | ").append(String.join(" | ", columns)).append(" |\n|");
        b.append(" --- |".repeat(columns.size() + 2)).append('\n');
        for (Row row : r.rows()) {
            b.append("| ").append(row.label()).append(row.reference() ? " *" : "").append(" | ").append(row.runs());
            for (String c : columns) b.append(" | ").append(pm(row.stats().get(c)));
            b.append(" |\n");
        }
        b.append('\n').append(rhoLine(r)).append('\n');
        for (String n : notes) b.append("\nNote: ").append(n).append('\n');
        return b.toString();
    }

    static String csv(List<String> columns, List<Row> rows) {
        StringBuilder b = new StringBuilder("config,reference,runs");
        for (String c : columns) b.append(',').append(c).append("_mean,").append(c).append("_std");
        b.append('\n');
        for (Row row : rows) {
            b.append(row.label()).append(',').append(row.reference()).append(',').append(row.runs());
            for (String c : columns) {
                double[] s = row.stats().get(c);
                b.append(',').append(Double.isNaN(s[0]) ? "" : Double.toString(s[0])).append(',').append(Double.isNaN(s[1]) ? "" : Double.toString(s[1]));
            }
            b.append('\n');
        }
        return b.toString();
    }

    static String html(SweepPlan plan, List<String> columns, Result r, List<String> images, List<String> notes) {
        StringBuilder b = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>sweep ")
                .append(esc(plan.file().name())).append("</title><style>body{font-family:sans-serif;margin:2em}"
                        + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
                        + "td:first-child{text-align:left}tr.ref{background:#fff3d6}</style></head><body>");
        b.append("<h1>Sweep ").append(esc(plan.file().name())).append("</h1>");
        b.append("<p>").append(plan.runs().size()).append(" planned runs, ")
                .append(r.rows().stream().mapToInt(Row::runs).sum()).append(" done. Final validation metrics per configuration, "
                        + "mean ± sample std over seeds; highlighted rows are reference runs. Heatmaps: first seed, first MoE layer.</p>");
        for (String n : notes) b.append("<p><b>Note:</b> ").append(esc(n)).append("</p>");
        b.append("<table><tr><th>config</th><th>runs</th>");
        for (String c : columns) b.append("<th>").append(esc(c)).append("</th>");
        b.append("</tr>");
        for (Row row : r.rows()) {
            b.append(row.reference() ? "<tr class=\"ref\">" : "<tr>").append("<td><a href=\"runs/")
                    .append(esc(row.label())).append("-s").append(plan.file().seeds().getFirst()).append("/index.html\">")
                    .append(esc(row.label())).append("</a></td><td>").append(row.runs()).append("</td>");
            for (String c : columns) b.append("<td>").append(esc(pm(row.stats().get(c)))).append("</td>");
            b.append("</tr>");
        }
        b.append("</table><p>").append(esc(rhoLine(r))).append("</p>");
        for (String img : images) b.append("<div><img src=\"plots/").append(esc(img)).append("\" alt=\"").append(esc(img)).append("\"></div>");
        return b.append("</body></html>\n").toString();
    }

    private static JFreeChart scatter(List<RunResult> runs, List<Boolean> ref, String x, String xLabel) {
        XYSeries learned = new XYSeries("learned routers"), reference = new XYSeries("reference router");
        for (int i = 0; i < runs.size(); i++) {
            double xv = runs.get(i).get(x), yv = runs.get(i).get("val_loss");
            if (Double.isFinite(xv) && Double.isFinite(yv)) (ref.get(i) ? reference : learned).add(xv, yv);
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(learned);
        data.addSeries(reference);
        JFreeChart c = ChartFactory.createScatterPlot(xLabel + " vs validation loss (one point per run)", xLabel, "validation loss", data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot p = c.getXYPlot();
        p.setBackgroundPaint(Color.WHITE);
        p.getRenderer().setSeriesPaint(0, new Color(0x1f77b4));
        p.getRenderer().setSeriesShape(0, new Ellipse2D.Double(-4, -4, 8, 8));
        p.getRenderer().setSeriesPaint(1, new Color(0xd62728));
        p.getRenderer().setSeriesShape(1, new Rectangle2D.Double(-6, -6, 12, 12));
        ((org.jfree.chart.axis.NumberAxis) p.getRangeAxis()).setAutoRangeIncludesZero(false);
        return c;
    }

    private static JFreeChart purityOverTraining(SweepPlan plan, SweepState state, java.util.Set<String> labels) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (String label : labels) {
            Map<Long, double[]> sum = new TreeMap<>();                 // step -> {sum, count}
            for (SweepPlan.Run r : plan.runs()) {
                if (!r.label().equals(label) || !state.isDone(r)) continue;
                for (Metrics.Eval e : RunMetrics.read(RunFolder.open(r.dir(plan.root()))).evals()) {
                    Double p = e.scalars().get("purity");
                    if (p == null || p.isNaN()) continue;
                    double[] s = sum.computeIfAbsent(e.step(), k -> new double[2]);
                    s[0] += p;
                    s[1]++;
                }
            }
            XYSeries s = new XYSeries(label);
            sum.forEach((step, v) -> s.add((double) step, v[0] / v[1]));
            data.addSeries(s);
        }
        JFreeChart c = ChartFactory.createXYLineChart("routing purity over training (validation, mean over seeds)", "step", "purity",
                data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot p = c.getXYPlot();
        p.setBackgroundPaint(Color.WHITE);
        XYLineAndShapeRenderer rr = new XYLineAndShapeRenderer(true, true);
        p.setRenderer(rr);
        return c;
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
