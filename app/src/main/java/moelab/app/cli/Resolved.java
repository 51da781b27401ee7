package moelab.app.cli;

import moelab.app.config.ConfigLoader;
import moelab.app.config.RunConfig;
import moelab.app.report.RunFolder;
import moelab.nn.MoeConfig;
import moelab.nn.Transformer;
import moelab.routing.Router;

import java.nio.file.Files;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.function.BiFunction;

/**
 * The config a command runs with and its YAML text (what checkpoints are checked against).
 *
 * @param runDir the run folder the checkpoint lives in, or null
 */
record Resolved(RunConfig cfg, String text, Path runDir) {

    /**
     * For commands that read a checkpoint: --config when given, else the config stored in the
     * checkpoint, else its run folder's config.yaml; then the --set overrides.
     */
    static Resolved forCheckpoint(ConfigOptions opts, Path checkpoint) {
        Path runDir = null;
        String fallback = null;
        if (checkpoint != null) {
            if (!Files.isRegularFile(checkpoint)) throw new IllegalArgumentException("no checkpoint file " + checkpoint);
            runDir = RunFolder.ofCheckpoint(checkpoint);
            if (!opts.hasConfig()) {
                fallback = Wiring.configInCheckpoint(checkpoint);
                if (fallback == null && runDir != null) fallback = RunFolder.open(runDir).readConfig();
                if (fallback == null)
                    throw new IllegalArgumentException("checkpoint " + checkpoint + " is not inside a run folder (<run>/checkpoints/); give its config with --config");
            }
        }
        RunConfig cfg = opts.resolve(fallback);
        return new Resolved(cfg, ConfigLoader.toYaml(cfg), runDir);
    }

    /**
     * The model of this config with its routers from routerFactory (null = the config's), with
     * the checkpoint's weights when there is one; without, says on err that it is untrained.
     */
    Transformer model(Path checkpoint, BiFunction<MoeConfig, Integer, Router> routerFactory, PrintWriter err, String doing) {
        cfg.run().applyKernels();
        Transformer model = routerFactory == null
                ? new Transformer(cfg.model(), cfg.train().seed())
                : new Transformer(cfg.model(), cfg.train().seed(), routerFactory);
        if (checkpoint != null) Wiring.loadWeights(model, cfg, checkpoint, text);
        else err.println("note: no --checkpoint, " + doing + " an untrained model");
        return model;
    }
}
