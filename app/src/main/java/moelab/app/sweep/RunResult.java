package moelab.app.sweep;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import moelab.app.report.Metrics;
import moelab.app.report.RunFolder;
import moelab.app.report.RunMetrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A finished run's final numbers, the content of its {@code done.json} (written atomically when
 * the run ends; its presence is what marks a run done).
 *
 * @param values final metrics by name: val_loss, domain_loss_macro (mean of the per-domain
 *               losses), train_drop_rate (mean over the last tenth of the steps, at least one, of
 *               the per-layer mean drop rate), loss.&lt;domain&gt;, and every eval scalar
 *               (purity, utilization, ...) of the last validation run; null = not available
 * @param identity what defined the run (see RunIdentity); null in a done.json written without one
 */
public record RunResult(String id, String label, long seed, long step, double wallSec, Map<String, Double> values,
                        Map<String, String> identity) {
    public static final String FILE = "done.json";

    static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    /** The final numbers of a run folder's metric files. */
    public static RunResult of(SweepPlan.Run run, RunFolder folder, double wallSec, RunIdentity identity) {
        RunMetrics rm = RunMetrics.read(folder);
        Metrics.Eval last = rm.lastEval();
        Map<String, Double> v = new LinkedHashMap<>();
        v.put("val_loss", last == null ? null : last.loss());
        Double macro = null;
        if (last != null && !last.perDomain().isEmpty()) {
            double s = 0;
            for (Double x : last.perDomain().values()) s += x == null ? Double.NaN : x;
            macro = s / last.perDomain().size();
            if (macro.isNaN()) macro = null;
        }
        v.put("domain_loss_macro", macro);
        v.put("train_drop_rate", trainDropRate(rm.steps()));
        if (last != null) {
            last.perDomain().forEach((d, x) -> v.put("loss." + d, x));
            last.scalars().forEach(v::put);
        }
        long step = rm.lastStep() == null ? 0 : rm.lastStep().step();
        return new RunResult(run.id(), run.label(), run.seed(), step, wallSec, v, identity.keys());
    }

    /** Mean over the last max(1, n/10) steps of the mean over layers of the drop rate; null without steps. */
    static Double trainDropRate(List<Metrics.Step> steps) {
        if (steps.isEmpty()) return null;
        int n = Math.max(1, steps.size() / 10);
        double sum = 0;
        int count = 0;
        for (Metrics.Step s : steps.subList(steps.size() - n, steps.size()))
            for (Metrics.Layer l : s.layers()) { sum += l.dropRate(); count++; }
        return count == 0 ? null : sum / count;
    }

    public void write(Path dir) {
        try {
            RunFolder.writeAtomically(dir.resolve(FILE), JSON.writeValueAsString(this));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(FILE) + ": " + e.getMessage(), e);
        }
    }

    /** The run's done.json, or null when the run is not done (or its done.json is unreadable: then it runs again). */
    public static RunResult read(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) return null;
        try {
            return JSON.readValue(f.toFile(), RunResult.class);
        } catch (IOException e) {
            return null;
        }
    }

    /** A value, NaN when absent or null. */
    public double get(String name) {
        Double x = values.get(name);
        return x == null ? Double.NaN : x;
    }
}
