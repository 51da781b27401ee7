package moelab.app;

import moelab.kernels.Backends;
import moelab.kernels.KernelsProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The command line: {@code ./moe <subcommand>}. */
@Command(name = "moe", mixinStandardHelpOptions = true, version = "moe-routing-lab 0.1.0",
        description = "Mixture-of-Experts training and routing-research engine.",
        subcommands = {moelab.app.demo.DemoCommand.class, Main.BackendsCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override public void run() { new CommandLine(this).usage(System.out); }

    @Command(name = "backends", description = "List the kernel back ends and which one is the default.")
    static final class BackendsCommand implements Runnable {
        @Override public void run() {
            for (KernelsProvider p : Backends.providers())
                System.out.printf("%-8s priority %3d  %s%n", p.name(), p.priority(),
                        p.isAvailable() ? "available" : "unavailable: " + p.unavailableReason());
            System.out.println("default: " + Backends.defaultName() + ", threads: " + Backends.defaultThreads());
        }
    }
}
