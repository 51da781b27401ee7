package moelab.routing.mar;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The memories of one MoE layer: per expert a ring of N detached d-vectors with its fill count,
 * write head and a float64 running sum, so the preference vector p_i = sum_i / count_i costs O(d)
 * per push (add the new vector, subtract the evicted one) instead of O(N d) per read.
 *
 * <p>Drift: the sum is kept in double and, in addition, rebuilt from the ring in slot order every
 * time the head wraps (every N pushes into a full buffer, O(d) amortised), so the add/subtract
 * error never accumulates over more than N updates.
 *
 * <p>Eviction: fifo overwrites the oldest slot (the head); random overwrites a uniformly chosen slot
 * of a full buffer, drawn from a SplitMix64 stream that is part of the state (deterministic resume).
 * Not thread-safe: pushes are sequential, in token order, which makes the buffers deterministic.
 */
public final class ExpertMemory {
    private final int experts, capacity, d;
    private final boolean randomEviction;
    private final float[][] ring;     // [E][N*d]
    private final double[][] sum;     // [E][d]
    private final int[] count, head;  // [E]
    private final int[] sinceRebuild; // [E] pushes into a full buffer since the last rebuild
    private long rng;

    public ExpertMemory(int experts, int capacity, int d, boolean randomEviction, long seed) {
        if (experts < 1 || capacity < 1 || d < 0)
            throw new IllegalArgumentException("ExpertMemory: experts " + experts + " and capacity " + capacity + " must be >= 1, d " + d + " >= 0");
        this.experts = experts; this.capacity = capacity; this.d = d; this.randomEviction = randomEviction;
        ring = new float[experts][capacity * d];
        sum = new double[experts][d];
        count = new int[experts];
        head = new int[experts];
        sinceRebuild = new int[experts];
        rng = seed;
    }

    public int experts() { return experts; }
    public int capacity() { return capacity; }
    public int dim() { return d; }
    public int count(int expert) { return count[expert]; }
    public int head(int expert) { return head[expert]; }

    /** Slot s of expert i (a copy). */
    public float[] slot(int expert, int s) { return Arrays.copyOfRange(ring[expert], s * d, (s + 1) * d); }

    /** The float64 running sum of expert i (a copy). */
    public double[] runningSum(int expert) { return sum[expert].clone(); }

    /** Writes v[off, off+d) into expert i's buffer, evicting per the policy when it is full. */
    public void push(int expert, float[] v, int off) {
        if (expert < 0 || expert >= experts) throw new IllegalArgumentException("ExpertMemory.push: expert " + expert + " not in [0, " + experts + ")");
        float[] r = ring[expert];
        double[] s = sum[expert];
        int slot;
        if (count[expert] < capacity) {
            slot = head[expert];
            count[expert]++;
            head[expert] = (head[expert] + 1) % capacity;
        } else {
            if (randomEviction) {
                slot = (int) Long.remainderUnsigned(nextRandom(), capacity);
            } else {
                slot = head[expert];
                head[expert] = (head[expert] + 1) % capacity;
            }
            for (int j = 0; j < d; j++) s[j] -= r[slot * d + j];
        }
        System.arraycopy(v, off, r, slot * d, d);
        for (int j = 0; j < d; j++) s[j] += v[off + j];
        if (count[expert] == capacity && ++sinceRebuild[expert] >= capacity) rebuild(expert);
    }

    /**
     * Preference vectors p [E, d] = mean of each expert's valid entries (0 for empty ones) and
     * active [E] = whether the expert has any entry.
     */
    public void preferences(float[] p, boolean[] active) {
        for (int i = 0; i < experts; i++) {
            active[i] = count[i] > 0;
            for (int j = 0; j < d; j++) p[i * d + j] = active[i] ? (float) (sum[i][j] / count[i]) : 0f;
        }
    }

    /** Whether any expert has an entry. */
    public boolean anyActive() {
        for (int c : count) if (c > 0) return true;
        return false;
    }

    /** Recomputes expert i's sum from its valid slots in slot order. */
    private void rebuild(int expert) {
        double[] s = sum[expert];
        Arrays.fill(s, 0);
        float[] r = ring[expert];
        for (int k = 0; k < count[expert]; k++)
            for (int j = 0; j < d; j++) s[j] += r[k * d + j];
        sinceRebuild[expert] = 0;
    }

