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
 * marked and every point labelled with its run, purity over training per configuration (mean over
 * seeds at each eval step), expert-by-domain heatmaps of every configuration, seed and MoE layer
 * (final validation run; a seed selector on the page), and paired-seed differences between
 * configurations that differ in one key. Built from the done runs only.
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
        Map<String, List<SweepPlan.Run>> doneRuns = new LinkedHashMap<>();
        List<RunResult> all = new ArrayList<>();
        for (SweepPlan.Run r : plan.runs()) {
            RunResult res = state.isDone(r) ? RunResult.read(r.dir(root)) : null;
            if (res == null) continue;
            byLabel.computeIfAbsent(r.label(), k -> new ArrayList<>()).add(res);
            refLabel.put(r.label(), plan.isReference(r));
            doneRuns.computeIfAbsent(r.label(), k -> new ArrayList<>()).add(r);
            all.add(res);
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
        Plots.save(scatter(byLabel, refLabel, "purity_norm", "normalised purity (Pur - 1/D)/(1 - 1/D)"), plots.resolve("scatter_purity_loss.png"), 560);
        images.add("scatter_purity_loss.png");
        Plots.save(scatter(byLabel, refLabel, "utilization", "utilization U"), plots.resolve("scatter_utilization_loss.png"), 560);
        images.add("scatter_utilization_loss.png");
        Plots.save(purityOverTraining(plan, state, byLabel.keySet()), plots.resolve("purity_over_training.png"), 550);
        images.add("purity_over_training.png");
        for (List<String> pair : plan.file().compare()) {
            JFreeChart c = PairedOverTraining.chart(plan, state, pair.get(0), pair.get(1), "purity_norm");
            if (c == null) continue;
            String name = "paired_purity_norm_" + pair.get(0) + "_vs_" + pair.get(1) + ".png";
            Plots.save(c, plots.resolve(name), 420);
            images.add(name);
        }
        Map<String, String> titles = new LinkedHashMap<>();
        Map<String, Map<Long, List<String>>> heatmaps = heatmaps(root, plots, doneRuns, titles);
        List<SeedPairs.Pair> pairs = SeedPairs.of(byLabel, plan.file().compare());
        RunFolder.writeAtomically(root.resolve("pairs.csv"), SeedPairs.csv(pairs));

        Result res0 = new Result(rows, rhoAll, nAll, rhoHigh, nHigh, root.resolve("index.html"));
        List<String> notes = state.reportNotes();
        RunFolder.writeAtomically(root.resolve("results.md"), markdown(plan, columns, res0, pairs, notes));
        RunFolder.writeAtomically(root.resolve("results.csv"), csv(columns, rows));
        RunFolder.writeAtomically(root.resolve("index.html"), html(plan, columns, res0, images, heatmaps, titles, pairs, notes));
        return res0;
    }

    /**
     * Writes one expert-by-domain heatmap per done run and MoE layer, titled with the configuration,
     * layer and seed (also in titles: file name -> title); returns their file names (in plots/) by
     * configuration and seed, layers in order.
     */
    static Map<String, Map<Long, List<String>>> heatmaps(Path root, Path plots, Map<String, List<SweepPlan.Run>> doneRuns,
                                                         Map<String, String> titles) {
        Map<String, Map<Long, List<String>>> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<SweepPlan.Run>> e : doneRuns.entrySet())
            for (SweepPlan.Run run : e.getValue()) {
                Metrics.Eval last = RunMetrics.read(RunFolder.open(run.dir(root))).lastEval();
                if (last == null) continue;
                for (Metrics.DomainCounts dc : last.routing()) {
                    String name = "heatmap_" + e.getKey() + "_s" + run.seed() + "_l" + dc.layer() + ".png";
                    String title = e.getKey() + " · layer " + dc.layer() + " · seed " + run.seed();
                    titles.put(name, title);
                    try {
                        ImageIO.write(Plots.heatmap(dc, last.step(), title), "png", plots.resolve(name).toFile());
                    } catch (IOException ex) {
                        throw new UncheckedIOException("cannot write " + plots.resolve(name) + ": " + ex.getMessage(), ex);
                    }
                    out.computeIfAbsent(e.getKey(), k -> new LinkedHashMap<>()).computeIfAbsent(run.seed(), k -> new ArrayList<>()).add(name);
                }
            }
        return out;
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

    static String markdown(SweepPlan plan, List<String> columns, Result r, List<SeedPairs.Pair> pairs, List<String> notes) {
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
        if (!pairs.isEmpty()) {
            List<String> ms = pairMetrics(pairs);
            b.append("\n## Paired-seed differences\n\n").append(PAIRS_TEXT).append("\n\n| b - a | differs in | seeds");
            for (String m : ms) b.append(" | Δ ").append(m);
            b.append(" |\n|").append(" --- |".repeat(ms.size() + 3)).append('\n');
            for (SeedPairs.Pair p : pairs) {
                b.append("| ").append(p.b()).append(" - ").append(p.a()).append(" | ").append(p.differs()).append(" | ").append(p.seeds().size());
                for (String m : ms) b.append(" | ").append(diffText(p, m));
                b.append(" |\n");
            }
        }
        for (String n : notes) b.append("\nNote: ").append(n).append('\n');
        return b.toString();
    }

    static final String PAIRS_TEXT = "The pairs the sweep file compares, then configurations that differ in one config key: "
            + "per seed both ran, b minus a; the mean difference, its 95% Student-t interval over those seeds, and |mean| in "
            + "units of the two configurations' pooled seed-to-seed std (sd). A difference decides something when its interval "
            + "excludes 0; claims about loss need it well beyond the seed noise (> 3 sd).";

    // the metrics any pair has, in SeedPairs order
    static List<String> pairMetrics(List<SeedPairs.Pair> pairs) {
        java.util.LinkedHashSet<String> ms = new java.util.LinkedHashSet<>();
        for (SeedPairs.Pair p : pairs) ms.addAll(p.diffs().keySet());
        return List.copyOf(ms);
    }

    static String diffText(SeedPairs.Pair p, String metric) {
        SeedPairs.Diff d = p.diffs().get(metric);
        return d == null ? "-" : d.text();
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

    static String html(SweepPlan plan, List<String> columns, Result r, List<String> images, Map<String, Map<Long, List<String>>> heatmaps,
                       Map<String, String> titles, List<SeedPairs.Pair> pairs, List<String> notes) {
        StringBuilder b = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>sweep ")
                .append(esc(plan.file().name())).append("</title><style>body{font-family:sans-serif;margin:2em}"
                        + "table{border-collapse:collapse;margin-bottom:1.5em;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
                        + "td{white-space:nowrap}td:first-child{text-align:left}tr.ref{background:#fff3d6}img{max-width:100%}"
                        + ".maps img{display:inline-block;vertical-align:top;max-width:49%;margin:0 0.5% 1em 0}.wide{overflow-x:auto}</style></head><body>");
        b.append("<h1>Sweep ").append(esc(plan.file().name())).append("</h1>");
        b.append("<p>").append(plan.runs().size()).append(" planned runs, ")
                .append(r.rows().stream().mapToInt(Row::runs).sum()).append(" done. Final validation metrics per configuration, "
                        + "mean ± sample std over seeds; highlighted rows are reference runs.</p>");
        for (String n : notes) b.append("<p><b>Note:</b> ").append(esc(n)).append("</p>");
        b.append("<div class=\"wide\"><table><tr><th>config</th><th>runs</th>");           // scrolls sideways on a narrow window
        for (String c : columns) b.append("<th>").append(esc(c)).append("</th>");
        b.append("</tr>");
        for (Row row : r.rows()) {
            b.append(row.reference() ? "<tr class=\"ref\">" : "<tr>").append("<td><a href=\"runs/")
                    .append(esc(row.label())).append("-s").append(plan.file().seeds().getFirst()).append("/index.html\">")
                    .append(esc(row.label())).append("</a></td><td>").append(row.runs()).append("</td>");
            for (String c : columns) b.append("<td>").append(esc(pm(row.stats().get(c)))).append("</td>");
            b.append("</tr>");
        }
        b.append("</table></div><p>").append(esc(rhoLine(r))).append("</p>");
        if (!pairs.isEmpty()) {
            List<String> ms = pairMetrics(pairs);
            b.append("<h2>Paired-seed differences</h2><p>").append(esc(PAIRS_TEXT)).append("</p><div class=\"wide\"><table><tr><th>b - a</th><th>differs in</th><th>seeds</th>");
            for (String m : ms) b.append("<th>Δ ").append(esc(m)).append("</th>");
            b.append("</tr>");
            for (SeedPairs.Pair p : pairs) {
                b.append("<tr><td>").append(esc(p.b() + " - " + p.a())).append("</td><td>").append(esc(p.differs()))
                        .append("</td><td>").append(p.seeds().size()).append("</td>");
                for (String m : ms) b.append("<td>").append(esc(diffText(p, m))).append("</td>");
                b.append("</tr>");
            }
            b.append("</table></div>");
        }
        for (String img : images) b.append("<div><img src=\"plots/").append(esc(img)).append("\" alt=\"").append(esc(img)).append("\"></div>");
        heatmapSection(b, heatmaps, titles);
        return b.append("</body></html>\n").toString();
    }

    /**
     * Every configuration's heatmaps, all layers side by side, one seed at a time: a select
     * switches the seed of every configuration at once (static page, a few lines of script;
     * without script the first seed shows).
     */
    private static void heatmapSection(StringBuilder b, Map<String, Map<Long, List<String>>> heatmaps, Map<String, String> titles) {
        if (heatmaps.isEmpty()) return;
        java.util.TreeSet<Long> seeds = new java.util.TreeSet<>();
        heatmaps.values().forEach(m -> seeds.addAll(m.keySet()));
        b.append("<h2>Expert-by-domain routing (final validation)</h2><p>Each map: the share of each domain's routes that "
                + "went to each expert, experts sorted by their dominant domain; one map per MoE layer.");
        if (seeds.size() > 1) {
            b.append(" Seed: <select id=\"seed\" onchange=\"showSeed(this.value)\">");
            for (long s : seeds) b.append("<option>").append(s).append("</option>");
            b.append("</select> (or open the page as index.html#seed=N)");
            b.append("<script>function showSeed(s){for(const d of document.querySelectorAll('div.seed'))d.hidden=d.dataset.seed!==s;"
                    + "document.getElementById('seed').value=s;}</script>");
        } else {
            b.append(" Seed ").append(seeds.getFirst()).append('.');
        }
        b.append("</p>");
        for (Map.Entry<String, Map<Long, List<String>>> e : heatmaps.entrySet()) {
            b.append("<h3>").append(esc(e.getKey())).append("</h3>");
            for (long s : seeds) {
                List<String> maps = e.getValue().get(s);
                b.append("<div class=\"seed maps\" data-seed=\"").append(s).append('"').append(s == seeds.getFirst() ? "" : " hidden").append('>');
                if (maps == null) b.append("<p><em>no done run of seed ").append(s).append("</em></p>");
                else for (String img : maps)
                    b.append("<img src=\"plots/").append(esc(img)).append("\" alt=\"").append(esc(titles.get(img))).append("\">");
                b.append("</div>");
            }
        }
        if (seeds.size() > 1)
            b.append("<script>const m=location.hash.match(/seed=(\\d+)/);if(m)showSeed(m[1]);</script>");
    }

    /**
     * One point per run, a colour per configuration (squares: reference runs), each point labelled
     * "configuration sSEED"; the legend lists only the configurations that have a point.
     */
    static JFreeChart scatter(Map<String, List<RunResult>> byLabel, Map<String, Boolean> reference, String x, String xLabel) {
        XYSeriesCollection data = new XYSeriesCollection();
        List<List<String>> pointLabels = new ArrayList<>();
        List<Boolean> refSeries = new ArrayList<>();
        for (Map.Entry<String, List<RunResult>> e : byLabel.entrySet()) {
            boolean ref = reference.getOrDefault(e.getKey(), false);
            XYSeries s = new XYSeries(e.getKey() + (ref ? " (reference)" : ""), false, true);
            List<String> labels = new ArrayList<>();
            for (RunResult r : e.getValue()) {
                double xv = r.get(x), yv = r.get("val_loss");
                if (!Double.isFinite(xv) || !Double.isFinite(yv)) continue;
                s.add(xv, yv);
                labels.add(e.getKey() + " s" + r.seed());
            }
            if (s.getItemCount() == 0) continue;                       // nothing plotted: not in the legend either
            data.addSeries(s);
            pointLabels.add(labels);
            refSeries.add(ref);
        }
        JFreeChart c = ChartFactory.createScatterPlot(xLabel + " vs validation loss (one point per run)", xLabel, "validation loss", data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot p = c.getXYPlot();
        p.setBackgroundPaint(Color.WHITE);
        p.setDomainGridlinePaint(new Color(0xdddddd));
        p.setRangeGridlinePaint(new Color(0xdddddd));
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(false, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            r.setSeriesPaint(i, Plots.colour(i));
            r.setSeriesShape(i, refSeries.get(i) ? new Rectangle2D.Double(-5, -5, 10, 10) : new Ellipse2D.Double(-4.5, -4.5, 9, 9));
        }
        r.setDefaultItemLabelGenerator((ds, series, item) -> pointLabels.get(series).get(item));
        r.setDefaultItemLabelsVisible(true);
        r.setDefaultItemLabelFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 10));
        r.setDefaultItemLabelPaint(Color.DARK_GRAY);
        p.setRenderer(r);
        NumberAxis xAxis = Ticks.plain((NumberAxis) p.getDomainAxis()), yAxis = Ticks.plain((NumberAxis) p.getRangeAxis());
        for (NumberAxis a : List.of(xAxis, yAxis)) {
            a.setAutoRangeIncludesZero(false);
            a.setAutoRangeMinimumSize(1e-3);                            // equal values still get a readable axis
            a.setUpperMargin(0.12);                                     // room for the labels of the outer points
            a.setLowerMargin(0.08);
        }
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
            if (s.getItemCount() > 0) data.addSeries(s);                // the legend lists only what is plotted
        }
        JFreeChart c = ChartFactory.createXYLineChart("routing purity over training (validation, mean over seeds)", "step", "purity",
                data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot p = c.getXYPlot();
        p.setBackgroundPaint(Color.WHITE);
        XYLineAndShapeRenderer rr = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) rr.setSeriesPaint(i, Plots.colour(i));
        p.setRenderer(rr);
        p.setDomainGridlinePaint(new Color(0xdddddd));
        p.setRangeGridlinePaint(new Color(0xdddddd));
        for (NumberAxis a : List.of((NumberAxis) p.getDomainAxis(), (NumberAxis) p.getRangeAxis())) {
            Ticks.plain(a);
            a.setAutoRangeIncludesZero(false);
            a.setAutoRangeMinimumSize(1e-3);
        }
        return c;
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
