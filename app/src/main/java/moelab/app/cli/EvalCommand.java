package moelab.app.cli;

import moelab.app.report.Metrics;
import moelab.nn.Transformer;
import moelab.train.EvalMetrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moe eval}: validation loss of a checkpoint, overall and per domain, with routing balance. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Validation loss of a checkpoint, overall and per domain.")
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "FILE|RUN_DIR", description = "checkpoint to evaluate, or a run folder (its latest checkpoint)")
    Path checkpoint;

    @Mixin ConfigOptions config;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        checkpoint = CheckpointArg.file(checkpoint, "--checkpoint");
        Resolved r = Resolved.forCheckpoint(config, checkpoint);
        r.cfg().run().applyKernels();
        Wiring.Data data = Wiring.loadData(r.cfg(), r.runDir());
        Transformer model = new Transformer(r.cfg().model(), r.cfg().train().seed());
        EvalMetrics m = Wiring.evaluate(model, r.cfg(), data, checkpoint, r.text());
        spec.commandLine().getOut().print(format(m));
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** Loss in nats and bits per token with perplexity, a row per domain, and MaxVio per MoE layer. */
    static String format(EvalMetrics m) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "validation after %d steps: loss %.4f nats/token (%.4f bits/token, perplexity %.2f)%n",
                m.step(), m.loss(), m.loss() / Math.log(2), Math.exp(m.loss())));
        int w = 6;
        for (String d : m.perDomain().keySet()) w = Math.max(w, d.length());
        if (!m.perDomain().isEmpty()) {
            sb.append(String.format(Locale.ROOT, "  %-" + w + "s  %8s  %10s%n", "domain", "loss", "perplexity"));
            for (Map.Entry<String, Double> e : m.perDomain().entrySet())
                sb.append(String.format(Locale.ROOT, "  %-" + w + "s  %8.4f  %10.2f%n", e.getKey(), e.getValue(), Math.exp(e.getValue())));
        }
        for (Metrics.Layer l : Metrics.layers(m.routing()))
            sb.append(String.format(Locale.ROOT, "  layer %d routing: MaxVio %.3f, load entropy %.3f of %.3f%n",
                    l.layer(), l.maxVio(), l.loadEntropy(), Math.log(l.load().length)));
        return sb.toString();
    }
}
