package moelab.dist;

import java.lang.foreign.MemorySegment;

/**
 * The ranks of a data-parallel run and the collectives training needs. Every rank calls every
 * method in the same order (they are collective); each returns the same values on every rank.
 * {@link #single()} is one process, where every call is the identity.
 */
public interface Collective extends AutoCloseable {
    /** 0-based rank of this process. */
    int rank();

    /** Number of ranks, at least 1. */
    int size();

    /** v[i] := sum over ranks of v[i]; long [n]. */
    void sumInPlace(long[] v);

    /** v[i] := sum over ranks of v[i]; double [n]. */
    void sumInPlace(double[] v);

    /** buf[i] := sum over ranks of buf[i] for count float32 values of an off-heap segment (no heap arrays: a collective must not hold the GC). */
    void sumInPlace(MemorySegment buf, long count);

    /** The ranks' arrays (each of the same length n) concatenated in rank order: [size*n]. */
    int[] gather(int[] mine);

    /** The ranks' arrays (each of the same length n) concatenated in rank order: [size*n]. */
    float[] gather(float[] mine);

    /** Rank 0's value, on every rank. */
    long broadcast(long value);

    /** Ends the run's use of the ranks (normal exit only: a rank that fails just exits, and the launcher stops the others). */
    @Override void close();

    /** One process: rank 0 of 1. */
    static Collective single() { return SingleProcess.INSTANCE; }
}
