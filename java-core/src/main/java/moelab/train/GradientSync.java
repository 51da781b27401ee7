package moelab.train;

import moelab.dist.Collective;
import moelab.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Averages the parameters' gradients over the data-parallel ranks: the gradients, in parameter
 * registration order, are flattened into an off-heap bucket of at most {@link #BUCKET_FLOATS}
 * values (a parameter may span two buckets), each bucket is summed over the ranks in place and
 * multiplied by 1/N, so N ranks of B/N sequences each give the gradient of one process on all B.
 */
final class GradientSync {
    /** 4 Mi floats (16 MiB): large enough that allreduce runs at bandwidth, small enough to stay in memory on every rank. */
    static final int BUCKET_FLOATS = 1 << 22;

    private final Collective ranks;
    private final MemorySegment bucket;
    private final int capacity;
    private long nanos;

    GradientSync(Collective ranks, List<Tensor> params) { this(ranks, params, BUCKET_FLOATS); }

    GradientSync(Collective ranks, List<Tensor> params, int bucketFloats) {
        this.ranks = ranks;
        long total = 0;
        for (Tensor p : params) total += p.numel();
        this.capacity = (int) Math.max(1, Math.min(total, bucketFloats));
        this.bucket = Arena.ofAuto().allocate(ValueLayout.JAVA_FLOAT, capacity);
    }

    /** Wall time spent in the all-reduces so far (copies included). */
    long nanos() { return nanos; }

    /** grad := (sum over ranks of grad) / N for every parameter; every p.grad() must exist. */
    void average(List<Tensor> params) {
        long t0 = System.nanoTime();
        float scale = 1f / ranks.size();
        int filled = 0, first = 0, firstOffset = 0;  // bucket holds params[first] from firstOffset on, ...
        int pi = 0, off = 0;
        while (pi < params.size()) {
            float[] g = params.get(pi).grad();
            int n = Math.min(g.length - off, capacity - filled);
            MemorySegment.copy(g, off, bucket, ValueLayout.JAVA_FLOAT, (long) filled * 4, n);
            filled += n;
            off += n;
            if (off == g.length) { pi++; off = 0; }
            if (filled == capacity || pi == params.size()) {
                ranks.sumInPlace(bucket, filled);
                copyBack(params, first, firstOffset, filled, scale);
                first = pi;
                firstOffset = off;
                filled = 0;
            }
        }
        nanos += System.nanoTime() - t0;
    }

    /** Copies count bucket values back into the gradients from params[first][offset] on, times scale. */
    private void copyBack(List<Tensor> params, int first, int offset, int count, float scale) {
        int pos = 0;
        for (int pi = first; pos < count; pi++, offset = 0) {
            float[] g = params.get(pi).grad();
            int n = Math.min(g.length - offset, count - pos);
            for (int i = 0; i < n; i++) g[offset + i] = bucket.getAtIndex(ValueLayout.JAVA_FLOAT, pos + i) * scale;
            pos += n;
        }
    }
}
