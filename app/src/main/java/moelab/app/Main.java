package moelab.app;

import moelab.app.cli.EvalCommand;
import moelab.app.cli.ExportCommand;
import moelab.app.cli.GenerateCommand;
import moelab.app.cli.InspectCommand;
import moelab.app.cli.ReportCommand;
import moelab.app.cli.TrainCommand;
import moelab.config.ConfigException;
import moelab.kernels.Backends;
import moelab.kernels.KernelsProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.UncheckedIOException;

/** The command line: {@code ./moe <subcommand>}. */
@Command(name = "moe", mixinStandardHelpOptions = true, version = "moe-routing-lab 0.1.0",
        description = "Mixture-of-Experts training and routing-research engine.",
        subcommands = {TrainCommand.class, EvalCommand.class, GenerateCommand.class, InspectCommand.class,
                ReportCommand.class, ExportCommand.class, moelab.app.sweep.SweepCommand.class, moelab.app.data.PrepareData.class, moelab.app.demo.DemoCommand.class,
                Main.BackendsCommand.class})
public final class Main implements Runnable {
    /** Exit status of a bad config or bad arguments (picocli's usage errors use the same). */
    public static final int EXIT_USAGE = 2;

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");                    // plots are drawn without a display
        System.exit(commandLine().execute(args));
    }

    /** The configured command line: errors print one clear line (the stack trace with -Dmoelab.trace=true). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            boolean config = e instanceof ConfigException;
            if (Boolean.getBoolean("moelab.trace") || !(config || e instanceof IllegalArgumentException
                    || e instanceof IllegalStateException || e instanceof UncheckedIOException))
                e.printStackTrace(cmd.getErr());
            cmd.getErr().println(cmd.getColorScheme().errorText((config ? "config error: " : "error: ") + e.getMessage()));
            cmd.getErr().flush();
            return config || e instanceof IllegalArgumentException ? EXIT_USAGE : 1;
        });
        return cl;
    }

    @Override public void run() { new CommandLine(this).usage(System.out); }

    @Command(name = "backends", description = "List the kernel back ends and which one is the default.")
    static final class BackendsCommand implements Runnable {
        @Override public void run() {
            for (KernelsProvider p : Backends.providers()) {
                System.out.printf("%-8s priority %3d  %s%n", p.name(), p.priority(),
                        p.isAvailable() ? "available" : "unavailable: " + p.unavailableReason());
                String what = p.isAvailable() ? p.description() : null;
                if (what != null) System.out.printf("%-8s              %s%n", "", what);
            }
            System.out.println("default: " + Backends.defaultName() + ", threads: " + Backends.defaultThreads());
        }
    }
}
