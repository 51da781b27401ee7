package moelab.data;

/**
 * A small deterministic random generator (SplitMix64, Steele et al. 2014) whose whole state is
 * one long, so it can be written to a checkpoint and restored exactly (java.util.Random's state
 * cannot be read back). Also the home of the stable hashes the data pipeline keys its choices on.
 */
public final class SplitMix64 {
    private long state;

    public SplitMix64(long seed) { this.state = seed; }

    public long state() { return state; }

    public void setState(long state) { this.state = state; }

    public long nextLong() {
        state += 0x9E3779B97F4A7C15L;
        return mix(state);
    }

    /** Uniform in [0, bound), bound >= 1, without modulo bias (rejection on the top range). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("SplitMix64.nextInt: bound must be >= 1, got " + bound);
        long limit = (1L << 32) - ((1L << 32) % bound);
        while (true) {
            long r = nextLong() >>> 32;
            if (r < limit) return (int) (r % bound);
        }
    }

    /** Fisher-Yates shuffle of a[from, to). */
    public void shuffle(int[] a, int from, int to) {
        for (int i = to - 1; i > from; i--) {
            int j = from + nextInt(i - from + 1);
            int t = a[i]; a[i] = a[j]; a[j] = t;
        }
    }

    /** The SplitMix64 finaliser: a bijective 64-bit mixer. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A seed derived from a parent seed and a salt: independent streams for independent choices. */
    public static long derive(long seed, long salt) { return mix(seed ^ mix(salt + 0x632BE59BD9B4E019L)); }

    /** FNV-1a 64 over the UTF-8 bytes of s: stable across JVMs (unlike identity hashes). */
    public static long hash(String s) {
        long h = 0xCBF29CE484222325L;
        for (byte b : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            h ^= (b & 0xFF);
            h *= 0x100000001B3L;
        }
        return h;
    }

    /** Folds one more value into a running 64-bit hash. */
    public static long hash(long h, long v) { return mix(h ^ mix(v + 0x9E3779B97F4A7C15L)); }
}
