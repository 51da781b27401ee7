package moelab.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded mutations of a byte string: bit flips, random and boundary bytes, inserted, deleted and
 * duplicated ranges, truncation, little-endian length fields set to boundary values, ASCII numbers
 * replaced by boundary numbers (headers and configs are text), splices of two inputs, and wholly
 * random bytes. The same seed gives the same inputs.
 */
public final class Mutator {
    private static final byte[] BYTES = {0, 1, (byte) 0x7f, (byte) 0x80, (byte) 0xff, (byte) 0xfe, (byte) 0xc0, (byte) 0xed,
            '"', '\\', '{', '}', '[', ']', ':', ',', '\t', '\n', '*', '&', '-', '.', 'e'};
    private static final long[] LONGS = {0, 1, -1, 7, 8, 255, 0x7fff, 0xffff, Integer.MAX_VALUE, Integer.MIN_VALUE, 0xffffffffL,
            1L << 31, 1L << 32, (100L << 20) + 1, Long.MAX_VALUE, Long.MIN_VALUE};
    private static final List<String> NUMBERS = List.of("0", "-1", "1", "2147483647", "2147483648", "4294967296",
            "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1e400", "1.5", "-0", "00", "1e-400",
            "99999999999999999999999999", "NaN", ".inf");
    private static final int MAX_GROWTH = 4096;

    private final SplittableRandom rnd;
    private final List<byte[]> seeds;

    public Mutator(long seed, List<byte[]> seeds) {
        if (seeds.isEmpty()) throw new IllegalArgumentException("Mutator: give at least one seed input");
        this.rnd = new SplittableRandom(seed);
        this.seeds = List.copyOf(seeds);
    }

    /** The next input: a seed with 1 to 8 stacked mutations, or (rarely) random bytes. */
    public byte[] next() {
        if (rnd.nextInt(50) == 0) return randomBytes(rnd.nextInt(64));
        byte[] b = seeds.get(rnd.nextInt(seeds.size())).clone();
        int n = 1 + rnd.nextInt(8);
        for (int i = 0; i < n; i++) b = mutate(b);
        return b;
    }

    private byte[] mutate(byte[] b) {
        if (b.length == 0) return randomBytes(1 + rnd.nextInt(16));
        int at = rnd.nextInt(b.length);
        switch (rnd.nextInt(11)) {
            case 0 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
            case 1 -> b[at] = (byte) rnd.nextInt(256);
            case 2 -> b[at] = BYTES[rnd.nextInt(BYTES.length)];
            case 3 -> { return insert(b, at, randomBytes(1 + rnd.nextInt(16))); }
            case 4 -> { return delete(b, at, 1 + rnd.nextInt(Math.min(64, b.length - at))); }
            case 5 -> {
                int len = 1 + rnd.nextInt(Math.min(MAX_GROWTH, b.length - at));
                return insert(b, rnd.nextInt(b.length + 1), Arrays.copyOfRange(b, at, at + len));
            }
            case 6 -> { return Arrays.copyOf(b, at); }
            case 7 -> {                                                          // a length or count field
                int width = rnd.nextBoolean() ? 4 : 8;
                if (b.length >= width) {
                    int pos = rnd.nextInt(b.length - width + 1);
                    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                    long v = LONGS[rnd.nextInt(LONGS.length)];
                    if (width == 4) bb.putInt(pos, (int) v); else bb.putLong(pos, v);
                }
            }
            case 8 -> { return replaceNumber(b, at); }
            case 9 -> {                                                          // splice with another seed
                byte[] o = seeds.get(rnd.nextInt(seeds.size()));
                int from = rnd.nextInt(o.length + 1);
                byte[] out = Arrays.copyOf(b, at + (o.length - from));
                System.arraycopy(o, from, out, at, o.length - from);
                return out;
            }
            default -> {                                                         // nudge a byte by a little
                b[at] = (byte) (b[at] + rnd.nextInt(-4, 5));
            }
        }
        return b;
    }

    /** Replaces the run of ASCII digits at or after at with a boundary number. */
    private byte[] replaceNumber(byte[] b, int at) {
        int s = at;
        while (s < b.length && (b[s] < '0' || b[s] > '9')) s++;
        if (s == b.length) return b;
        int e = s;
        while (e < b.length && b[e] >= '0' && b[e] <= '9') e++;
        byte[] num = NUMBERS.get(rnd.nextInt(NUMBERS.size())).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return insert(delete(b, s, e - s), s, num);
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) rnd.nextInt(256);
        return b;
    }

    private static byte[] insert(byte[] b, int at, byte[] x) {
        byte[] out = new byte[b.length + x.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(x, 0, out, at, x.length);
        System.arraycopy(b, at, out, at + x.length, b.length - at);
        return out;
    }

    private static byte[] delete(byte[] b, int at, int n) {
        byte[] out = new byte[b.length - n];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, at + n, out, at, b.length - at - n);
        return out;
    }
}
