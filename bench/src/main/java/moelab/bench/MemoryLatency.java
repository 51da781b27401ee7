package moelab.bench;

import java.util.Random;

/**
 * Load-to-use latency of this machine's cache levels, by pointer chasing: each load's address
 * comes from the previous load, so nothing overlaps and the time per step is the latency of
 * wherever the working set lives. One 64-byte line per node, visited in a random cyclic order
 * (the hardware prefetchers cannot guess it).
 * <pre>
 *   ./moe bench MemoryLatency [KiB sizes, comma separated] [rounds]
 * </pre>
 * Prints ns per load for each working-set size, one line per round, sizes interleaved so that a
 * change in the machine's state shows up across all of them. On the shared VM this project was
 * tuned on, a 4 MiB set (meant to live in the 32 MiB L3) mostly measured at DRAM latency: the
 * L3 is largely taken by other tenants, which is why the SGEMM keeps its reused data in L2.
 */
public final class MemoryLatency {
    private static final int INTS_PER_LINE = 16;

    private MemoryLatency() {}

    public static void main(String[] args) {
        String[] sizes = (args.length > 0 ? args[0] : "16,256,4096,65536").split(",");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int[] kib = new int[sizes.length];
        int[][] rings = new int[sizes.length][];
        Random rng = new Random(1);
        for (int i = 0; i < sizes.length; i++) {
            kib[i] = Integer.parseInt(sizes[i].trim());
            if (kib[i] < 1) throw new IllegalArgumentException("working-set size must be >= 1 KiB, got " + sizes[i]);
            rings[i] = ring(kib[i] * 1024 / 64, rng);
        }
        long sink = 0;
        final int steps = 2_000_000;
        for (int r = 0; r < rounds; r++) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < rings.length; i++) {
                int[] next = rings[i];
                int p = 0;
                for (int s = 0; s < steps / 20; s++) p = next[p];          // bring the set into cache
                long t0 = System.nanoTime();
                for (int s = 0; s < steps; s++) p = next[p];
                long ns = System.nanoTime() - t0;
                sink += p;
                line.append(String.format("%8d KiB %7.1f ns", kib[i], (double) ns / steps));
            }
            System.out.println(line);
        }
        if (sink == 42) System.out.println();   // keeps the chase alive
    }

    /** A random cycle through {@code lines} cache lines: next[line * 16] = the following line * 16. */
    private static int[] ring(int lines, Random rng) {
        int[] order = new int[lines];
        for (int i = 0; i < lines; i++) order[i] = i;
        for (int i = lines - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i]; order[i] = order[j]; order[j] = t;
        }
        int[] next = new int[lines * INTS_PER_LINE];
        for (int i = 0; i < lines; i++) next[order[i] * INTS_PER_LINE] = order[(i + 1) % lines] * INTS_PER_LINE;
        return next;
    }
}
