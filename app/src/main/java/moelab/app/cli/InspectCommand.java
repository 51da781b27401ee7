package moelab.app.cli;

import moelab.app.lm.Inspector;
import moelab.app.lm.RoutingTrace;
import moelab.nn.Transformer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code moe inspect}: which experts each token of a text goes to, per MoE layer, with gate weights. */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Show the routing of a text: per token and MoE layer, the chosen experts and their gate weights.")
public final class InspectCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", paramLabel = "FILE|RUN_DIR",
            description = "checkpoint to load, or a run folder (its latest checkpoint) (without it: the untrained model of --config, i.e. routing at init)")
    Path checkpoint;

    @Option(names = "--text", required = true, description = "text to route") String text;

    @Mixin ConfigOptions config;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        checkpoint = CheckpointArg.file(checkpoint, "--checkpoint");
        Resolved r = Resolved.forCheckpoint(config, checkpoint);
        RoutingTrace trace = new RoutingTrace();
        Transformer model = r.model(checkpoint, trace.routers(), spec.commandLine().getErr(), "inspecting");
        Inspector.Result res = Inspector.inspect(model, trace, Wiring.tokenizer(r.cfg(), r.runDir()), text);
        spec.commandLine().getOut().print(Inspector.table(res));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
