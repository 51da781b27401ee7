package moelab.app.report;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The run report's charts as PNG files: loss curves, expert load share over time, routing
 * statistics over time, learning rate and gradient norm (JFreeChart), and expert-by-domain
 * routing heatmaps (drawn with Java2D, one per MoE layer). Runs headless.
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

    static Color colour(int i) {
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

    /** Train loss (raw and smoothed), validation loss, validation loss per domain. */
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
        Map<String, XYSeries> domains = new LinkedHashMap<>();
        for (Metrics.Eval ev : rm.evals()) {
            if (ev.loss() != null) val.add(ev.step(), ev.loss());
            ev.perDomain().forEach((name, v) -> {
                if (v != null) domains.computeIfAbsent(name, n -> new XYSeries("val: " + n)).add(ev.step(), v);
            });
        }
        data.addSeries(raw);
        data.addSeries(avg);
        data.addSeries(val);
        domains.values().forEach(data::addSeries);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
        r.setSeriesPaint(0, new Color(0x9ecae1));
        r.setSeriesStroke(0, new BasicStroke(0.8f));
        r.setSeriesPaint(1, new Color(0x1f77b4));
        r.setSeriesStroke(1, new BasicStroke(2f));
        r.setSeriesPaint(2, new Color(0xff7f0e));
        r.setSeriesStroke(2, new BasicStroke(2.5f));
        r.setSeriesShapesVisible(2, true);
        for (int i = 0; i < domains.size(); i++) {
            r.setSeriesPaint(3 + i, DOMAIN_COLORS[i % DOMAIN_COLORS.length]);
            r.setSeriesStroke(3 + i, new BasicStroke(1.3f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[]{5f, 4f}, 0f));
            r.setSeriesShapesVisible(3 + i, true);
        }
        XYPlot plot = plot(data, "loss (nats/token)", r);
        NumberAxis y = (NumberAxis) plot.getRangeAxis();
        y.setAutoRangeIncludesZero(false);
        return chart("Loss", plot);
    }

    /** Each expert's share of the routes versus step, one panel per MoE layer; the dashed line is 1/E. */
    public static JFreeChart expertLoad(RunMetrics rm) {
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(new NumberAxis("step"));
        combined.setGap(8);
        LegendItemCollection legend = null;
        int smoothed = 0;
        for (int layer : moeLayers(rm)) {
            XYSeriesCollection data = new XYSeriesCollection();
            int experts = 0;
            for (Metrics.Step st : rm.steps())
                for (Metrics.Layer l : st.layers()) if (l.layer() == layer) experts = Math.max(experts, l.load().length);
            List<Double> x = new ArrayList<>();
            List<double[]> loads = new ArrayList<>();
            for (Metrics.Step st : rm.steps())
                for (Metrics.Layer l : st.layers())
                    if (l.layer() == layer) { x.add((double) st.step()); loads.add(l.load()); }
            int h = halfWindow(x.size());
            for (int e = 0; e < experts; e++) {
                final int ex = e;
                double[] y = smooth(loads.stream().mapToDouble(a -> ex < a.length ? a[ex] : 0).toArray(), h);
                XYSeries series = new XYSeries("expert " + e);
                for (int i = 0; i < y.length; i++) series.add(x.get(i).doubleValue(), y[i]);
                data.addSeries(series);
            }
            if (h > 0) smoothed = 2 * h + 1;
            XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
            for (int e = 0; e < experts; e++) r.setSeriesStroke(e, new BasicStroke(1.1f));
            XYPlot p = plot(data, "L" + layer + " load share", r);
            if (experts > 0) p.addRangeMarker(dashed(1.0 / experts));
            if (legend == null) legend = p.getLegendItems();
            combined.add(p, 1);
        }
        if (legend != null) combined.setFixedLegendItems(legend);
        String title = "Expert load share per MoE layer (dashed: uniform 1/E" + (smoothed > 0 ? "; moving average over " + smoothed + " steps)" : ")");
        return new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, white(combined), true);
    }

    /** MaxVio, router entropy and drop rate per MoE layer versus step (moving averages on long runs). */
    public static JFreeChart routingStats(RunMetrics rm) {
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(new NumberAxis("step"));
        combined.setGap(8);
        combined.add(perLayerPanel(rm, "MaxVio", Metrics.Layer::maxVio), 1);
        boolean entropy = rm.steps().stream().flatMap(s -> s.layers().stream()).anyMatch(l -> l.routerEntropy() != null);
        if (entropy) combined.add(perLayerPanel(rm, "router entropy", Metrics.Layer::routerEntropy), 1);
        boolean drops = rm.steps().stream().flatMap(s -> s.layers().stream()).anyMatch(l -> l.dropRate() > 0);
        if (drops) combined.add(perLayerPanel(rm, "drop rate", Metrics.Layer::dropRate), 1);
        combined.setFixedLegendItems(combined.getSubplots().getFirst().getLegendItems());
        return new JFreeChart("Routing statistics per MoE layer", JFreeChart.DEFAULT_TITLE_FONT, white(combined), true);
    }

    /** Learning rate and global gradient norm (before clipping) versus step. */
    public static JFreeChart optimizer(RunMetrics rm) {
        XYSeries lr = new XYSeries("learning rate"), gn = new XYSeries("grad norm");
        for (Metrics.Step st : rm.steps()) {
            if (st.lr() != null) lr.add(st.step(), st.lr());
            if (st.gradNorm() != null) gn.add(st.step(), st.gradNorm());
        }
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(new NumberAxis("step"));
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
        NumberAxis y = new NumberAxis(yLabel);
        y.setAutoRangeIncludesZero(false);
        y.setAutoRangeMinimumSize(1e-3);                                // a flat curve gets a readable axis
        for (int i = 0; i < data.getSeriesCount(); i++)
            if (r.getSeriesPaint(i) == null) r.setSeriesPaint(i, colour(i));  // same colour per series in every panel
        XYPlot p = new XYPlot(data, new NumberAxis("step"), y, r);
        white(p);
        return p;
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
     * from white (0) to dark blue (the largest share in the map); 1/E is the balanced share.
     */
    public static BufferedImage heatmap(Metrics.DomainCounts dc, long step) {
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
        pg.dispose();
        int cellH = 26, left = 80, top = 60, bottom = 40;
        int w = Math.max(left + colW * cols.size() + 20, 420), h = top + cellH * experts + bottom;

        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(bold);
        g.drawString("Layer " + dc.layer() + ": share of each domain's routes per expert", 10, 20);
        g.setFont(font);
        g.drawString("validation at step " + step + "; balanced = " + String.format(java.util.Locale.ROOT, "%.1f%%", 100.0 / Math.max(experts, 1)), 10, 38);
        for (int d = 0; d < cols.size(); d++) {
            String c = cols.get(d);
            int x = left + d * colW + (colW - fm.stringWidth(c)) / 2;
            g.drawString(c, x, top - 6);
        }
        for (int e = 0; e < experts; e++) {
            int y = top + e * cellH;
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
