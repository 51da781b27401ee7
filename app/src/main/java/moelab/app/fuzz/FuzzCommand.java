package moelab.app.fuzz;

import moelab.fuzz.Fuzzer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code moe fuzz}: mutated and random inputs through the safetensors, checkpoint and config
 * readers; each must accept an input or refuse it with its own error, never throw anything
 * else, hang or allocate beyond a bound proportional to the input. Exit status 1 with findings.
 */
@Command(name = "fuzz", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Fuzz the file readers (safetensors, checkpoint, config) with seeded mutated inputs; lists any finding.")
public final class FuzzCommand implements Callable<Integer> {
    @Option(names = "--target", paramLabel = "NAME", description = "safetensors, checkpoint, config or all (default: all)")
    String target = "all";

    @Option(names = "--inputs", paramLabel = "N", description = "inputs per target (default: 100000)")
    long inputs = 100_000;

    @Option(names = "--seed", paramLabel = "S", description = "mutation seed; the same seed gives the same inputs (default: 1)")
    long seed = 1;

    @Option(names = "--timeout-ms", paramLabel = "MS", description = "time one input may take before it counts as a hang (default: 2000)")
    long timeoutMs = 2000;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<String> targets = target.equals("all") ? FuzzTargets.NAMES : List.of(target);
        int findings = 0;
        for (String t : targets) {
            long start = System.nanoTime();
            Fuzzer.Report r = FuzzTargets.run(t, seed, inputs, timeoutMs);
            out.printf("%s (%.1f s, seed %d)%n", r.summary(), (System.nanoTime() - start) / 1e9, seed);
            for (Fuzzer.Finding f : r.findings()) out.printf("  input #%d: %s%n    %s%n", f.index(), f.problem(), f.input());
            out.flush();
            findings += r.findings().size();
        }
        return findings == 0 ? 0 : 1;
    }
}
