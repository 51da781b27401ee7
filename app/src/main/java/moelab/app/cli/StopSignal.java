package moelab.app.cli;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ctrl-C during {@code moe train}: the first one lets the current step finish, then training
 * checkpoints it and stops; a second one abandons the step at once (onAbandon runs, then the
 * JVM halts with status 130, the shell's code for SIGINT). {@link #request} is what the signal
 * handler calls, so it can be exercised without a signal.
 */
final class StopSignal {
    /** Exit status of a run stopped by Ctrl-C (128 + SIGINT). */
    static final int EXIT_INTERRUPTED = 130;

    private final AtomicInteger requests = new AtomicInteger();
    private volatile Runnable onAbandon = () -> {};
    private Object previousHandler;

    /** Whether a stop was asked for. */
    boolean requested() { return requests.get() > 0; }

    /** One Ctrl-C. */
    void request() {
        if (requests.incrementAndGet() == 1) {
            System.err.println("\nstopping after this step (it is checkpointed); Ctrl-C again to abandon it");
            System.err.flush();
        } else {
            onAbandon.run();
            Runtime.getRuntime().halt(EXIT_INTERRUPTED);
        }
    }

    void onAbandon(Runnable r) { this.onAbandon = r; }

    /** Routes SIGINT here until {@link #uninstall}; where the JVM offers no signal API, Ctrl-C keeps its default. */
    void install() {
        try {
            previousHandler = sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> request());
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            previousHandler = null;                      // e.g. SIGINT ignored by the parent (nohup, background job)
        }
    }

    void uninstall() {
        if (previousHandler instanceof sun.misc.SignalHandler h) sun.misc.Signal.handle(new sun.misc.Signal("INT"), h);
        previousHandler = null;
    }
}
