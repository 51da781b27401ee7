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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Appends the run's metric files: metrics.jsonl (one JSON object per step, routing statistics
 * per MoE layer), metrics.csv (the same as flat scalar columns), eval.jsonl (validation loss
 * overall and per domain, expert-by-domain counts per layer) and eval.csv (one flat row per
 * validation run: loss, per-domain losses, every probe scalar). Rows carry the step as the number
 * of optimizer steps done (1 for the first). Every line is flushed as it is written, so a crash
 * loses at most the line being written (a cut-off line is closed on reopening). Appends to
 * existing files, so a resumed run continues them; {@link #onResume} first cuts them back to the
 * checkpoint's step, so no step appears twice.
 */
public final class MetricsWriter implements TrainListener, AutoCloseable {
    private final RunFolder folder;
    private final List<String> domainNames;
    private Writer jsonl, csv, eval, evalCsv;
    private boolean csvHeaderDone;
    private List<String> evalColumns;                // eval.csv's header, fixed by its first row

    public MetricsWriter(RunFolder folder, List<String> domainNames) {
        this.folder = folder;
        this.domainNames = List.copyOf(domainNames);
        openAll();
    }

    private void openAll() {
        try {
            csvHeaderDone = Files.exists(folder.metricsCsv()) && Files.size(folder.metricsCsv()) > 0;
            evalColumns = existingHeader(folder.evalCsv());
            jsonl = open(folder.metricsJsonl());
            csv = open(folder.metricsCsv());
            eval = open(folder.evalJsonl());
            evalCsv = open(folder.evalCsv());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the metric files in " + folder.dir() + ": " + e.getMessage(), e);
        }
    }

    private static List<String> existingHeader(Path p) throws IOException {
        if (!Files.exists(p) || Files.size(p) == 0) return null;
        try (var r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
            String h = r.readLine();
            return h == null || h.isEmpty() ? null : List.of(h.split(",", -1));
        }
    }

    /** The run continues from a checkpoint of step lastStep: drops the rows logged after it. */
    @Override
    public void onResume(long lastStep) {
        close();
        StepTruncation.jsonl(folder.metricsJsonl(), lastStep);
        StepTruncation.csv(folder.metricsCsv(), lastStep);
        StepTruncation.jsonl(folder.evalJsonl(), lastStep);
        StepTruncation.csv(folder.evalCsv(), lastStep);
        openAll();
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
    public void onEval(EvalMetrics m) {
        Metrics.Eval row = Metrics.eval(m, domainNames);
        line(eval, json(row));
        Map<String, Double> flat = evalRow(row);
        if (evalColumns == null) {
            evalColumns = new ArrayList<>(flat.keySet());
            evalColumns.addFirst("step");
            line(evalCsv, String.join(",", evalColumns));
        }
        List<String> cells = new ArrayList<>(List.of(Long.toString(row.step())));
        for (String c : evalColumns.subList(1, evalColumns.size())) cells.add(num(flat.get(c)));
        line(evalCsv, String.join(",", cells));
    }

    /**
     * eval.csv's columns of one validation run: val_loss, val_loss.&lt;domain&gt; per domain, then
     * every probe scalar under its eval.jsonl name (purity, layer0.purity, ...). Names are kept
     * to letters, digits and ._- so no cell needs quoting.
     */
    static Map<String, Double> evalRow(Metrics.Eval row) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("val_loss", row.loss());
        row.perDomain().forEach((d, v) -> m.put("val_loss." + column(d), v));
        row.scalars().forEach((k, v) -> m.putIfAbsent(column(k), v));
        return m;
    }

    private static String column(String name) { return name.replaceAll("[^A-Za-z0-9_.-]", "_"); }

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
            throw new UncheckedIOException("cannot append to the metric files of " + folder.dir() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        IOException first = null;
        for (Writer w : List.of(jsonl, csv, eval, evalCsv)) {
            try {
                w.close();
            } catch (IOException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw new UncheckedIOException(first);
    }
}
