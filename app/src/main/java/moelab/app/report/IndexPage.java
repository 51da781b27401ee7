package moelab.app.report;

import moelab.app.config.RunConfig;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import moelab.train.TrainConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The run's index.html: a summary table and the plots, one static page with relative links. */
final class IndexPage {
    private IndexPage() {}

    static String html(String runName, RunConfig cfg, RunMetrics rm, List<String> plots) {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>")
                .append(esc(runName)).append(" - moe run report</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:2em;max-width:1400px;color:#222}")
                .append("table{border-collapse:collapse;margin:0.5em 2em 1em 0;display:inline-table;vertical-align:top}")
                .append("td,th{border:1px solid #ccc;padding:3px 10px;text-align:left}th{background:#f4f4f4}")
                .append("td.n{text-align:right;font-variant-numeric:tabular-nums}")
                .append("img{max-width:100%;border:1px solid #eee;margin:0.5em 0}")
                .append(".maps img{max-width:48%;margin-right:1%}")
                .append("\n</style></head><body>\n");
        b.append("<h1>Run ").append(esc(runName)).append("</h1>\n");
        b.append("<p>Files: <a href=\"config.yaml\">config.yaml</a> · <a href=\"metrics.jsonl\">metrics.jsonl</a> · ")
                .append("<a href=\"metrics.csv\">metrics.csv</a> · <a href=\"eval.jsonl\">eval.jsonl</a> · <a href=\"checkpoints/\">checkpoints/</a></p>\n");

        b.append("<h2>Summary</h2>\n");
        table(b, "Model", modelRows(cfg.model()));
        table(b, "Training", trainRows(cfg));
        table(b, "Results", resultRows(cfg, rm));
        Metrics.Eval last = rm.lastEval();
        if (last != null && !last.perDomain().isEmpty()) {
            List<String[]> rows = new ArrayList<>();
            for (Map.Entry<String, Double> e : last.perDomain().entrySet()) rows.add(new String[]{e.getKey(), f4(e.getValue())});
            table(b, "Validation loss per domain (step " + last.step() + ")", rows);
        }
        Metrics.Step lastStep = rm.lastStep();
        if (lastStep != null && !lastStep.layers().isEmpty()) {
            b.append("<table><tr><th colspan=\"5\">Routing at the last step (").append(lastStep.step()).append(")</th></tr>\n")
                    .append("<tr><th>layer</th><th>min-max load share</th><th>MaxVio</th><th>drop rate</th><th>router entropy (nats)</th></tr>\n");
            for (Metrics.Layer l : lastStep.layers()) {
                double min = Arrays.stream(l.load()).min().orElse(0), max = Arrays.stream(l.load()).max().orElse(0);
                b.append("<tr><td>").append(l.layer()).append("</td><td class=\"n\">")
                        .append(String.format(Locale.ROOT, "%.1f%% - %.1f%%", 100 * min, 100 * max)).append("</td><td class=\"n\">")
                        .append(String.format(Locale.ROOT, "%.3f", l.maxVio())).append("</td><td class=\"n\">")
                        .append(String.format(Locale.ROOT, "%.2f%%", 100 * l.dropRate())).append("</td><td class=\"n\">")
                        .append(l.routerEntropy() == null ? "-" : String.format(Locale.ROOT, "%.3f", l.routerEntropy())).append("</td></tr>\n");
            }
            b.append("</table>\n");
        }
        if (rm.skippedLines() > 0)
            b.append("<p><em>").append(rm.skippedLines()).append(" cut-off line(s) in the metric files were skipped.</em></p>\n");

        if (plots.isEmpty()) b.append("<p>No metrics yet: the run has not logged a step.</p>\n");
        List<String> maps = new ArrayList<>();
        for (String p : plots) {
            if (p.contains("routing_heatmap")) { maps.add(p); continue; }
            b.append("<h2>").append(esc(title(p))).append("</h2>\n<img src=\"").append(esc(p)).append("\" alt=\"").append(esc(title(p))).append("\">\n");
        }
        if (!maps.isEmpty()) {
            b.append("<h2>Expert-by-domain routing (last validation)</h2>\n<div class=\"maps\">\n");
            for (String p : maps) b.append("<img src=\"").append(esc(p)).append("\" alt=\"").append(esc(p)).append("\">\n");
            b.append("</div>\n");
        }
        b.append("</body></html>\n");
        return b.toString();
    }

