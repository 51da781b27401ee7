package moelab.kernels;

/**
 * A lightweight wall-clock profiler for the training step: where does the time go?
 *
 * <p>Off by default. While off, every method returns after reading one static boolean, so the
 * calls left in the hot code cost nothing measurable. While on, code marks regions with
 * {@code begin(R)} / {@code end(R)} and every nanosecond between two marks is charged to the
 * INNERMOST open region (exclusive time): the regions nest, and opening one pauses the clock of
 * the one around it. So the exclusive times never double count, and their sum plus the
 * unattributed time is the wall time.
 *
 * <p>Regions: {@link #GEMM} (every sgemm call, marked by {@link TimedKernels}, always innermost),
 * {@link #ATTENTION} (causal attention core forward and backward: scores, masked softmax, p·v;
 * not the q/k/v/o projections or RoPE), {@link #ROUTING} (router logits, softmax, top-k, aux loss,
 * capacity, the sort-by-expert plan, gather, gate-weighted combine and their backward scatter),
 * {@link #EXPERTS} (the fused MoE expert node apart from its GEMMs and dispatch: SwiGLU, buffers),
 * {@link #OPTIMIZER} (gradient clipping and the AdamW update). Time outside every region is
 * "other" (embedding, norms, residual adds, RoPE, cross-entropy, the autograd walk, the router's
 * small [T, E] backward ops).
 *
 * <p>The rule for GEMMs: a GEMM always counts as {@link #GEMM} in the exclusive breakdown, and
 * {@link Snapshot#gemmNanosIn} says which region called it, so "attention including its GEMMs"
 * is {@code nanos(ATTENTION) + gemmNanosIn(ATTENTION)}.
 *
 * <p>Besides the regions, {@link TimedKernels} adds up the time of all non-GEMM kernel calls
 * (an inclusive figure that overlaps the regions above; it is not part of the breakdown).
 *
 * <p>Single-threaded: regions are marked from the thread that turned the profile on (kernels may
 * use worker threads inside one call; that call is timed as a whole by the caller's thread); calls
 * from other threads are ignored. Inside {@link Kernels#forEachTask} (e.g. attention heads run in
 * parallel) the profile is {@link #suspend suspended}: the whole section is charged to the region
 * around it, GEMMs included, since its kernel calls overlap on several threads.
 */
public final class Profile {
    private Profile() {}

    /** Time outside every region (unattributed). */
    public static final int NONE = 0;
    public static final int GEMM = 1, ATTENTION = 2, ROUTING = 3, EXPERTS = 4, OPTIMIZER = 5;
    /** Number of region ids, NONE included. */
    public static final int REGIONS = 6;
    private static final String[] NAMES = {"none", "gemm", "attention", "routing", "experts", "optimizer"};

    private static boolean on;
    /** The thread that turned the profile on: the only one whose marks count. */
    private static Thread owner;
    /** Open {@link #suspend} sections of the owner. */
    private static int suspended;

    private static final long[] nanos = new long[REGIONS], calls = new long[REGIONS], gemmIn = new long[REGIONS];
    private static long gemmFlops, kernelNanos, kernelCalls;
    private static final int[] stack = new int[64];
    private static int depth, current = NONE;
    private static long since;

    /** Region name for reports: "gemm", "attention", ... */
    public static String name(int region) { return NAMES[region]; }

    /** Turns recording on or off. Turning on also starts the clock of the current (outermost) state. */
    public static void enable(boolean enabled) {
        if (enabled && !on) { depth = 0; current = NONE; since = System.nanoTime(); owner = Thread.currentThread(); suspended = 0; }
        on = enabled;
    }

    /** True while recording, on the owner thread, outside suspended sections: marks made now count. */
    public static boolean isOn() { return on && suspended == 0 && Thread.currentThread() == owner; }

    /**
     * Stops recording marks (from every thread) until the matching {@link #resume}; the time in
     * between goes to the region open now. For sections whose kernel calls run on several threads.
     */
    public static void suspend() { if (on && Thread.currentThread() == owner) suspended++; }

