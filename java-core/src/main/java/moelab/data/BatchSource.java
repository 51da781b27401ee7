package moelab.data;

/**
 * An endless, seeded stream of training micro-batches whose position can be saved in a
 * checkpoint and restored exactly.
 */
public interface BatchSource {
    Batch next();

    /** Everything needed to continue exactly from here (position, RNG state). */
    byte[] saveState();

    /** Restores what {@link #saveState()} returned; throws with a clear message when it does not fit. */
    void restoreState(byte[] state);
}
