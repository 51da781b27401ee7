package moelab.app.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import moelab.train.EvalMetrics;
import moelab.train.StepMetrics;
import moelab.train.TrainListener;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Appends the run's metric files: metrics.jsonl (one JSON object per step, routing statistics
 * per MoE layer), metrics.csv (the same as flat scalar columns) and eval.jsonl (validation loss
 * overall and per domain, expert-by-domain counts per layer). Every line is flushed as it is
 * written, so a crash loses at most the line being written (a cut-off line is closed on reopening). Appends to existing files, so a
 * resumed run continues them (readers keep the last line of a step written twice).
 */
public final class MetricsWriter implements TrainListener, AutoCloseable {
    private final List<String> domainNames;
    private final Writer jsonl, csv, eval;
    private final Path csvPath;
    private boolean csvHeaderDone;

    public MetricsWriter(RunFolder folder, List<String> domainNames) {
        this.domainNames = List.copyOf(domainNames);
        this.csvPath = folder.metricsCsv();
        try {
            csvHeaderDone = Files.exists(csvPath) && Files.size(csvPath) > 0;
            jsonl = open(folder.metricsJsonl());
            csv = open(csvPath);
            eval = open(folder.evalJsonl());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the metric files in " + folder.dir() + ": " + e.getMessage(), e);
        }
    }

    static Writer open(Path p) throws IOException {
        boolean cutOff = false;                                             // a crash mid-line: start on a fresh line
        if (Files.exists(p) && Files.size(p) > 0)
            try (var ch = Files.newByteChannel(p)) {
                java.nio.ByteBuffer last = java.nio.ByteBuffer.allocate(1);
                ch.position(ch.size() - 1).read(last);
                cutOff = last.get(0) != '\n';
            }
        Writer w = new BufferedWriter(Files.newBufferedWriter(p, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE));
        if (cutOff) w.write('\n');
        return w;
    }

    @Override
    public void onStep(StepMetrics m) {
        Metrics.Step row = Metrics.step(m);
        line(jsonl, json(row));
        if (!csvHeaderDone) {
            line(csv, String.join(",", csvHeader(row)));
            csvHeaderDone = true;
        }
        line(csv, String.join(",", csvValues(row)));
    }

    @Override
    public void onEval(EvalMetrics m) { line(eval, json(Metrics.eval(m, domainNames))); }

    /** Column names: the step scalars, then per MoE layer its statistics and each expert's load share. */
    static List<String> csvHeader(Metrics.Step row) {
        List<String> h = new ArrayList<>(List.of("step", "loss", "lm_loss", "aux_loss", "lr", "grad_norm", "tokens_per_sec", "elapsed_sec"));
        for (Metrics.Layer l : row.layers()) {
            String p = "l" + l.layer() + "_";
            h.addAll(List.of(p + "max_vio", p + "drop_rate", p + "router_entropy", p + "load_entropy"));
            for (int e = 0; e < l.load().length; e++) h.add(p + "load_e" + e);
        }
        return h;
    }

    static List<String> csvValues(Metrics.Step row) {
        List<String> v = new ArrayList<>(List.of(Long.toString(row.step()), num(row.loss()), num(row.lmLoss()), num(row.auxLoss()),
                num(row.lr()), num(row.gradNorm()), num(row.tokensPerSec()), num(row.elapsedSec())));
        for (Metrics.Layer l : row.layers()) {
            v.addAll(List.of(num(l.maxVio()), num(l.dropRate()), num(l.routerEntropy()), num(l.loadEntropy())));
            for (double x : l.load()) v.add(num(x));
        }
        return v;
    }

    private static String num(Double x) { return x == null ? "" : Double.toString(x); }

    private static String json(Object row) {
        try {
            return Metrics.JSON.writeValueAsString(row);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a metrics row as JSON", e);
        }
    }

    private void line(Writer w, String s) {
        try {
            w.write(s);
            w.write('\n');
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the metric files of " + csvPath.getParent() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        IOException first = null;
        for (Writer w : List.of(jsonl, csv, eval)) {
            try {
                w.close();
            } catch (IOException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw new UncheckedIOException(first);
    }
}
