package moelab.app.cli;

import moelab.app.config.ConfigLoader;
import moelab.app.config.RunConfig;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** {@code --config FILE} and {@code --set key.path=value}, shared by the commands that need a run config. */
public final class ConfigOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "run config, YAML or JSON, over the bundled defaults; or a bundled name: " + ConfigLoader.BUNDLED_NAMES)
    String config;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "override one config key, e.g. --set train.lr=1e-3 --set model.moe.top_k=2 (repeatable)")
    List<String> sets = new ArrayList<>();

    boolean hasConfig() { return config != null; }

    /** --config over the defaults, else fallbackText (a run's config.yaml) when given, then the --set overrides. */
    RunConfig resolve(String fallbackText) {
        ConfigLoader.Source src = config != null ? ConfigLoader.source(config)
                : fallbackText != null ? new ConfigLoader.Source("config.yaml", fallbackText, false) : null;
        return ConfigLoader.load(src, sets);
    }
}
