package moelab.app.sweep;

import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The child side of {@code sweep --jobs N} ({@code sweep ... --worker}): reads run ids from stdin,
 * one per line, and trains each in turn in this JVM (as the sequential runner would), with the
 * run's output in {@code <sweep>/logs/<run>.log}; a run is finished when its done.json is there.
 * Reusing one JVM for several runs saves the JIT warm-up of each. Exits at end of input, or with
 * status 1 when a run fails (the error is at the end of that run's log).
 */
final class SweepWorker {
    private SweepWorker() {}

    static int serve(SweepPlan plan, PrintWriter out) {
        PrintStream stderr = System.err;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try {
            for (String id; (id = in.readLine()) != null; ) {
                String want = id.strip();
                if (want.isEmpty()) continue;
                SweepPlan.Run run = plan.runs().stream().filter(r -> r.id().equals(want)).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("worker: sweep " + plan.file().name() + " has no run '" + want + "'"));
                SweepState.Entry e = SweepState.check(plan).entry(run);            // afresh: init_from sources finish meanwhile
                Path log = plan.root().resolve("logs").resolve(run.id() + ".log");
                try (PrintStream ps = new PrintStream(new FileOutputStream(log.toFile(), true), true, StandardCharsets.UTF_8)) {
                    System.setErr(ps);
                    PrintWriter pw = new PrintWriter(ps, true);
                    try {
                        switch (e.status()) {
                            case DONE -> pw.println(run.id() + ": done, skipped");
                            case CHANGED -> throw new IllegalStateException(SweepState.check(plan).changedMessage());
                            default -> SweepRunner.runOne(plan, e, "", pw);
                        }
                    } catch (RuntimeException ex) {
                        pw.println("error: " + ex.getMessage());
                        ex.printStackTrace(ps);
                        out.println("run " + run.id() + " failed: " + ex.getMessage());
                        out.flush();
                        return 1;
                    } finally {
                        pw.flush();
                        System.setErr(stderr);
                    }
                }
                out.println("finished " + run.id());
                out.flush();
            }
        } catch (IOException ex) {
            throw new UncheckedIOException("worker: cannot read run ids from stdin: " + ex.getMessage(), ex);
        }
        return 0;
    }
}
