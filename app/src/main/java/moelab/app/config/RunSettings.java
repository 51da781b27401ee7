package moelab.app.config;

import moelab.config.ConfigException;
import moelab.kernels.Backends;

import java.util.ArrayList;
import java.util.List;

/**
 * Where a run goes and what it runs on (YAML section {@code run}).
 *
 * @param name    run name, the prefix of the run folder name (letters, digits, '.', '_', '-')
 * @param outDir  folder that holds the run folders
 * @param kernels kernel back end: "auto" (the fastest available) or a name from {@code moe backends}
 * @param threads kernel threads, 0 = all cores
 * @param initFrom start from these weights (a checkpoint file, or a run folder = its latest checkpoint) with a fresh
 *                 optimizer, data position and router state; empty = random init. Ignored when resuming.
 */
public record RunSettings(String name, String outDir, String kernels, int threads, String initFrom) {
    public RunSettings {
        ConfigException.require(name != null && name.matches("[A-Za-z0-9._-]+"), "run.name",
                "must be letters, digits, '.', '_' or '-' (it names a folder), got '" + name + "'");
        ConfigException.require(outDir != null && !outDir.isBlank(), "run.out_dir", "must name a folder");
        ConfigException.require(kernels != null && !kernels.isBlank(), "run.kernels", "must be auto or a back end name");
        ConfigException.require(threads >= 0, "run.threads", "must be >= 0 (0 = all cores), got " + threads);
        ConfigException.require(initFrom != null, "run.init_from", "must be a checkpoint file, a run folder, or '' (none)");
    }

    /** Makes these kernels the engine's; an unknown or unavailable back end is a config error naming the choices. */
    public void applyKernels() {
        if (kernels.equals("auto") && threads == 0) return;          // engine defaults (-Dmoelab.kernels etc. still apply)
        String name = kernels.equals("auto") ? Backends.defaultName() : kernels;
        int n = threads == 0 ? Backends.defaultThreads() : threads;
        List<String> allowed = new ArrayList<>(List.of("auto"));
        allowed.addAll(Backends.availableNames());
        if (!allowed.contains(name))
            throw new ConfigException("run.kernels", "'" + name + "' is not allowed here; allowed values: " + String.join(", ", allowed));
        Backends.use(Backends.create(name, n));
    }
}
