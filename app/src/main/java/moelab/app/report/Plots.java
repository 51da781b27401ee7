package moelab.app.report;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Paint;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The run report's charts as PNG files: loss curves, validation loss per domain, expert x step
 * load heatmaps, routing statistics over time, the validation routing metrics per layer, learning
 * rate and gradient norm (JFreeChart), and expert-by-domain routing heatmaps (drawn with Java2D,
 * one per MoE layer). Runs headless.
 */
public final class Plots {
    static { System.setProperty("java.awt.headless", "true"); }

    private Plots() {}

    static final int WIDTH = 900;
    private static final Color[] DOMAIN_COLORS = {
            new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd), new Color(0x8c564b),
            new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)};
    /** Series colours (matplotlib's tab10, then darker variants), the same in every panel. */
    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
            new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)};

    public static Color colour(int i) {
        Color c = PALETTE[i % PALETTE.length];
        for (int round = i / PALETTE.length; round > 0; round--) c = c.darker();
        return c;
    }

    /** Steps per side of the centred moving average used for noisy per-step curves: about 1/60 of the run. */
    static int halfWindow(int points) { return Math.min(25, points / 120); }

    /** Centred moving average with half-width h (no lag, unlike an EMA); the ends average what they have. */
    static double[] smooth(double[] v, int h) {
        if (h <= 0) return v.clone();
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            int lo = Math.max(0, i - h), hi = Math.min(v.length - 1, i + h);
            double sum = 0;
            for (int j = lo; j <= hi; j++) sum += v[j];
            out[i] = sum / (hi - lo + 1);
        }
        return out;
    }

    /** Train loss (raw and smoothed) and validation loss; the per-domain losses have their own chart. */
    public static JFreeChart loss(RunMetrics rm) {
        XYSeriesCollection data = new XYSeriesCollection();
        List<double[]> pts = new ArrayList<>();
        for (Metrics.Step st : rm.steps()) {
            Double l = st.lmLoss() != null ? st.lmLoss() : st.loss();
            if (l != null) pts.add(new double[]{st.step(), l});
        }
        int h = Math.max(2, Math.min(25, pts.size() / 40));
        XYSeries raw = new XYSeries("train (lm loss)"), avg = new XYSeries("train, moving average"), val = new XYSeries("validation");
        double[] ys = smooth(pts.stream().mapToDouble(p -> p[1]).toArray(), h);
        for (int i = 0; i < pts.size(); i++) {
            raw.add(pts.get(i)[0], pts.get(i)[1]);
            avg.add(pts.get(i)[0], ys[i]);
        }
        for (Metrics.Eval ev : rm.evals()) if (ev.loss() != null) val.add(ev.step(), ev.loss());
        data.addSeries(raw);
        data.addSeries(avg);
        data.addSeries(val);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
        r.setSeriesPaint(0, new Color(0x9ecae1));
        r.setSeriesStroke(0, new BasicStroke(0.8f));
        r.setSeriesPaint(1, new Color(0x1f77b4));
        r.setSeriesStroke(1, new BasicStroke(2f));
        r.setSeriesPaint(2, new Color(0xff7f0e));
        r.setSeriesStroke(2, new BasicStroke(2.5f));
        r.setSeriesShapesVisible(2, true);
        XYPlot plot = plot(data, "loss (nats/token)", r);
        NumberAxis y = (NumberAxis) plot.getRangeAxis();
        y.setAutoRangeIncludesZero(false);
        return chart("Loss", plot);
    }

    /** Highest colour of the load heatmap: LOAD_SCALE_MAX times the balanced share or more is the darkest red. */
    static final double LOAD_SCALE_MAX = 3;

    /**
     * Expert x step load heatmap, one panel per MoE layer (OLMoE's style): cell (step, expert) is
     * the expert's share of the step's routes times E, so 1 (white) is balanced, blue is under-
     * and red over-loaded (clamped at 3x).
     */
    public static JFreeChart expertLoad(RunMetrics rm) {
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(Ticks.plain(new NumberAxis("step")));
        combined.setGap(10);
        LoadScale scale = new LoadScale();
        for (int layer : moeLayers(rm)) {
            List<Double> x = new ArrayList<>();
            List<double[]> loads = new ArrayList<>();
            for (Metrics.Step st : rm.steps())
                for (Metrics.Layer l : st.layers())
                    if (l.layer() == layer) { x.add((double) st.step()); loads.add(l.load()); }
            int experts = loads.stream().mapToInt(a -> a.length).max().orElse(0);
            double[][] xyz = new double[3][x.size() * experts];             // [x | expert | share x E] per cell
            for (int i = 0; i < x.size(); i++)
                for (int e = 0; e < experts; e++) {
                    int c = i * experts + e;
                    double[] load = loads.get(i);
                    xyz[0][c] = x.get(i);
                    xyz[1][c] = e;
                    xyz[2][c] = e < load.length ? load[e] * experts : 0;
                }
            DefaultXYZDataset data = new DefaultXYZDataset();
            data.addSeries("layer " + layer, xyz);
            XYBlockRenderer r = new XYBlockRenderer();
            r.setBlockWidth(stepSpacing(x));
            r.setBlockHeight(1);
            r.setPaintScale(scale);
            NumberAxis y = new NumberAxis("L" + layer + " expert");
            y.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
            y.setRange(-0.5, Math.max(experts, 1) - 0.5);
            y.setInverted(true);                                            // expert 0 on top, like a table
            XYPlot p = new XYPlot(data, null, y, r);
            p.setBackgroundPaint(Color.WHITE);
            p.setDomainGridlinesVisible(false);
            p.setRangeGridlinesVisible(false);
            combined.add(p, Math.max(experts, 4));
        }
        JFreeChart c = new JFreeChart("Expert load per MoE layer (share of routes x E)", JFreeChart.DEFAULT_TITLE_FONT, combined, false);
        NumberAxis legendAxis = Ticks.plain(new NumberAxis("load share x E: 1 = balanced, 0 = unused, >= " + (int) LOAD_SCALE_MAX + " darkest"));
        legendAxis.setRange(0, LOAD_SCALE_MAX);
        PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
        legend.setPosition(RectangleEdge.BOTTOM);
        legend.setStripWidth(12);
        legend.setSubdivisionCount(120);
        legend.setMargin(4, 60, 4, 60);
        c.addSubtitle(legend);
        return c;
    }

    /** Diverging colours for load share x E: blue (0) - white (1, balanced) - red (LOAD_SCALE_MAX and above). */
    static final class LoadScale implements PaintScale, java.io.Serializable {
        private static final Color LOW = new Color(0x2166ac), HIGH = new Color(0xb2182b);

        @Override public double getLowerBound() { return 0; }
        @Override public double getUpperBound() { return LOAD_SCALE_MAX; }

        @Override public Paint getPaint(double v) {
            if (!Double.isFinite(v)) return Color.LIGHT_GRAY;
            if (v <= 1) return mix(LOW, Color.WHITE, Math.max(0, v));
            return mix(Color.WHITE, HIGH, Math.min(1, (v - 1) / (LOAD_SCALE_MAX - 1)));
        }

        private static Color mix(Color a, Color b, double t) {
            return new Color((int) Math.round(a.getRed() + t * (b.getRed() - a.getRed())),
                    (int) Math.round(a.getGreen() + t * (b.getGreen() - a.getGreen())),
                    (int) Math.round(a.getBlue() + t * (b.getBlue() - a.getBlue())));
        }
    }

    // median distance between logged steps: the width of one heatmap column
    private static double stepSpacing(List<Double> x) {
        if (x.size() < 2) return 1;
        double[] d = new double[x.size() - 1];
        for (int i = 1; i < x.size(); i++) d[i - 1] = x.get(i) - x.get(i - 1);
        java.util.Arrays.sort(d);
        return Math.max(d[d.length / 2], 1e-9);
    }

    /** True when some validation run reported per-domain losses. */
    static boolean hasDomainLoss(RunMetrics rm) { return rm.evals().stream().anyMatch(e -> !e.perDomain().isEmpty()); }

    /** Validation loss per domain versus step, with the overall validation loss as a dashed black line. */
    public static JFreeChart domainLoss(RunMetrics rm) {
        Map<String, XYSeries> domains = new LinkedHashMap<>();
        XYSeries all = new XYSeries("all domains");
        for (Metrics.Eval ev : rm.evals()) {
            if (ev.loss() != null) all.add(ev.step(), ev.loss());
            ev.perDomain().forEach((name, v) -> {
                if (v != null) domains.computeIfAbsent(name, XYSeries::new).add(ev.step(), v);
            });
        }
        XYSeriesCollection data = new XYSeriesCollection();
        domains.values().forEach(data::addSeries);
        data.addSeries(all);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < domains.size(); i++) r.setSeriesStroke(i, new BasicStroke(1.6f));
        r.setSeriesPaint(domains.size(), Color.BLACK);
        r.setSeriesStroke(domains.size(), new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[]{6f, 4f}, 0f));
        return chart("Validation loss per domain", plot(data, "loss (nats/token)", r));
    }

    /** The eval-time routing metrics drawn per layer, in panel order: scalar name and axis label. */
    static final List<String[]> ROUTING_METRICS = List.of(
            new String[]{"purity", "purity"}, new String[]{"nmi", "NMI(expert; domain)"}, new String[]{"utilization", "utilization U"});

    /** True when the validation runs reported per-layer routing metrics (runs with domain labels and MoE layers). */
    static boolean hasRoutingMetrics(RunMetrics rm) {
        return rm.evals().stream().anyMatch(e -> e.scalars().keySet().stream().anyMatch(k -> k.matches("layer\\d+\\.purity")));
    }

    /**
     * Purity, NMI and utilization of each MoE layer at every validation run (eval routing,
     * dropless); the dashed line in the purity panel is 1/D, the purity of domain-blind routing.
     */
    public static JFreeChart routingMetrics(RunMetrics rm) {
        java.util.TreeSet<Integer> layers = new java.util.TreeSet<>();
        for (Metrics.Eval ev : rm.evals())
            for (String k : ev.scalars().keySet())
                if (k.matches("layer\\d+\\.purity")) layers.add(Integer.parseInt(k.substring(5, k.indexOf('.'))));
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(Ticks.plain(new NumberAxis("step")));
        combined.setGap(8);
        for (String[] metric : ROUTING_METRICS) {
            XYSeriesCollection data = new XYSeriesCollection();
            for (int layer : layers) {
                XYSeries s = new XYSeries("layer " + layer);
                for (Metrics.Eval ev : rm.evals()) {
                    Double v = ev.scalars().get("layer" + layer + "." + metric[0]);
                    if (v != null) s.add(ev.step(), v);
                }
                data.addSeries(s);
            }
            XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
            r.setDefaultShape(new java.awt.geom.Ellipse2D.Double(-3.5, -3.5, 7, 7));  // one shape: colour tells the layer in every panel
            r.setAutoPopulateSeriesShape(false);
            XYPlot p = plot(data, metric[1], r);
            int domains = rm.lastEval() == null ? 0 : rm.lastEval().perDomain().size();
            if (metric[0].equals("purity") && domains > 0) {
                p.addRangeMarker(dashed(1.0 / domains));
                includeInRange(p, 1.0 / domains);
            }
            combined.add(p, 1);
        }
        combined.setFixedLegendItems(combined.getSubplots().getFirst().getLegendItems());
        JFreeChart c = new JFreeChart("Routing metrics per MoE layer (validation)", JFreeChart.DEFAULT_TITLE_FONT, white(combined), true);
        c.addSubtitle(new TextTitle("eval routing, dropless; dashed: purity 1/D of domain-blind routing", new Font(Font.SANS_SERIF, Font.PLAIN, 12)));
        return c;
    }

    /** MaxVio, router entropy and drop rate per MoE layer versus step (moving averages on long runs). */
    public static JFreeChart routingStats(RunMetrics rm) {
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(Ticks.plain(new NumberAxis("step")));
        combined.setGap(8);
        combined.add(perLayerPanel(rm, "MaxVio", Metrics.Layer::maxVio), 1);
        boolean entropy = rm.steps().stream().flatMap(s -> s.layers().stream()).anyMatch(l -> l.routerEntropy() != null);
        String note = null;
        if (entropy) {
            XYPlot p = perLayerPanel(rm, "router entropy (nats)", Metrics.Layer::routerEntropy);
            int experts = rm.steps().stream().flatMap(s -> s.layers().stream()).mapToInt(l -> l.load().length).max().orElse(0);
            if (experts > 1) {                                          // the entropy of a uniform router: the ceiling
                note = String.format(Locale.ROOT, "router entropy: mean over tokens of the entropy of the router probabilities; "
                        + "dashed: ln E = ln %d = %.3f nats, a uniform router", experts, Math.log(experts));
                p.addRangeMarker(dashed(Math.log(experts)));
                includeInRange(p, Math.log(experts));
            }
            combined.add(p, 1);
        }
        boolean drops = rm.steps().stream().flatMap(s -> s.layers().stream()).anyMatch(l -> l.dropRate() > 0);
        if (drops) combined.add(perLayerPanel(rm, "drop rate", Metrics.Layer::dropRate), 1);
        combined.setFixedLegendItems(combined.getSubplots().getFirst().getLegendItems());
        String smoothed = halfWindow(rm.steps().size()) > 0 ? " (moving average over " + (2 * halfWindow(rm.steps().size()) + 1) + " steps)" : "";
        JFreeChart c = new JFreeChart("Routing statistics per MoE layer" + smoothed, JFreeChart.DEFAULT_TITLE_FONT, white(combined), true);
        if (note != null) c.addSubtitle(new TextTitle(note, new Font(Font.SANS_SERIF, Font.PLAIN, 12)));
        return c;
    }

    /** Learning rate and global gradient norm (before clipping) versus step. */
    public static JFreeChart optimizer(RunMetrics rm) {
        XYSeries lr = new XYSeries("learning rate"), gn = new XYSeries("grad norm");
        for (Metrics.Step st : rm.steps()) {
            if (st.lr() != null) lr.add(st.step(), st.lr());
            if (st.gradNorm() != null) gn.add(st.step(), st.gradNorm());
        }
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(Ticks.plain(new NumberAxis("step")));
        combined.setGap(8);
        combined.add(plot(new XYSeriesCollection(lr), "learning rate", new XYLineAndShapeRenderer(true, false)), 1);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
        r.setSeriesPaint(0, new Color(0x2ca02c));
        combined.add(plot(new XYSeriesCollection(gn), "grad norm", r), 1);
        return new JFreeChart("Optimizer", JFreeChart.DEFAULT_TITLE_FONT, white(combined), false);
    }

    private static XYPlot perLayerPanel(RunMetrics rm, String label, Function<Metrics.Layer, Double> value) {
        XYSeriesCollection data = new XYSeriesCollection();
        Map<Integer, XYSeries> byLayer = new LinkedHashMap<>();
        for (int layer : moeLayers(rm)) {
            List<double[]> pts = new ArrayList<>();
            for (Metrics.Step st : rm.steps())
                for (Metrics.Layer l : st.layers()) {
                    Double v = l.layer() == layer ? value.apply(l) : null;
                    if (v != null) pts.add(new double[]{st.step(), v});
                }
            double[] y = smooth(pts.stream().mapToDouble(p -> p[1]).toArray(), halfWindow(pts.size()));
            XYSeries series = new XYSeries("layer " + layer);
            for (int i = 0; i < y.length; i++) series.add(pts.get(i)[0], y[i]);
            byLayer.put(layer, series);
        }
        byLayer.values().forEach(data::addSeries);
        return plot(data, label, new XYLineAndShapeRenderer(true, false));
    }

    static List<Integer> moeLayers(RunMetrics rm) {
        java.util.TreeSet<Integer> layers = new java.util.TreeSet<>();
        for (Metrics.Step st : rm.steps()) for (Metrics.Layer l : st.layers()) layers.add(l.layer());
        return new ArrayList<>(layers);
    }

    private static XYPlot plot(XYSeriesCollection data, String yLabel, XYLineAndShapeRenderer r) {
        NumberAxis y = Ticks.plain(new NumberAxis(yLabel));
        y.setAutoRangeIncludesZero(false);
        y.setAutoRangeMinimumSize(1e-3);                                // a flat curve gets a readable axis
        for (int i = 0; i < data.getSeriesCount(); i++)
            if (r.getSeriesPaint(i) == null) r.setSeriesPaint(i, colour(i));  // same colour per series in every panel
        XYPlot p = new XYPlot(data, Ticks.plain(new NumberAxis("step")), y, r);
        white(p);
        return p;
    }

    // widens the panel's y range so that v (a reference line) is inside it
    private static void includeInRange(XYPlot p, double v) {
        org.jfree.data.Range r = p.getDataRange(p.getRangeAxis());
        if (r == null) return;
        double lo = Math.min(r.getLowerBound(), v), hi = Math.max(r.getUpperBound(), v), pad = 0.05 * Math.max(hi - lo, 1e-3);
        p.getRangeAxis().setRange(lo - pad, hi + pad);
    }

    private static <P extends XYPlot> P white(P p) {
        p.setBackgroundPaint(Color.WHITE);
        p.setDomainGridlinePaint(new Color(0xdddddd));
        p.setRangeGridlinePaint(new Color(0xdddddd));
        return p;
    }

    private static JFreeChart chart(String title, XYPlot plot) {
        JFreeChart c = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        c.setBackgroundPaint(Color.WHITE);
        return c;
    }

    private static ValueMarker dashed(double v) {
        ValueMarker m = new ValueMarker(v);
        m.setPaint(Color.GRAY);
        m.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[]{4f, 4f}, 0f));
        return m;
    }

    /** Writes a chart as a PNG; taller for charts with several panels. */
    public static void save(JFreeChart chart, Path file, int height) {
        chart.setBackgroundPaint(Color.WHITE);
        try {
            ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, height);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Expert-by-domain heatmap of one layer: cell (expert, domain) = share of that domain's routes
     * that went to the expert (columns sum to 100%), plus a column over all tokens. Colour runs
     * from white (0) to dark blue (the largest share in the map); 1/E is the balanced share. Rows
     * are sorted by each expert's dominant domain (see {@link #expertOrder}), so specialised
     * experts form a diagonal.
     */
    public static BufferedImage heatmap(Metrics.DomainCounts dc, long step) {
        return heatmap(dc, step, "Layer " + dc.layer());
    }

    /**
     * Experts ordered by dominant domain: the domain whose routes the expert takes the largest
     * share of (column order; ties to the first domain), then by that share, largest first;
     * experts with no routes at all come last.
     */
    public static int[] expertOrder(Metrics.DomainCounts dc) {
        int experts = dc.counts().length, domains = dc.domains().size();
        long[] colTotal = new long[domains];
        for (long[] row : dc.counts()) for (int d = 0; d < domains; d++) colTotal[d] += row[d];
        int[] dominant = new int[experts];
        double[] top = new double[experts];
        for (int e = 0; e < experts; e++) {
            dominant[e] = domains;                                          // no routes: after every domain
            for (int d = 0; d < domains; d++) {
                double sh = colTotal[d] == 0 ? 0 : (double) dc.counts()[e][d] / colTotal[d];
                if (sh > top[e]) { top[e] = sh; dominant[e] = d; }
            }
        }
        return java.util.stream.IntStream.range(0, experts).boxed()
                .sorted(java.util.Comparator.<Integer>comparingInt(e -> dominant[e]).thenComparingDouble(e -> -top[e]).thenComparingInt(e -> e))
                .mapToInt(Integer::intValue).toArray();
    }

    /** The same with a given title (the sweep report names the configuration, layer and seed). */
    public static BufferedImage heatmap(Metrics.DomainCounts dc, long step, String title) {
        return heatmap(dc, step, title, expertOrder(dc));
    }

    /**
     * One layer's heatmap at every validation step, side by side and scaled to half size, so that
     * specialisation can be followed over training. Every panel keeps the experts in the order of
     * the last step (an expert stays on its row); panels of a layer missing from an eval are skipped.
     */
    public static BufferedImage heatmapOverTraining(List<Metrics.Eval> evals, int layer) {
        List<Metrics.DomainCounts> counts = new ArrayList<>();
        List<Long> steps = new ArrayList<>();
        for (Metrics.Eval e : evals)
            for (Metrics.DomainCounts dc : e.routing())
                if (dc.layer() == layer) { counts.add(dc); steps.add(e.step()); }
        if (counts.isEmpty()) throw new IllegalArgumentException("no routing counts for layer " + layer + " in any eval");
        int[] order = expertOrder(counts.get(counts.size() - 1));
        List<BufferedImage> panels = new ArrayList<>();
        for (int i = 0; i < counts.size(); i++)
            panels.add(heatmap(counts.get(i), steps.get(i), "Layer " + layer + ", step " + steps.get(i), order));
        int w = 0, h = 0;
        for (BufferedImage p : panels) { w += p.getWidth() / 2; h = Math.max(h, p.getHeight() / 2); }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        int x = 0;
        for (BufferedImage p : panels) {
            g.drawImage(p, x, 0, p.getWidth() / 2, p.getHeight() / 2, null);
            x += p.getWidth() / 2;
        }
        g.dispose();
        return img;
    }

    /** The heatmap with the experts drawn in the given row order (a permutation of the experts). */
    static BufferedImage heatmap(Metrics.DomainCounts dc, long step, String title, int[] order) {
        if (order.length != dc.counts().length)
            throw new IllegalArgumentException("expert order has " + order.length + " entries for " + dc.counts().length + " experts");
        int experts = dc.counts().length;
        List<String> cols = new ArrayList<>(dc.domains());
        cols.add("all");
        double[][] share = new double[experts][cols.size()];
        long[] colTotal = new long[cols.size()];
        for (int e = 0; e < experts; e++)
            for (int d = 0; d < dc.domains().size(); d++) {
                colTotal[d] += dc.counts()[e][d];
                colTotal[cols.size() - 1] += dc.counts()[e][d];
            }
        double max = 1e-12;
        for (int e = 0; e < experts; e++) {
            long rowAll = 0;
            for (int d = 0; d < dc.domains().size(); d++) {
                rowAll += dc.counts()[e][d];
                share[e][d] = colTotal[d] == 0 ? 0 : (double) dc.counts()[e][d] / colTotal[d];
                max = Math.max(max, share[e][d]);
            }
            share[e][cols.size() - 1] = colTotal[cols.size() - 1] == 0 ? 0 : (double) rowAll / colTotal[cols.size() - 1];
            max = Math.max(max, share[e][cols.size() - 1]);
        }

        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12), bold = font.deriveFont(Font.BOLD, 14f);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        FontMetrics fm = pg.getFontMetrics(font);
        int colW = 64;
        for (String c : cols) colW = Math.max(colW, fm.stringWidth(c) + 12);
        String heading = title + ": share of each domain's routes per expert";
        int headingW = pg.getFontMetrics(bold).stringWidth(heading) + 20;
        pg.dispose();
        int cellH = 26, left = 80, top = 60, bottom = 40;
        int w = Math.max(Math.max(left + colW * cols.size() + 20, 420), headingW), h = top + cellH * experts + bottom;

        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(bold);
        g.drawString(heading, 10, 20);
        g.setFont(font);
        g.drawString("validation at step " + step + "; balanced = " + String.format(java.util.Locale.ROOT, "%.1f%%", 100.0 / Math.max(experts, 1))
                + "; experts sorted by dominant domain" + (Arrays.equals(order, expertOrder(dc)) ? "" : " at the last step"), 10, 38);
        for (int d = 0; d < cols.size(); d++) {
            String c = cols.get(d);
            int x = left + d * colW + (colW - fm.stringWidth(c)) / 2;
            g.drawString(c, x, top - 6);
        }
        for (int row = 0; row < experts; row++) {
            int e = order[row], y = top + row * cellH;
            g.setColor(Color.BLACK);
            g.drawString("expert " + e, 10, y + cellH / 2 + 5);
            for (int d = 0; d < cols.size(); d++) {
                double v = share[e][d] / max;
                Color c = new Color((int) Math.round(255 - v * (255 - 8)), (int) Math.round(255 - v * (255 - 48)), (int) Math.round(255 - v * (255 - 107)));
                int x = left + d * colW;
                g.setColor(c);
                g.fillRect(x, y, colW, cellH);
                g.setColor(new Color(0xcccccc));
                g.drawRect(x, y, colW, cellH);
                g.setColor(v > 0.55 ? Color.WHITE : Color.BLACK);
                String text = String.format(java.util.Locale.ROOT, "%.1f%%", 100 * share[e][d]);
                g.drawString(text, x + (colW - fm.stringWidth(text)) / 2, y + cellH / 2 + 5);
            }
        }
        g.setColor(Color.DARK_GRAY);
        String totals = "routes: " + java.util.Arrays.stream(colTotal).mapToObj(Long::toString).reduce((a, b) -> a + " / " + b).orElse("");
        g.drawString(totals, 10, top + cellH * experts + 24);
        g.dispose();
        return img;
    }
}
