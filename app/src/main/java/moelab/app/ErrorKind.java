package moelab.app;

import moelab.tensor.NonFiniteException;
import moelab.config.ConfigException;
import moelab.data.DataException;
import moelab.train.CheckpointException;
import moelab.train.SafeTensors;

import java.io.UncheckedIOException;

/**
 * What kind of error stopped a command, with the exit status and the prefix of its one-line
 * message. Errors the user can cause are reported by message alone; anything else is a bug
 * ({@link #INTERNAL}), reported with its type so it can be told apart.
 */
public enum ErrorKind {
    INTERNAL(1, "internal error"),
    /** Bad arguments, config or sweep file (picocli's own usage errors use the same status). */
    CONFIG(2, "config error"),
    USAGE(2, "error"),
    CHECKPOINT(3, "error"),
    SAFETENSORS(4, "error"),
    DATA(5, "data error"),
    IO(6, "I/O error"),
    TRAINING(7, "training error"),
    /** A state the command cannot continue from (e.g. a run folder of another config). */
    STATE(8, "error");

    public final int exitCode;
    public final String label;

    ErrorKind(int exitCode, String label) {
        this.exitCode = exitCode;
        this.label = label;
    }

    public static ErrorKind of(Throwable e) {
        return switch (e) {
            case ConfigException c -> CONFIG;
            case CheckpointException c -> CHECKPOINT;
            case SafeTensors.SafeTensorsException s -> SAFETENSORS;
            case DataException d -> DATA;
            case UncheckedIOException u -> IO;
            case java.io.IOException i -> IO;
            case NonFiniteException n -> TRAINING;
            case IllegalArgumentException i -> USAGE;
            case IllegalStateException i -> STATE;
            default -> INTERNAL;
        };
    }

    /** The one line printed for e. */
    public String line(Throwable e) {
        String msg = e.getMessage() == null ? "" : e.getMessage();
        if (this == INTERNAL) return label + ": " + e.getClass().getName() + (msg.isEmpty() ? "" : ": " + msg) + " (rerun with --debug for the stack trace)";
        return label + ": " + msg;
    }
}
