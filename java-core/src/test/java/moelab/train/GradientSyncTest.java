package moelab.train;

import moelab.dist.Collective;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Bucketed gradient averaging against a fake second rank, with buckets that split parameters. */
class GradientSyncTest {
    /** Two ranks where the other rank's gradient is this one's plus 1 at every position: the mean is g + 0.5. */
    static final class PlusOneRank implements Collective {
        final List<Long> counts = new ArrayList<>();
        @Override public int rank() { return 0; }
        @Override public int size() { return 2; }
        @Override public void sumInPlace(long[] v) { throw new UnsupportedOperationException(); }
        @Override public void sumInPlace(double[] v) { throw new UnsupportedOperationException(); }
        @Override public void sumInPlace(MemorySegment buf, long count) {
            counts.add(count);
            for (long i = 0; i < count; i++) {
                float x = buf.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                buf.setAtIndex(ValueLayout.JAVA_FLOAT, i, x + (x + 1));
            }
        }
        @Override public int[] gather(int[] mine) { throw new UnsupportedOperationException(); }
        @Override public float[] gather(float[] mine) { throw new UnsupportedOperationException(); }
        @Override public long broadcast(long value) { return value; }
        @Override public void close() {}
    }

    @Test
    void everyValueIsAveragedOnceWhateverTheBucketSize() {
        for (int bucket : new int[]{1, 3, 7, 10, 1000}) {
            List<Tensor> params = List.of(Tensor.zeros(2, 3), Tensor.zeros(5), Tensor.zeros(1), Tensor.zeros(4, 1));
            List<float[]> want = new ArrayList<>();
            int v = 0;
            for (Tensor p : params) {
                float[] g = p.gradBuffer();
                float[] w = new float[g.length];
                for (int i = 0; i < g.length; i++) { g[i] = v * 2; w[i] = v * 2 + 0.5f; v++; }
                want.add(w);
            }
            PlusOneRank ranks = new PlusOneRank();
            new GradientSync(ranks, params, bucket).average(params);
            for (int i = 0; i < params.size(); i++) assertArrayEquals(want.get(i), params.get(i).grad(), "bucket " + bucket + ", parameter " + i);
            assertEquals(v, ranks.counts.stream().mapToLong(Long::longValue).sum(), "bucket " + bucket);
            assertEquals((v + Math.min(bucket, v) - 1) / Math.min(bucket, v), ranks.counts.size(), "bucket " + bucket + ": all-reduces");
        }
    }
}
