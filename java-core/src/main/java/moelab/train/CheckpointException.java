package moelab.train;

/**
 * A checkpoint that cannot be used: not a checkpoint, corrupt, truncated, or made for another
 * model or config. The message names the file and says what was found and what was expected.
 * Nothing was loaded when this is thrown.
 */
public final class CheckpointException extends RuntimeException {
    public CheckpointException(String message) { super(message); }

    public CheckpointException(String message, Throwable cause) { super(message, cause); }
}
