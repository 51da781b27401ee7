package moelab.app.cli;

import moelab.app.lm.Generator;
import moelab.nn.Transformer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code moe generate}: continue a prompt with a trained model. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Continue a prompt with a checkpoint's model (seeded sampling; temperature 0 = greedy).")
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", paramLabel = "FILE|RUN_DIR",
            description = "checkpoint to load, or a run folder (its latest checkpoint) (without it: the untrained model of --config, to see what init does)")
    Path checkpoint;

    @Option(names = "--prompt", required = true, description = "text to continue") String prompt;
    @Option(names = "--tokens", description = "tokens to generate (default ${DEFAULT-VALUE})") int tokens = 200;
    @Option(names = "--temperature", description = "sampling temperature, 0 = greedy (default ${DEFAULT-VALUE})") double temperature = 0.8;
    @Option(names = "--top-k", description = "sample among the k most likely tokens, 0 = all (default ${DEFAULT-VALUE})") int topK = 0;
    @Option(names = "--seed", description = "sampling seed (default ${DEFAULT-VALUE})") long seed = 1;

    @Mixin ConfigOptions config;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        checkpoint = CheckpointArg.file(checkpoint, "--checkpoint");
        Resolved r = Resolved.forCheckpoint(config, checkpoint);
        Transformer model = r.model(checkpoint, null, spec.commandLine().getErr(), "generating with");
        Generator.Result g = Generator.generate(model, Wiring.tokenizer(r.cfg(), r.runDir()), prompt, tokens, temperature, topK, seed);
        PrintWriter out = spec.commandLine().getOut();
        out.println(prompt + g.text());
        out.flush();
        return 0;
    }
}