    // SplitMix64 (Steele, Lea, Flood 2014): the state advances by the golden gamma.
    private long nextRandom() {
        long z = (rng += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    // ------------------------------------------------------------------ checkpoint state

    /**
     * The state as float arrays: "{prefix}ring.{i}" [N*d] per expert, "{prefix}meta" = per expert
     * count, head, pushes since rebuild, then the shape (E, N, d) and the random stream, and
     * "{prefix}sum.{i}" = the float64 sums, each double as three exact 22/21/21-bit integer chunks
     * (a float holds integers up to 2^24 exactly). Saving the sums (not only the ring) is what
     * makes a resume bit-exact: a sum rebuilt from the ring is rounded differently from the running one.
     */
    public Map<String, float[]> state(String prefix) {
        Map<String, float[]> m = new LinkedHashMap<>();
        float[] meta = new float[3 * experts + 3 + 3];
        for (int i = 0; i < experts; i++) {
            meta[3 * i] = count[i];
            meta[3 * i + 1] = head[i];
            meta[3 * i + 2] = sinceRebuild[i];
        }
        meta[3 * experts] = experts;
        meta[3 * experts + 1] = capacity;
        meta[3 * experts + 2] = d;
        encodeLong(rng, meta, 3 * experts + 3);
        m.put(prefix + "meta", meta);
        for (int i = 0; i < experts; i++) {
            m.put(prefix + "ring." + i, ring[i].clone());
            float[] s = new float[3 * d];
            for (int j = 0; j < d; j++) encodeLong(Double.doubleToRawLongBits(sum[i][j]), s, 3 * j);
            m.put(prefix + "sum." + i, s);
        }
        return m;
    }

    /** The (E, N, d) shape stored under "{prefix}meta", or null when the state has no memory. */
    public static int[] storedShape(Map<String, float[]> state, String prefix) {
        float[] meta = state.get(prefix + "meta");
        if (meta == null || meta.length < 6) return null;
        int e = (int) meta[meta.length - 6];
        return new int[]{e, (int) meta[meta.length - 5], (int) meta[meta.length - 4]};
    }

    /** Restores {@link #state}; throws naming a missing or mis-sized entry. */
    public void loadState(Map<String, float[]> state, String prefix) {
        float[] meta = state.get(prefix + "meta");
        if (meta == null || meta.length != 3 * experts + 6)
            throw new IllegalArgumentException(prefix + "meta: expected " + (3 * experts + 6) + " values for " + experts + " experts, got "
                    + (meta == null ? "none" : meta.length));
        int[] shape = storedShape(state, prefix);
        if (shape[0] != experts || shape[1] != capacity || shape[2] != d)
            throw new IllegalArgumentException(prefix + "meta: memory of " + shape[0] + " experts x N=" + shape[1] + " x d=" + shape[2]
                    + ", this router has " + experts + " x N=" + capacity + " x d=" + d + " (model.moe.mar.buffer_size?)");
        for (int i = 0; i < experts; i++) {
            float[] r = state.get(prefix + "ring." + i);
            if (r == null || r.length != capacity * d)
                throw new IllegalArgumentException(prefix + "ring." + i + ": expected " + capacity * d + " values, got " + (r == null ? "none" : r.length));
            int c = (int) meta[3 * i], h = (int) meta[3 * i + 1];
            if (c < 0 || c > capacity || h < 0 || h >= capacity)
                throw new IllegalArgumentException(prefix + "meta: expert " + i + " count " + c + " / head " + h + " out of range for N=" + capacity);
        }
        for (int i = 0; i < experts; i++) {
            System.arraycopy(state.get(prefix + "ring." + i), 0, ring[i], 0, capacity * d);
            count[i] = (int) meta[3 * i];
            head[i] = (int) meta[3 * i + 1];
            sinceRebuild[i] = (int) meta[3 * i + 2];
            float[] s = state.get(prefix + "sum." + i);
            if (s != null && s.length == 3 * d) {
                for (int j = 0; j < d; j++) sum[i][j] = Double.longBitsToDouble(decodeLong(s, 3 * j));
            } else {
                rebuild(i);                                  // no saved sum: rebuild from the contents
            }
        }
        rng = decodeLong(meta, 3 * experts + 3);
    }

    static void encodeLong(long v, float[] out, int off) {
        out[off] = (float) (v >>> 42);                       // 22 bits
        out[off + 1] = (float) ((v >>> 21) & 0x1FFFFF);     // 21 bits
        out[off + 2] = (float) (v & 0x1FFFFF);              // 21 bits
    }

    static long decodeLong(float[] in, int off) {
        return ((long) in[off] << 42) | ((long) in[off + 1] << 21) | (long) in[off + 2];
    }
}
