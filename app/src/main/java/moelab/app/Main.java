package moelab.app;

import moelab.app.cli.EvalCommand;
import moelab.app.cli.ExportCommand;
import moelab.app.cli.GenerateCommand;
import moelab.app.cli.InspectCommand;
import moelab.app.cli.ReportCommand;
import moelab.app.cli.TrainCommand;
import moelab.kernels.Backends;
import moelab.kernels.KernelsProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The command line: {@code ./moe <subcommand>}. */
@Command(name = "moe", mixinStandardHelpOptions = true, version = "moe-routing-lab 0.1.0",
        description = "Mixture-of-Experts training and routing-research engine.",
        exitCodeListHeading = "%nExit codes (an error prints one line; add --debug for the stack trace):%n",
        exitCodeList = {"0:done", "1:internal error (a bug)", "2:bad arguments, config or sweep file",
                "3:unusable checkpoint", "4:unusable safetensors file", "5:unusable data (corpus, split file, vocabulary)",
                "6:a file cannot be read or written", "7:training diverged (non-finite values)",
                "8:a run folder in a state the command cannot continue from",
                "130:train stopped by Ctrl-C (its last step checkpointed; the line says how to resume)"},
        subcommands = {TrainCommand.class, EvalCommand.class, GenerateCommand.class, InspectCommand.class,
                ReportCommand.class, ExportCommand.class, moelab.app.sweep.SweepCommand.class, moelab.app.data.PrepareData.class, moelab.app.demo.DemoCommand.class,
                moelab.app.fuzz.FuzzCommand.class, Main.BackendsCommand.class})
public final class Main implements Runnable {
    /** Exit status of a bad config or bad arguments (picocli's usage errors use the same). */
    public static final int EXIT_USAGE = ErrorKind.CONFIG.exitCode;

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");                    // plots are drawn without a display
        System.exit(commandLine().execute(args));
    }

    /**
     * The configured command line: an error prints one line "kind: message" and exits with the
     * kind's status ({@link ErrorKind}); the stack trace only with --debug (or -Dmoelab.trace=true).
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            ErrorKind kind = ErrorKind.of(e);
            if (debug(parsed)) e.printStackTrace(cmd.getErr());
            cmd.getErr().println(cmd.getColorScheme().errorText(kind.line(e)));
            cmd.getErr().flush();
            return kind.exitCode;
        });
        return cl;
    }

    /** --debug is accepted by every subcommand (inherited), so look for it at every level. */
    private static boolean debug(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand())
            if (p.hasMatchedOption("--debug")) return true;
        return Boolean.getBoolean("moelab.trace");
    }

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
            description = "on an error, print the stack trace as well")
    boolean debugFlag;

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
