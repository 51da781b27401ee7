package moelab.app.report;

import moelab.train.EvalMetrics;
import moelab.train.StepMetrics;
import moelab.train.TrainListener;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The live progress line: step/total, loss, learning rate, tokens/s, ETA and a compact expert
 * load summary per MoE layer (smallest-largest load share and MaxVio). On a terminal one line
 * is rewritten in place (\r) every step; otherwise a line is printed every log_every steps.
 * Validation results get a line of their own.
 */
public final class ProgressLine implements TrainListener {
    private final PrintStream out;
    private final boolean tty;
    private final long totalSteps;
    private final int logEvery;
    private long firstStep = -1;
    private double firstElapsed;
    private int lastWidth;

    public ProgressLine(PrintStream out, boolean tty, long totalSteps, int logEvery) {
        this.out = out; this.tty = tty; this.totalSteps = totalSteps; this.logEvery = Math.max(1, logEvery);
    }

    /** A progress line on stderr, live when stderr is a terminal. */
    public static ProgressLine toStderr(long totalSteps, int logEvery) {
        java.io.Console c = System.console();
        return new ProgressLine(System.err, c != null && c.isTerminal(), totalSteps, logEvery);
    }

    /** Printed once before the first line that shows expert load. */
    static final String LEGEND = "load: per MoE layer L<i>, the least and most loaded expert's share of the routes;"
            + " mv = MaxVio = (max load - mean load) / mean load, 0 when balanced; drop = share of routes over capacity";

    @Override
    public void onStep(StepMetrics m) {
        if (firstStep < 0) {
            firstStep = m.step();
            firstElapsed = m.elapsedSec();
            if (!m.routing().isEmpty()) out.println(LEGEND);
        }
        boolean last = m.step() >= totalSteps;
        String line = format(m, eta(m));
        if (tty) {
            out.print("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
            lastWidth = line.length();
            if (last) { out.println(); lastWidth = 0; }
        } else if (m.step() == firstStep || m.step() % logEvery == 0 || last) {
            out.println(line);
        }
        out.flush();
    }

    @Override
    public void onEval(EvalMetrics m) {
        if (tty && lastWidth > 0) { out.println(); lastWidth = 0; }
        out.println(formatEval(m));
        out.flush();
    }

    /** Seconds left, from the time per step since the first step this listener saw; NaN when not known yet. */
    double eta(StepMetrics m) {
        long done = m.step() - firstStep;
        double perStep = done > 0 ? (m.elapsedSec() - firstElapsed) / done : firstStep == 1 ? m.elapsedSec() : Double.NaN;
        return perStep * (totalSteps - m.step());
    }

    String format(StepMetrics m, double etaSec) {
        StringBuilder sb = new StringBuilder();
        int w = Long.toString(totalSteps).length();
        sb.append(String.format(Locale.ROOT, "step %" + w + "d/%d | loss %.4f", m.step(), totalSteps, m.loss()));
        if (m.auxLoss() != 0) sb.append(String.format(Locale.ROOT, " (lm %.4f)", m.lmLoss()));
        sb.append(String.format(Locale.ROOT, " | lr %.2e | %s tok/s | ETA %s", m.lr(), compact(m.tokensPerSec()), duration(etaSec)));
        String load = loadSummary(Metrics.layers(m.routing()));
        if (!load.isEmpty()) sb.append(" | ").append(load);
        return sb.toString();
    }

    /** "L0 6-19% mv0.52 L1 ..." for up to 4 MoE layers; the worst layer by MaxVio beyond that. Drops when any. */
    static String loadSummary(List<Metrics.Layer> layers) {
        if (layers.isEmpty()) return "";
        StringBuilder sb = new StringBuilder("load");
        List<Metrics.Layer> shown = layers;
        if (layers.size() > 4) {
            Metrics.Layer worst = layers.getFirst();
            for (Metrics.Layer l : layers) if (l.maxVio() > worst.maxVio()) worst = l;
            sb.append(" worst of ").append(layers.size());
            shown = List.of(worst);
        }
        double drop = 0;
        for (Metrics.Layer l : layers) drop = Math.max(drop, l.dropRate());
        for (Metrics.Layer l : shown) {
            double min = 1, max = 0;
            for (double s : l.load()) { min = Math.min(min, s); max = Math.max(max, s); }
            sb.append(String.format(Locale.ROOT, " L%d %.0f-%.0f%% mv%.2f", l.layer(), 100 * min, 100 * max, l.maxVio()));
        }
        if (drop > 0) sb.append(String.format(Locale.ROOT, " drop<=%.1f%%", 100 * drop));
        return sb.toString();
    }

    static String formatEval(EvalMetrics m) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "eval @ step %d: val loss %.4f", m.step(), m.loss()));
        if (!m.perDomain().isEmpty()) {
            sb.append(" |");
            for (Map.Entry<String, Double> e : m.perDomain().entrySet())
                sb.append(String.format(Locale.ROOT, " %s %.4f", e.getKey(), e.getValue()));
        }
        return sb.toString();
    }

    /** 41234 -> "41.2k". */
    static String compact(double v) {
        if (!Double.isFinite(v)) return "?";
        if (v >= 1e6) return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        if (v >= 1e3) return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        return String.format(Locale.ROOT, "%.0f", v);
    }

    /** 83 -> "1m23s", 7300 -> "2h01m". */
    static String duration(double sec) {
        if (!Double.isFinite(sec) || sec < 0) return "?";
        long s = Math.round(sec);
        if (s < 60) return s + "s";
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
