package moelab.app.cli;

import moelab.nn.Transformer;
import moelab.train.SafeTensors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code moe export}: a checkpoint's weights as a safetensors file (names and the [in, out]
 * convention in docs/safetensors.md), with the run's config in the metadata.
 */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write a checkpoint's weights as safetensors (see docs/safetensors.md).")
public final class ExportCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", paramLabel = "FILE|RUN_DIR", required = true,
            description = "checkpoint to export, or a run folder (its latest checkpoint)") Path checkpoint;

    @Option(names = "--out", paramLabel = "FILE",
            description = "safetensors file to write (atomically); default: beside the checkpoint, step-N.safetensors") Path out;

    @Mixin ConfigOptions config;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        checkpoint = CheckpointArg.file(checkpoint, "--checkpoint");
        Resolved r = Resolved.forCheckpoint(config, checkpoint);
        Transformer model = r.model(checkpoint, null, spec.commandLine().getErr(), "exporting");
        if (out == null) out = besideCheckpoint(checkpoint);
        SafeTensors.export(model.parameters(), out, Map.of("format", "moelab", "config", r.text()));
        spec.commandLine().getOut().printf("wrote %s: %d tensors, %,d parameters%n", out,
                model.parameters().size(), model.parameters().count());
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** step-N.ckpt -> step-N.safetensors in the same folder. */
    static Path besideCheckpoint(Path checkpoint) {
        String name = checkpoint.getFileName().toString().replaceFirst("\\.ckpt$", "");
        return checkpoint.resolveSibling(name + ".safetensors");
    }
}
