package moelab.app.report;

import moelab.app.config.ConfigLoader;
import moelab.app.config.RunConfig;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a run's report from its folder alone (config.yaml and the metric files): the PNG
 * charts in plots/ and index.html beside them. Run at the end of training and by
 * {@code moe report RUN_DIR}, so an interrupted run can be reported too.
 */
public final class Report {
    static { System.setProperty("java.awt.headless", "true"); }      // before any AWT class loads

    private Report() {}

    /** What was written: plots (relative to the run folder) and the HTML page. */
    public record Result(List<String> plots, Path index) {}

    public static Result generate(Path runDir) {
        RunFolder folder = RunFolder.open(runDir);
        RunConfig cfg = ConfigLoader.fromYaml(folder.readConfig());
        RunMetrics rm = RunMetrics.read(folder);
        try {
            Files.createDirectories(folder.plotsDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + folder.plotsDir() + ": " + e.getMessage(), e);
        }
        List<String> plots = new ArrayList<>();
        List<String> heatmaps = new ArrayList<>();
        if (!rm.steps().isEmpty() || !rm.evals().isEmpty()) {
            plots.add(save(folder, "loss.png", Plots.loss(rm), 480));
            if (Plots.hasDomainLoss(rm)) plots.add(save(folder, "domain_loss.png", Plots.domainLoss(rm), 420));
            if (!rm.steps().isEmpty()) plots.add(save(folder, "optimizer.png", Plots.optimizer(rm), 420));
        }
        List<Integer> moeLayers = Plots.moeLayers(rm);
        if (!moeLayers.isEmpty()) {
            plots.add(save(folder, "expert_load.png", Plots.expertLoad(rm), expertLoadHeight(rm, moeLayers.size())));
            plots.add(save(folder, "routing_stats.png", Plots.routingStats(rm), 520));
        }
        if (Plots.hasRoutingMetrics(rm)) plots.add(save(folder, "routing_metrics.png", Plots.routingMetrics(rm), 620));
        Metrics.Eval last = rm.lastEval();
        if (last != null)
            for (Metrics.DomainCounts dc : last.routing()) {
                heatmaps.add(savePng(folder, "routing_heatmap_l" + dc.layer() + ".png", Plots.heatmap(dc, last.step())));
                if (rm.evals().size() > 1)
                    heatmaps.add(savePng(folder, "routing_heatmap_l" + dc.layer() + "_over_training.png",
                            Plots.heatmapOverTraining(rm.evals(), dc.layer())));
            }
        plots.addAll(heatmaps);
        RunFolder.writeAtomically(folder.indexHtml(), IndexPage.html(folder.dir().getFileName().toString(), cfg, rm, plots));
        return new Result(List.copyOf(plots), folder.indexHtml());
    }

    // about 9 px per expert row (at least 90 per panel), plus title, step axis and colour legend
    private static int expertLoadHeight(RunMetrics rm, int layers) {
        int experts = rm.steps().stream().flatMap(s -> s.layers().stream()).mapToInt(l -> l.load().length).max().orElse(8);
        return 150 + layers * Math.max(90, 9 * experts + 10);
    }

    private static String savePng(RunFolder folder, String file, java.awt.image.BufferedImage img) {
        String rel = RunFolder.PLOTS + "/" + file;
        try {
            ImageIO.write(img, "png", folder.dir().resolve(rel).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + rel + ": " + e.getMessage(), e);
        }
        return rel;
    }

    private static String save(RunFolder folder, String file, org.jfree.chart.JFreeChart chart, int height) {
        String rel = RunFolder.PLOTS + "/" + file;
        Plots.save(chart, folder.dir().resolve(rel), height);
        return rel;
    }
}
