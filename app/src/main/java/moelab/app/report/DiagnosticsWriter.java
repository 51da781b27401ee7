package moelab.app.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import moelab.eval.RoutingStability;
import moelab.nn.Transformer;
import moelab.routing.Router;
import moelab.routing.RoutingRecord;
import moelab.routing.mar.MarRouter;
import moelab.routing.mar.MarStats;
import moelab.train.EvalMetrics;
import moelab.train.StepMetrics;
import moelab.train.TrainListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The routing-study files of a run, appended line by line (flushed) like the other metric files:
 * <ul>
 *   <li>{@code mar.jsonl} (memory-aware routing only), per step and MoE layer: memory_std (std over
 *       experts of alpha*cos(x, p)), logit_std (std over experts of z), their ratio, and
 *       topk_changed (share of top-k choices the memory changes);</li>
 *   <li>{@code probe.jsonl}, every train.probe_every steps: per layer switch_rate and consistency of
 *       the TRAINING routing of a fixed batch with every domain since the previous probe, and
 *       train_eval_jaccard ({@link RoutingStability});</li>
 *   <li>{@code train_routing.jsonl}, for the same windows: per layer the kept training routes per
 *       expert and domain over steps [step_from, step_to).</li>
 * </ul>
 * Register it after every listener that reads the routers' last-step values: the probe routes a
 * batch in training mode between steps (restoring all router state, not their last-step statistics).
 */
public final class DiagnosticsWriter implements TrainListener, AutoCloseable {
    public static final String MAR_JSONL = "mar.jsonl", PROBE_JSONL = "probe.jsonl", TRAIN_ROUTING_JSONL = "train_routing.jsonl";

    /** One MoE layer's memory statistics in one step (null = not finite / not measured). */
    public record MarLayer(int layer, Double memoryStd, Double logitStd, Double ratio, Double topkChanged) {}
    public record MarRow(long step, List<MarLayer> layers) {}
    public record ProbeLayer(int layer, Double switchRate, Double consistency, Double trainEvalJaccard) {}
    /** step = optimizer steps done; domains_covered = distinct domains in the probe batch. */
    public record ProbeRow(long step, int probeTokens, int domainsCovered, List<ProbeLayer> layers) {}
    public record CountsLayer(int layer, long[][] counts) {}
    /** counts[expert][domain], kept training routes of steps stepFrom+1 .. stepTo (optimizer steps done at the window's start and end); domains: column names. */
    public record TrainRoutingRow(long stepFrom, long stepTo, List<String> domains, List<CountsLayer> layers) {}

    private final Transformer model;
    private final List<String> domainNames;
    private final RoutingStability probe;     // null: no probe
    private final int every;
    private final Path dir;
    private Writer mar, probeOut, trainRouting;
    private final java.util.TreeMap<Integer, long[][]> counts = new java.util.TreeMap<>();
    private long windowFrom = -1;

    /**
     * @param probe the probe (its batch from {@link RoutingStability#probeBatch}), or null for none
     * @param every train.probe_every (0 = no probe and no train_routing lines)
     */
    public DiagnosticsWriter(RunFolder folder, Transformer model, List<String> domainNames, RoutingStability probe, int every) {
        this.model = model;
        this.domainNames = List.copyOf(domainNames);
        this.probe = probe;
        this.every = every;
        this.dir = folder.dir();
    }

    @Override
    public void onStep(StepMetrics m) {
        List<MarLayer> marLayers = new ArrayList<>();
        for (Router r : model.routers())
            if (r instanceof MarRouter mr) {
                MarStats s = mr.lastStepStats();
                int layer = layerOf(mr);
                marLayers.add(new MarLayer(layer, Metrics.fin(s.memoryStd()), Metrics.fin(s.logitStd()),
                        Metrics.fin(s.memoryStd() / s.logitStd()), Metrics.fin(s.topkChanged())));
            }
        if (!marLayers.isEmpty()) mar = line(mar, MAR_JSONL, new MarRow(m.step(), marLayers));
        if (every <= 0) return;
        if (windowFrom < 0) windowFrom = m.step() - 1;   // steps done when the window opened
        count(m.routing());
        long done = m.step();
        if (done % every != 0) return;
        List<CountsLayer> layers = new ArrayList<>();
        counts.forEach((l, c) -> layers.add(new CountsLayer(l, c)));
        trainRouting = line(trainRouting, TRAIN_ROUTING_JSONL, new TrainRoutingRow(windowFrom, done, domainNames, layers));
        counts.clear();
        windowFrom = -1;
        if (probe != null) {
            List<ProbeLayer> pl = new ArrayList<>();
            for (RoutingStability.Layer l : probe.measure(model))
                pl.add(new ProbeLayer(l.layer(), l.switchRate() == null ? null : Metrics.fin(l.switchRate()),
                        l.consistency() == null ? null : Metrics.fin(l.consistency()), Metrics.fin(l.trainEvalJaccard())));
            probeOut = line(probeOut, PROBE_JSONL, new ProbeRow(done, probe.probe().inputs().length, probe.domainsCovered(), pl));
        }
    }

    @Override public void onEval(EvalMetrics m) {}

    // The block index of a MAR router: model.routers() is in MoE-layer order.
    private int layerOf(MarRouter r) {
        int i = model.routers().indexOf(r);
        return i < model.moeLayers().size() ? model.moeLayers().get(i).layer() : i;
    }

    private void count(List<RoutingRecord> records) {
        int d = domainNames.size();
        for (RoutingRecord r : records) {
            if (r.domains() == null) continue;
            long[][] c = counts.computeIfAbsent(r.layer(), l -> new long[r.experts()][d]);
            for (int s = 0; s < r.selected().length; s++) {
                int dom = r.domains()[s / r.topK()];
                if (r.kept()[s] && dom >= 0 && dom < d) c[r.selected()[s]][dom]++;
            }
        }
    }

    private Writer line(Writer w, String file, Object row) {
        Path p = dir.resolve(file);
        try {
            if (w == null) w = MetricsWriter.open(p);   // appends; closes a line a crash cut off
            w.write(Metrics.JSON.writeValueAsString(row));
            w.write('\n');
            w.flush();
            return w;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a " + file + " row as JSON", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + p + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        IOException first = null;
        for (Writer w : new Writer[]{mar, probeOut, trainRouting}) {
            if (w == null) continue;
            try { w.close(); } catch (IOException e) { if (first == null) first = e; }
        }
        if (first != null) throw new UncheckedIOException(first);
    }
}
