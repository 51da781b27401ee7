package moelab.routing.mar;

import java.util.Arrays;

/**
 * What each expert took over one optimizer step (all its micro-batches), reduced to the entries
 * its memory gains when the step ends: the mean of the routed vectors (step_mean), or up to s of
 * them drawn uniformly without replacement (step_sample, reservoir sampling over the step, so
 * every routed vector of the whole batch is equally likely to be kept whatever its position).
 * Sampled entries are written in the order they were routed, so FIFO keeps its meaning.
 *
 * <p>The random stream (SplitMix64) is part of the router's state; the accumulators are empty
 * between steps, which is when checkpoints are written.
 */
final class StepSummary {
    private final int experts, d, samples;
    private final boolean sample;
    private final double[] sums;       // [E*d] step_mean
    private final long[] seen;         // [E] vectors routed to the expert this step
    private final float[][] reservoir; // [E][s*d] step_sample
    private final long[][] arrival;    // [E][s] arrival index of each kept vector
    private long rng;

    StepSummary(int experts, int d, boolean sample, int samples, long seed) {
        this.experts = experts; this.d = d; this.sample = sample; this.samples = samples;
        sums = sample ? null : new double[experts * d];
        seen = new long[experts];
        reservoir = sample ? new float[experts][samples * d] : null;
        arrival = sample ? new long[experts][samples] : null;
        rng = seed;
    }

    long randomState() { return rng; }
    void setRandomState(long state) { rng = state; }

    /** Records x[off, off+d) as routed to expert e. */
    void add(int e, float[] x, int off) {
        long n = seen[e]++;
        if (!sample) {
            for (int c = 0; c < d; c++) sums[e * d + c] += x[off + c];
            return;
        }
        int slot;
        if (n < samples) slot = (int) n;
        else {
            long r = Long.remainderUnsigned(nextRandom(), n + 1);   // keep the (n+1)-th vector with probability s/(n+1)
            if (r >= samples) return;
            slot = (int) r;
        }
        System.arraycopy(x, off, reservoir[e], slot * d, d);
        arrival[e][slot] = n;
    }

    /** Pushes the step's entries into the memory (experts in index order) and empties the accumulators. */
    void flushInto(ExpertMemory memory) {
        float[] v = new float[d];
        for (int e = 0; e < experts; e++) {
            if (seen[e] == 0) continue;
            if (!sample) {
                for (int c = 0; c < d; c++) v[c] = (float) (sums[e * d + c] / seen[e]);
                memory.push(e, v, 0);
                continue;
            }
            int kept = (int) Math.min(seen[e], samples);
            Integer[] order = new Integer[kept];
            for (int i = 0; i < kept; i++) order[i] = i;
            long[] a = arrival[e];
            Arrays.sort(order, (p, q) -> Long.compare(a[p], a[q]));
            for (int i : order) memory.push(e, reservoir[e], i * d);
        }
        Arrays.fill(seen, 0);
        if (sums != null) Arrays.fill(sums, 0);
    }

    /** Whether anything was added since the last flush. */
    boolean pending() {
        for (long n : seen) if (n > 0) return true;
        return false;
    }

    // SplitMix64 (Steele, Lea, Flood 2014)
    private long nextRandom() {
        long z = (rng += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