    /** Ends a {@link #suspend} section. */
    public static void resume() { if (on && Thread.currentThread() == owner && suspended > 0) suspended--; }

    /** Regions open now (0 between steps when every begin met its end). */
    public static int openRegions() { return on ? depth : 0; }

    /** Zeroes every counter and closes all open regions. */
    public static void reset() {
        java.util.Arrays.fill(nanos, 0);
        java.util.Arrays.fill(calls, 0);
        java.util.Arrays.fill(gemmIn, 0);
        gemmFlops = kernelNanos = kernelCalls = 0;
        depth = 0;
        current = NONE;
        since = System.nanoTime();
    }

    /** Opens a region: from now on time goes to it until the matching {@link #end} or a nested begin. */
    public static void begin(int region) {
        if (!isOn()) return;
        if (depth == stack.length) throw new IllegalStateException("Profile: regions nested deeper than " + stack.length);
        long now = System.nanoTime();
        nanos[current] += now - since;
        stack[depth++] = current; // the paused region; the open regions are stack[1..depth-1] and current
        current = region;
        calls[region]++;
        since = now;
    }

    /**
     * Closes region {@code region}, normally the innermost open one. A region that is not open
     * (profiling was switched on inside it, or reset) is ignored; regions still open inside it
     * (an exception skipped their end) are closed with it.
     */
    public static void end(int region) {
        if (!isOn() || region == NONE) return;
        int at; // stack index of the region that becomes current
        if (current == region) {
            at = depth - 1;
        } else {
            at = depth - 1;
            while (at >= 1 && stack[at] != region) at--;
            if (at < 1) return; // not open
            at--;
        }
        long now = System.nanoTime(), dt = now - since;
        nanos[current] += dt;
        if (current == GEMM) gemmIn[stack[depth - 1]] += dt; // charged to GEMM, remembered by caller
        current = stack[at];
        depth = at;
        since = now;
    }

    /** Adds the floating-point operations of one GEMM (2*m*n*k). */
    public static void addGemmFlops(long flops) { if (isOn()) gemmFlops += flops; }

    /** Adds one timed non-GEMM kernel call (inclusive time, not a region). */
    public static void addKernel(long elapsedNanos) {
        if (!isOn()) return;
        kernelNanos += elapsedNanos;
        kernelCalls++;
    }

    /** A copy of the counters (the region open now is charged up to this moment). */
    public static Snapshot snapshot() {
        long[] n = nanos.clone();
        if (on) n[current] += System.nanoTime() - since;
        return new Snapshot(n, calls.clone(), gemmIn.clone(), gemmFlops, kernelNanos, kernelCalls);
    }

    /**
     * Counters at one moment.
     *
     * @param nanos       exclusive time per region [REGIONS] (NONE: time outside every region while on)
     * @param calls       times each region was opened [REGIONS] (GEMM: sgemm calls)
     * @param gemmNanosIn GEMM time by the region that called the GEMM [REGIONS]
     * @param gemmFlops   2*m*n*k summed over the sgemm calls
     * @param kernelNanos time inside non-GEMM kernel calls (inclusive; overlaps the regions)
     * @param kernelCalls non-GEMM kernel calls
     */
    public record Snapshot(long[] nanos, long[] calls, long[] gemmNanosIn, long gemmFlops, long kernelNanos, long kernelCalls) {
        /** Exclusive time of the regions (NONE excluded). */
        public long attributedNanos() {
            long s = 0;
            for (int r = 1; r < REGIONS; r++) s += nanos[r];
            return s;
        }

        public long nanos(int region) { return nanos[region]; }

        /** Counters accumulated since {@code earlier}. */
        public Snapshot minus(Snapshot earlier) {
            long[] n = nanos.clone(), c = calls.clone(), g = gemmNanosIn.clone();
            for (int r = 0; r < REGIONS; r++) { n[r] -= earlier.nanos[r]; c[r] -= earlier.calls[r]; g[r] -= earlier.gemmNanosIn[r]; }
            return new Snapshot(n, c, g, gemmFlops - earlier.gemmFlops, kernelNanos - earlier.kernelNanos, kernelCalls - earlier.kernelCalls);
        }
    }
}
