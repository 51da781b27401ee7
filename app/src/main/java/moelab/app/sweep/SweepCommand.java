package moelab.app.sweep;

import moelab.config.ConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code moe sweep}: runs every configuration x seed of a sweep file (validated first), skipping
 * done runs and resuming interrupted ones, then writes the comparison report.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a grid of training runs from one sweep file and write a comparison report.",
                "Example: moe sweep --named testbed   (rerun the same command to resume)"})
public final class SweepCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "FILE", description = "sweep file (YAML)")
    Path file;

    @Option(names = "--named", paramLabel = "NAME", description = "a bundled sweep: testbed, mar, orthvar, smoke")
    String named;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/sweeps",
            description = "folder of sweeps; this one goes to DIR/<name> (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a config key in every run, after the file's set (repeatable)")
    List<String> sets = new ArrayList<>();

    @Option(names = "--report-only", description = "only (re)write the report from the runs that are done")
    boolean reportOnly;

    @Option(names = "--list", description = "validate and list the runs with their state (new, partial, done, changed), run nothing")
    boolean list;

    @Option(names = "--rerun-changed", description = "retrain the runs whose folders were made with another config, data or version "
            + "(their old folders are kept, renamed to <run>.replaced-<n>)")
    boolean rerunChanged;

    @Spec CommandSpec spec;

    /** Bundled sweep files, loadable with --named. */
    public static final List<String> NAMED = List.of("testbed", "mar", "orthvar", "smoke");

    @Override
    public Integer call() {
        PrintWriter pw = spec.commandLine().getOut();
        if ((file == null) == (named == null)) throw new IllegalArgumentException("give a sweep FILE or --named NAME (" + String.join(", ", NAMED) + "), not both");
        SweepFile f;
        Path baseDir = null;
        if (named != null) {
            if (!NAMED.contains(named)) throw new ConfigException("--named", "no bundled sweep '" + named + "'; bundled: " + String.join(", ", NAMED));
            f = SweepFile.parse("bundled:sweeps/" + named + ".yaml", resource("/sweeps/" + named + ".yaml"));
        } else {
            try {
                f = SweepFile.parse(file.toString(), Files.readString(file));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read sweep file " + file + ": " + e.getMessage(), e);
            }
            baseDir = file.toAbsolutePath().getParent();
        }
        SweepPlan plan = SweepPlan.expand(f, baseDir, sets, out);
        pw.printf(Locale.ROOT, "sweep %s: %d configurations x %d seeds = %d runs in %s%n", f.name(), plan.labels().size(),
                f.seeds().size(), plan.runs().size(), plan.root());
        SweepState state = SweepState.check(plan);
        if (list) {
            for (SweepPlan.Run r : plan.runs())
                pw.printf("  %-32s %-8s %s%s%s%n", r.id(), state.entry(r).status().name().toLowerCase(Locale.ROOT), String.join(" ", r.overrides()),
                        r.initFrom() == null ? "" : " init_from=" + r.initFrom(), plan.isReference(r) ? "  [reference]" : "");
            pw.flush();
            return 0;
        }
        if (!state.changed().isEmpty() && !reportOnly) {
            if (!rerunChanged) throw new IllegalStateException(state.changedMessage());
            state = state.moveChangedAside(pw);
        }
        pw.flush();
        if (!reportOnly) {
            SweepRunner.run(plan, state, pw);
            state = SweepState.check(plan);
        }
        SweepReport.Result r = SweepReport.generate(plan, state);
        for (String n : state.reportNotes()) pw.println("note: " + n);
        pw.println(SweepReport.rhoLine(r));
        pw.println("report: " + r.index() + " (results.md, results.csv beside it)");
        pw.flush();
        return 0;
    }

    static String resource(String name) {
        try (InputStream in = SweepCommand.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("bundled resource " + name + " is missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