    private static List<String[]> modelRows(ModelConfig m) {
        ParamCount pc = ParamCount.of(m);
        List<String[]> r = new ArrayList<>();
        r.add(new String[]{"layers x d_model", m.layers() + " x " + m.dModel()});
        r.add(new String[]{"heads", Integer.toString(m.heads())});
        r.add(new String[]{"vocab", Integer.toString(m.vocabSize())});
        MoeConfig moe = m.moe();
        if (moe != null) {
            int moeLayers = 0;
            for (int l = 0; l < m.layers(); l++) if (m.isMoeLayer(l)) moeLayers++;
            r.add(new String[]{"MoE", "E=" + moe.experts() + ", k=" + moe.topK() + ", expert d_ff " + moe.dFf()
                    + (moe.sharedExperts() > 0 ? ", " + moe.sharedExperts() + " shared" : "") + " in " + moeLayers + " of " + m.layers() + " blocks"});
            r.add(new String[]{"router", moe.router() + (moe.normTopK() ? " (softmax over top-k)" : "")
                    + ", aux " + moe.auxLossCoef() + ", z " + moe.zLossCoef()});
            r.add(new String[]{"capacity", moe.capacityFactor() == 0 ? "dropless" : "factor " + moe.capacityFactor() + ", drop by " + moe.dropPolicy()});
        } else {
            r.add(new String[]{"feed-forward", "dense, d_ff " + m.dFf()});
        }
        r.add(new String[]{"parameters", String.format(Locale.ROOT, "%,d", pc.total())});
        r.add(new String[]{"active per token", String.format(Locale.ROOT, "%,d", pc.activePerToken())});
        return r;
    }

    private static List<String[]> trainRows(RunConfig cfg) {
        TrainConfig t = cfg.train();
        return List.of(
                new String[]{"steps", Integer.toString(t.steps())},
                new String[]{"tokens per step", t.microBatch() + " x " + t.seqLen() + (t.gradAccum() > 1 ? " x " + t.gradAccum() : "") + " = " + cfg.tokensPerStep()},
                new String[]{"lr", t.lr() + " -> " + t.minLr() + ", warm-up " + t.warmupSteps()},
                new String[]{"weight decay, clip", t.weightDecay() + ", " + t.gradClip()},
                new String[]{"seed", Long.toString(t.seed())},
                new String[]{"data", cfg.data().path() + " (" + cfg.data().tokenizer() + " tokens, " + cfg.data().composition() + " batches)"},
                new String[]{"kernels", cfg.run().kernels() + ", threads " + (cfg.run().threads() == 0 ? "all" : cfg.run().threads())});
    }

    private static List<String[]> resultRows(RunConfig cfg, RunMetrics rm) {
        List<String[]> r = new ArrayList<>();
        List<Metrics.Step> steps = rm.steps();
        r.add(new String[]{"steps done", steps.isEmpty() ? "0" : steps.getLast().step() + " of " + cfg.train().steps()});
        if (!steps.isEmpty()) {
            int n = Math.min(10, steps.size());
            double sum = 0;
            int cnt = 0;
            for (Metrics.Step s : steps.subList(steps.size() - n, steps.size())) {
                Double l = s.lmLoss() != null ? s.lmLoss() : s.loss();
                if (l != null) { sum += l; cnt++; }
            }
            r.add(new String[]{"first train loss", f4(steps.getFirst().lmLoss())});
            r.add(new String[]{"final train loss (mean of last " + n + ")", cnt == 0 ? "-" : f4(sum / cnt)});
            r.add(new String[]{"tokens/s (median)", String.format(Locale.ROOT, "%,.0f", medianTokensPerSec(steps))});
            Double el = steps.getLast().elapsedSec();
            r.add(new String[]{"wall time", el == null ? "-" : ProgressLine.duration(el)});
        }
        Metrics.Eval last = rm.lastEval();
        if (last != null) {
            r.add(new String[]{"final val loss (step " + last.step() + ")", f4(last.loss())});
            double best = rm.evals().stream().map(Metrics.Eval::loss).filter(x -> x != null).mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
            r.add(new String[]{"best val loss", f4(best)});
        }
        return r;
    }

    /** Median tokens/s, skipping the first steps (JIT warm-up) when there are enough. */
    static double medianTokensPerSec(List<Metrics.Step> steps) {
        int skip = steps.size() > 10 ? 3 : 0;
        double[] v = steps.subList(skip, steps.size()).stream().map(Metrics.Step::tokensPerSec).filter(x -> x != null)
                .mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) return Double.NaN;
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static void table(StringBuilder b, String title, List<String[]> rows) {
        b.append("<table><tr><th colspan=\"2\">").append(esc(title)).append("</th></tr>\n");
        for (String[] r : rows) b.append("<tr><td>").append(esc(r[0])).append("</td><td class=\"n\">").append(esc(r[1])).append("</td></tr>\n");
        b.append("</table>\n");
    }

    private static String title(String plot) {
        String f = plot.substring(plot.lastIndexOf('/') + 1).replace(".png", "");
        return switch (f) {
            case "loss" -> "Loss";
            case "domain_loss" -> "Validation loss per domain";
            case "optimizer" -> "Learning rate and gradient norm";
            case "expert_load" -> "Expert load over time";
            case "routing_stats" -> "Routing statistics over time (training batches)";
            case "routing_metrics" -> "Routing metrics over time (validation)";
            default -> f.replace('_', ' ');
        };
    }

    private static String f4(Double v) { return v == null || v.isNaN() ? "-" : String.format(Locale.ROOT, "%.4f", v); }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
