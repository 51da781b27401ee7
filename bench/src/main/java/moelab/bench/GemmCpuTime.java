package moelab.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * 1-thread SGEMM speed timed by the thread's CPU time instead of the wall clock, beside the FMA
 * peak timed the same way in the same JVM, and optionally beside other back ends (the peers of
 * {@link PeerGemmBench}, one kernel thread each). On a shared machine the wall clock also counts
 * the time the thread waits for a core while other processes run; CPU time does not (cache
 * sharing and clock changes still show). Every round runs the peak loop and then every (back end,
 * shape) once, about 1 GFLOP each, so the phases in which the host is busier hit all of them
 * alike; JMH instead runs one benchmark for several seconds before the next.
 * <pre>
 *   ./moe bench GemmCpuTime [shapes, comma separated, GemmBench names; '' = all 12] [rounds] [back ends: simd,native,openblas,blis,scalar]
 * </pre>
 * Prints per shape the median over rounds of GFLOP/s (2*m*n*k per call) and its share of the
 * median FMA peak; rounds alternate the peak loop and all shapes, so drift hits both alike. It
 * also prints the median and quartiles of each round's GEMM rate over the peak measured in that
 * round (the clock of a shared host moves by 10-15% within a minute), the wall-clock rate
 * (equal to the CPU-time one unless the thread waited for a core) and, for every back end after
 * the first, the median over rounds of the first back end's rate over its rate on that shape.
 * <p>Around every sample it also runs a short probe with the micro-kernel's instruction mix on
 * L1-resident data ({@link #loadFmaGflops}) and splits the same-round medians into samples whose
 * probe ran at >= 85% of the round's FMA peak ("uncontended") and the rest ("contended": another
 * tenant on the physical core takes load or front-end bandwidth, which the FMA-only peak loop does
 * not need). Both subsets are printed, with their sample counts; nothing is dropped.
 */
public final class GemmCpuTime {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    /** Work per timed sample, so that a sample lasts well above the CPU clock's resolution. */
    private static final double GFLOP_PER_SAMPLE = 1.0;
    static float sink;

    private GemmCpuTime() {}

    public static void main(String[] args) {
        String[] shapes = (args.length > 0 && !args[0].isBlank() ? args[0]
                : "square-512,square-1024,square-2048,moe-fwd-T256,moe-dx-T256,moe-dw-T256,"
                + "moe-fwd-T1024,moe-dx-T1024,moe-dw-T1024,moe-fwd-T4096,moe-dx-T4096,moe-dw-T4096").split(",");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        String[] impls = (args.length > 2 ? args[2] : "simd").split(",");
        if (!CPU.isCurrentThreadCpuTimeSupported())
            throw new IllegalStateException("this JVM cannot measure thread CPU time");
        // one kernel thread per back end (PeerGemmBench's choice), one problem per (back end, shape)
        int runs = impls.length * shapes.length;
        GemmBench.Problem[] problems = new GemmBench.Problem[runs];
        String[] names = new String[runs];
        for (int b = 0; b < impls.length; b++) {
            var kernels = PeerGemmBench.oneThread(impls[b]);
            for (int i = 0; i < shapes.length; i++) {
                problems[b * shapes.length + i] = new GemmBench.Problem() {};
                problems[b * shapes.length + i].init(shapes[i], kernels);
                names[b * shapes.length + i] = impls[b] + " " + shapes[i];
            }
        }
        double[] peak = new double[rounds];
        double[][] gemm = new double[runs][rounds];
        double[][] wallG = new double[runs][rounds];
        // the L1 load + FMA probe around each sample, over the FMA peak of the round (see loadFmaGflops)
        double[][] probe = new double[runs][rounds];
        FlopCounter flops = new FlopCounter();
        for (int r = -2; r < rounds; r++) {            // rounds -2, -1 warm up the JIT, not recorded
            double p = peakGflops();
            // the probe is a 256-bit loop: it is judged against the 256-bit FMA peak of the round
            double p256 = peak256Gflops();
            if (r >= 0) peak[r] = p;
            // one probe between consecutive samples serves as the "after" of one and the "before" of the next
            double before = loadFmaGflops();
            for (int i = 0; i < runs; i++) {
                GemmBench.Problem pr = problems[i];
                int calls = (int) Math.max(2, Math.ceil(GFLOP_PER_SAMPLE / pr.gflopPerCall));
                long t0 = CPU.getCurrentThreadCpuTime(), w0 = System.nanoTime();
                for (int c = 0; c < calls; c++) pr.run(flops);
                long ns = CPU.getCurrentThreadCpuTime() - t0, wall = System.nanoTime() - w0;
                double after = loadFmaGflops();
                if (r >= 0) {
                    gemm[i][r] = calls * pr.gflopPerCall / (ns * 1e-9);
                    wallG[i][r] = calls * pr.gflopPerCall / (wall * 1e-9);
                    probe[i][r] = Math.min(before, after) / p256;
                }
                before = after;
            }
        }
        double pk = median(peak);
        int contended = 0;
        for (double[] pr : probe) for (double x : pr) if (x < UNCONTENDED_PROBE) contended++;
        System.out.printf("FMA peak (%d-bit vectors, CPU time, median of %d): %.1f GFLOP/s; load average %.2f%n",
                FmaPeakBench.WIDEST_BITS, rounds, pk, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        System.out.printf("L1 load + FMA probe around each sample: median %.0f%% of the round's 256-bit FMA peak; %d of %d samples"
                        + " contended (probe < %.0f%%)%n", 100 * median(Arrays.stream(probe).flatMapToDouble(Arrays::stream).toArray()),
                contended, runs * rounds, 100 * UNCONTENDED_PROBE);
        for (int i = 0; i < runs; i++) {
            double g = median(gemm[i]);
            // each round's GEMM against the peak of the same round: cancels clock changes between rounds
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) ratio[r] = gemm[i][r] / peak[r];
            String vsFirst = "";
            if (i >= shapes.length) {
                // against the first back end on the same shape, round by round
                double[] rel = new double[rounds];
                for (int r = 0; r < rounds; r++) rel[r] = gemm[i % shapes.length][r] / gemm[i][r];
                vsFirst = String.format("  %s / this: %.2f", impls[0], median(rel));
            }
            System.out.printf("%-22s %6.1f GFLOP/s  %4.0f%% of peak  same-round %% of peak: median %3.0f%%, quartiles %3.0f%%..%3.0f%%"
                            + "  uncontended %s  contended %s  wall-clock %6.1f%s  (rounds:%s)%n", names[i], g, 100 * g / pk,
                    100 * median(ratio), 100 * quantile(ratio, 0.25), 100 * quantile(ratio, 0.75),
                    subsetMedian(ratio, probe[i], true), subsetMedian(ratio, probe[i], false), median(wallG[i]), vsFirst,
                    Arrays.toString(Arrays.stream(gemm[i]).map(x -> Math.round(x * 10) / 10.0).toArray()));
        }
        if (sink == 42f) System.out.println();   // keeps the peak loop's result alive
    }

    /** "median% (n)" of the same-round ratios of the samples whose probe was (or was not) uncontended. */
    static String subsetMedian(double[] ratio, double[] probe, boolean uncontended) {
        double[] sel = IntStream.range(0, ratio.length)
                .filter(r -> (probe[r] >= UNCONTENDED_PROBE) == uncontended).mapToDouble(r -> ratio[r]).toArray();
        return sel.length == 0 ? "   - (0) " : String.format("%3.0f%% (%d)", 100 * median(sel), sel.length);
    }

    /**
     * A loop with the instruction mix of a 4 x 16 GEMM micro-kernel on L1-resident operands: per
     * step 2 vector loads, 4 broadcast loads and 8 FMAs into 8 independent accumulators, over 64
     * steps of a 5 KiB buffer, repeated; about 1.5 ms, timed by CPU time. Alone on its core it runs
     * at 90-95% of the FMA-only loop. On this shared VM there are phases of seconds in which it
     * drops to 60-70% while the FMA-only loop does not: something else on the physical core takes
     * part of its load or front-end bandwidth (not cache capacity: the operands are in L1). Every
     * kernel that feeds its FMAs from memory loses in those phases, OpenBLAS's too, so each
     * sample is tagged with this probe, run right before and right after it.
     */
    private static double loadFmaGflops() {
        final int reps = 8192;
        long t0 = CPU.getCurrentThreadCpuTime();
        sink += loadFmaChains(PROBE_A, PROBE_B, probeSteps, reps);
        long ns = CPU.getCurrentThreadCpuTime() - t0;
        return 2.0 * S.length() * 8 * probeSteps * reps / ns;
    }

    private static final int PROBE_STEPS = 64;
    /** Not a constant on purpose: with a constant trip count C2 unrolls the loop fully, hoists the broadcasts and spills. */
    static int probeSteps = PROBE_STEPS;
    private static final float[] PROBE_A = new float[4 * PROBE_STEPS], PROBE_B = new float[16 * PROBE_STEPS];
    static {
        for (int i = 0; i < PROBE_A.length; i++) PROBE_A[i] = 1e-4f * (i % 7 + 1);
        for (int i = 0; i < PROBE_B.length; i++) PROBE_B[i] = 1e-4f * (i % 5 + 1);
    }
    /** Below this probe / FMA peak a sample counts as contended (alone on the core the probe runs at 0.90-0.95). */
    static final double UNCONTENDED_PROBE = 0.85;

    // acc [4,16] += a [4] * b [16] for `steps` steps, reps times; 8 accumulators as in the micro-kernel
    static float loadFmaChains(float[] a, float[] b, int steps, int reps) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        for (int rep = 0; rep < reps; rep++) {
            for (int ai = 0; ai < 4 * steps; ai += 4) {
                int bi = 4 * ai;
                FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + 8);
                FloatVector av;
                av = FloatVector.broadcast(S, a[ai]);     c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
                av = FloatVector.broadcast(S, a[ai + 1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
                av = FloatVector.broadcast(S, a[ai + 2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
                av = FloatVector.broadcast(S, a[ai + 3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            }
        }
        return c00.add(c01).add(c10).add(c11).add(c20).add(c21).add(c30).add(c31).reduceLanes(VectorOperators.ADD);
    }

    /** {@link FmaPeakBench}'s loop at the widest width the CPU has, timed by CPU time: many short calls, so that C2 compiles the whole method. */
    private static double peakGflops() {
        return timedPeak(false);
    }

    /** The same with 256-bit vectors, the reference for the 256-bit probe. */
    private static double peak256Gflops() {
        return timedPeak(true);
    }

    private static double timedPeak(boolean only256) {
        final int calls = 256;
        FmaPeakBench.Operands o = new FmaPeakBench.Operands();
        FlopCounter f = new FlopCounter();
        long t0 = CPU.getCurrentThreadCpuTime();
        for (int c = 0; c < calls; c++) {
            o.x = 0.001f + c * 1e-9f;
            sink += only256 ? FmaPeakBench.run256(o, f) : FmaPeakBench.widest(o, f);
        }
        long ns = CPU.getCurrentThreadCpuTime() - t0;
        return f.gflop / (ns * 1e-9);
    }

    private static double quantile(double[] v, double q) {
        double[] s = v.clone();
        Arrays.sort(s);
        double pos = q * (s.length - 1);
        int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
