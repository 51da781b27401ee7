package moelab.app.sweep;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line that starts this program again in a new JVM: the same java, class path and
 * engine flags (module and native-access flags, -D properties, heap settings), so that a run
 * trained in a child process is the same run as one trained here. Debug agents are not passed on.
 */
final class ChildJvm {
    private ChildJvm() {}

    /** Flags every JVM that runs the engine needs (the launcher and the jar's manifest give them too). */
    private static final List<String> REQUIRED = List.of("--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED");

    /** java [flags] [extraFlags] -cp CP moelab.app.Main args... */
    static List<String> command(List<String> extraFlags, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(REQUIRED);
        List<String> in = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (int i = 0; i < in.size(); i++) {
            String a = in.get(i);
            boolean twoPart = a.equals("--add-modules") || a.equals("--add-opens") || a.equals("--add-exports");
            if (twoPart && i + 1 < in.size()) { cmd.add(a + "=" + in.get(++i)); continue; }
            if (a.startsWith("--add-") || a.startsWith("--enable-native-access") || a.startsWith("--sun-misc")
                    || (a.startsWith("-D") && !a.startsWith("-Dmoelab.threads=")) || a.startsWith("-X")) cmd.add(a);
        }
        cmd.addAll(extraFlags);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("moelab.app.Main");
        cmd.addAll(args);
        return cmd;
    }
}
