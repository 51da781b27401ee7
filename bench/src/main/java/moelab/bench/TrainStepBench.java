package moelab.bench;

import moelab.data.Batch;
import moelab.data.BatchSource;
import moelab.data.SplitMix64;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.kernels.Profile;
import moelab.kernels.TimedKernels;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import moelab.nn.Transformer;
import moelab.tensor.StepArena;
import moelab.train.SafeTensors;
import moelab.train.StepMetrics;
import moelab.train.TrainConfig;
import moelab.train.Trainer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * Training throughput of the named small config (configs/bench-small.yaml), with a breakdown of
 * the step time:
 * 4 layers, d=256, 4 heads, seq 256, batch 8, all blocks MoE (E=8, k=2, d_ff 512, dropless,
 * load-balancing loss 0.01), vocab 4096, untied head; AdamW (lr 3e-4, wd 0.1, betas 0.9/0.95),
 * clip 1.0. Data: tokens uniform over the vocabulary (seeded). Each optimizer step goes through
 * {@link Trainer#step()}, the real training path.
 *
 * <p>For each thread count: warm-up steps, then rounds of N timed steps (profiler off; tokens/s
 * is the median of the rounds), then one more round of N steps with {@link Profile} on and the
 * kernels wrapped in {@link TimedKernels}, which gives the breakdown. Breakdown rule: every
 * nanosecond goes to the innermost open region; a GEMM is always "GEMM" (and is also listed
 * under the region that called it); what no region covers is "other". The attention heads and
 * RoPE run as tasks of {@code Kernels.forEachTask} on several threads at once, so their kernels
 * are not timed one by one: attention counts with its GEMMs, RoPE in "other".
 *
 * <pre>
 * ./moe bench TrainStepBench
 *      [--threads 1,2] [--steps 3] [--warmup 2] [--rounds 3] [--kernels simd] [--arena on|off] [--json FILE]
 *      [--batch 8] [--seq 256]   (smaller batch/seq only for smoke tests: not the named config)
 * </pre>
 * Compare with {@code python3 bench/pytorch/train_step_peer.py --java-json FILE}. {@code --export DIR}
 * runs no benchmark: it writes the initial weights, the first batch and its loss, and the weights
 * after one step, which {@code train_step_peer.py --check DIR} replays in PyTorch to show that the
 * peer trains the same model.
 */
public final class TrainStepBench {
    private TrainStepBench() {}

    static final int LAYERS = 4, D_MODEL = 256, HEADS = 4, EXPERTS = 8, TOP_K = 2, D_FF = 512, VOCAB = 4096;
    static final long SEED = 1234;

    /** One thread count's result. */
    record Result(int threads, double[] roundTokensPerSec, double medianTokensPerSec, int profiledSteps,
                  double profiledWallSec, Profile.Snapshot profile, long parameters, double firstLoss,
                  double allocatedBytesPerStep) {}

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    public static void main(String[] args) throws IOException {
        int[] threads = {1, 2};
        int steps = 3, warmup = 2, rounds = 3, batch = 8, seq = 256;
        String kernels = "simd";
        boolean arena = true;
        Path json = null, export = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) { usage(); return; }
            if (i + 1 >= args.length) fail("option " + a + " needs a value");
            String v = args[++i];
            switch (a) {
                case "--threads" -> threads = Arrays.stream(v.split(",")).mapToInt(s -> positive(a, s)).toArray();
                case "--steps" -> steps = positive(a, v);
                case "--warmup" -> warmup = nonNegative(a, v);
                case "--rounds" -> rounds = positive(a, v);
                case "--batch" -> batch = positive(a, v);
                case "--seq" -> seq = positive(a, v);
                case "--kernels" -> kernels = v;
                case "--arena" -> arena = onOff(a, v);
                case "--json" -> json = Path.of(v);
                case "--export" -> export = Path.of(v);
                default -> fail("unknown option " + a);
            }
        }
        StepArena.setEnabled(arena);
        ModelConfig mc = modelConfig(seq);
        if (export != null) {
            exportCheck(mc, batch, seq, kernels, export);
            return;
        }
        boolean named = batch == 8 && seq == 256;
        int tokensPerStep = batch * seq;
        System.out.printf(Locale.ROOT, "TrainStepBench: %d layers, d=%d, %d heads, seq %d, batch %d, all MoE E=%d k=%d d_ff %d, "
                        + "vocab %d, untied head (%d tokens/step)%s%n", LAYERS, D_MODEL, HEADS, seq, batch, EXPERTS, TOP_K, D_FF,
                VOCAB, tokensPerStep, named ? "" : "  [NOT the named config: smoke test only]");
        System.out.printf(Locale.ROOT, "kernels %s, step arena %s, %d warm-up steps, %d rounds x %d steps, then 1 profiled round%n",
                kernels, arena ? "on" : "off", warmup, rounds, steps);

        List<Result> results = new ArrayList<>();
        for (int t : threads) {
            Kernels k = Backends.create(kernels, t);
            if (k.threads() != t)
                System.out.printf(Locale.ROOT, "note: back end '%s' runs %d thread(s), not %d%n", kernels, k.threads(), t);
            Backends.use(new TimedKernels(k)); // forwards only while the profile is off
            Result r = run(mc, trainConfig(batch, seq, warmup + (rounds + 1) * steps), t, warmup, rounds, steps, tokensPerStep);
            results.add(r);
            print(r, tokensPerStep);
        }
        if (json != null) {
            Files.writeString(json, toJson(results, kernels, arena, batch, seq, steps, rounds, warmup), StandardCharsets.UTF_8);
            System.out.println("wrote " + json);
        }
    }

    static ModelConfig modelConfig(int seq) {
        MoeConfig moe = MoeConfig.defaults(EXPERTS, TOP_K, D_FF);
        return new ModelConfig(VOCAB, D_MODEL, HEADS, LAYERS, D_FF, seq, false, 10000, 1e-5f, 0.02, moe);
    }

    static TrainConfig trainConfig(int batch, int seq, int totalSteps) {
        // constant learning rate (min_lr = lr, no warm-up): the schedule does not matter for speed
        return new TrainConfig(SEED, totalSteps, batch, 1, seq, 3e-4f, 3e-4f, 0, 0.1f, 0.9f, 0.95f, 1.0f, 0, 1, 0, 1);
    }

    static Result run(ModelConfig mc, TrainConfig tc, int threads, int warmup, int rounds, int steps, int tokensPerStep) {
        Trainer trainer = new Trainer(new Transformer(mc, SEED), tc, new RandomTokens(SEED, VOCAB, tc.microBatch(), tc.seqLen()),
                null, null, null);
        double firstLoss = Double.NaN;
        for (int i = 0; i < warmup; i++) {
            double loss = trainer.step().loss();
            if (i == 0) firstLoss = loss;
        }
        double[] tps = new double[rounds];
        // heap bytes allocated by every thread (the kernel pool's too) over the timed rounds
        long alloc0 = THREADS.getTotalThreadAllocatedBytes();
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                double loss = trainer.step().loss();
                if (Double.isNaN(firstLoss)) firstLoss = loss;
            }
            tps[r] = (double) steps * tokensPerStep / ((System.nanoTime() - t0) * 1e-9);
        }
        double allocPerStep = (double) (THREADS.getTotalThreadAllocatedBytes() - alloc0) / ((long) rounds * steps);
        Profile.enable(true);
        Profile.reset();
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) trainer.step();
        double wall = (System.nanoTime() - t0) * 1e-9;
        Profile.Snapshot snap = Profile.snapshot();
        Profile.enable(false);
        double[] sorted = tps.clone();
        Arrays.sort(sorted);
        return new Result(threads, tps, sorted[sorted.length / 2], steps, wall, snap, trainer.model().parameters().count(), firstLoss,
                allocPerStep);
    }

    /**
     * For the PyTorch peer's --check: DIR/before.safetensors holds the initial weights and, as
     * metadata, the first batch (inputs, targets), its loss and the gradient norm of the first
     * step; DIR/after.safetensors the weights after that one step (clip + AdamW).
     */
    static void exportCheck(ModelConfig mc, int batch, int seq, String kernels, Path dir) throws IOException {
        Backends.use(Backends.create(kernels, 1));
        TrainConfig tc = trainConfig(batch, seq, 1);
        Trainer trainer = new Trainer(new Transformer(mc, SEED), tc, new RandomTokens(SEED, VOCAB, batch, seq), null, null, null);
        Batch first = new RandomTokens(SEED, VOCAB, batch, seq).next(); // what the trainer's source yields first
        Files.createDirectories(dir);
        Path before = dir.resolve("before.safetensors"), after = dir.resolve("after.safetensors");
        SafeTensors.export(trainer.model().parameters(), before, null);
        StepMetrics m = trainer.step();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("batch", "" + batch);
        meta.put("seq", "" + seq);
        meta.put("inputs", join(first.inputs()));
        meta.put("targets", join(first.targets()));
        meta.put("loss", "" + m.loss());
        meta.put("grad_norm", "" + m.gradNorm());
        SafeTensors.Contents c = SafeTensors.read(before);
        SafeTensors.writeTensors(before, c.tensors(), meta);
        SafeTensors.export(trainer.model().parameters(), after, null);
        System.out.printf(Locale.ROOT, "wrote %s and %s (loss %.6f, grad norm %.6f)%n", before, after, m.loss(), m.gradNorm());
    }

    private static String join(int[] v) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < v.length; i++) b.append(i == 0 ? "" : ",").append(v[i]);
        return b.toString();
    }

    // ---------------------------------------------------------------- report

    /** Rows of the exclusive breakdown: label, key, nanoseconds. "other" = wall - the regions. */
    static List<Object[]> rows(Result r) {
        Profile.Snapshot s = r.profile();
        long wall = Math.round(r.profiledWallSec() * 1e9);
        List<Object[]> rows = new ArrayList<>();
        rows.add(new Object[]{"GEMM (sgemm calls outside head tasks)", "gemm", s.nanos(Profile.GEMM)});
        rows.add(new Object[]{"attention core with its GEMMs (head tasks)", "attention", s.nanos(Profile.ATTENTION)});
        rows.add(new Object[]{"routing/dispatch, non-GEMM", "routing", s.nanos(Profile.ROUTING)});
        rows.add(new Object[]{"MoE experts, non-GEMM (SwiGLU, buffers)", "experts", s.nanos(Profile.EXPERTS)});
        rows.add(new Object[]{"optimizer (clip + AdamW)", "optimizer", s.nanos(Profile.OPTIMIZER)});
        rows.add(new Object[]{"other ops (emb, norms, RoPE, CE, autograd)", "other", wall - s.attributedNanos()});
        return rows;
    }

    static void print(Result r, int tokensPerStep) {
        StringBuilder rounds = new StringBuilder();
        for (double v : r.roundTokensPerSec()) rounds.append(String.format(Locale.ROOT, " %.0f", v));
        System.out.printf(Locale.ROOT, "%nthreads %d: %.0f tokens/s (median; rounds:%s), %.2f s/step%n",
                r.threads(), r.medianTokensPerSec(), rounds, tokensPerStep / r.medianTokensPerSec());
        System.out.printf(Locale.ROOT, "  %,d parameters, first loss %.4f (ln V + %d x LBL at balance = %.4f)%n",
                r.parameters(), r.firstLoss(), LAYERS, Math.log(VOCAB) + LAYERS * 0.01);
        System.out.printf(Locale.ROOT, "  heap allocated: %.1f MB per step (all threads, timed rounds)%n", r.allocatedBytesPerStep() / 1e6);
        Profile.Snapshot s = r.profile();
        double steps = r.profiledSteps(), wallNs = r.profiledWallSec() * 1e9;
        double profiledTps = steps * tokensPerStep / r.profiledWallSec();
        System.out.printf(Locale.ROOT, "  breakdown of the profiled round (%d steps, %.2f s/step, %.0f tokens/s, %+.1f%% vs the median)%n",
                r.profiledSteps(), r.profiledWallSec() / steps, profiledTps, 100 * (profiledTps / r.medianTokensPerSec() - 1));
        System.out.printf(Locale.ROOT, "  %-44s %10s %7s%n", "region (exclusive)", "ms/step", "% step");
        for (Object[] row : rows(r)) {
            long ns = (Long) row[2];
            System.out.printf(Locale.ROOT, "  %-44s %10.1f %6.1f%%%n", row[0], ns / steps / 1e6, 100 * ns / wallNs);
            if (row[1].equals("gemm")) {
                long[] in = s.gemmNanosIn();
                String[][] sub = {{"in routing (router logits)", "" + Profile.ROUTING},
                        {"in MoE experts", "" + Profile.EXPERTS}, {"elsewhere (q/k/v/o, LM head)", "" + Profile.NONE}};
                for (String[] x : sub) {
                    long g = in[Integer.parseInt(x[1])];
                    System.out.printf(Locale.ROOT, "    %-42s %10.1f %6.1f%%%n", x[0], g / steps / 1e6, 100 * g / wallNs);
                }
            }
        }
        System.out.printf(Locale.ROOT, "  %-44s %10.1f %6.1f%%%n", "total (wall)", wallNs / steps / 1e6, 100.0);
        long[] in = s.gemmNanosIn();
        double att = s.nanos(Profile.ATTENTION) + in[Profile.ATTENTION];
        double rout = s.nanos(Profile.ROUTING) + in[Profile.ROUTING];
        double moe = rout + s.nanos(Profile.EXPERTS) + in[Profile.EXPERTS];
        System.out.printf(Locale.ROOT, "  inclusive: attention core with its GEMMs %.1f%%, routing with the router GEMM %.1f%%, "
                + "MoE layer (routing + experts + their GEMMs) %.1f%%%n", 100 * att / wallNs, 100 * rout / wallNs, 100 * moe / wallNs);
        double gemmSec = s.nanos(Profile.GEMM) * 1e-9;
        System.out.printf(Locale.ROOT, "  GEMM outside head tasks: %.0f calls/step, %.1f GFLOP/step, %.1f GFLOP/s; non-GEMM kernels outside head tasks %.0f calls/step, "
                        + "%.1f ms/step (inclusive)%n", s.calls()[Profile.GEMM] / steps, s.gemmFlops() / steps * 1e-9,
                gemmSec > 0 ? s.gemmFlops() * 1e-9 / gemmSec : 0, s.kernelCalls() / steps, s.kernelNanos() / steps / 1e6);
    }

    static String toJson(List<Result> results, String kernels, boolean arena, int batch, int seq, int steps, int rounds, int warmup) {
        StringBuilder b = new StringBuilder();
        b.append("{\n  \"bench\": \"train_step\",\n");
        b.append(String.format(Locale.ROOT, "  \"config\": {\"layers\": %d, \"d_model\": %d, \"heads\": %d, \"seq_len\": %d, \"batch\": %d, "
                        + "\"experts\": %d, \"top_k\": %d, \"d_ff\": %d, \"vocab\": %d, \"tied\": false, \"named_config\": %b},\n",
                LAYERS, D_MODEL, HEADS, seq, batch, EXPERTS, TOP_K, D_FF, VOCAB, batch == 8 && seq == 256));
        b.append(String.format(Locale.ROOT, "  \"kernels\": \"%s\", \"step_arena\": %b, \"steps\": %d, \"rounds\": %d, \"warmup\": %d,\n",
                kernels.replace("\"", ""), arena, steps, rounds, warmup));
        b.append("  \"results\": [");
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            Profile.Snapshot s = r.profile();
            double wallNs = r.profiledWallSec() * 1e9, n = r.profiledSteps();
            b.append(i == 0 ? "\n" : ",\n");
            b.append(String.format(Locale.ROOT, "    {\"threads\": %d, \"tokens_per_s\": %.3f, \"rounds_tokens_per_s\": %s,\n",
                    r.threads(), r.medianTokensPerSec(), Arrays.toString(r.roundTokensPerSec())));
            b.append(String.format(Locale.ROOT, "     \"parameters\": %d, \"first_loss\": %.6f, \"allocated_mb_per_step\": %.1f,\n",
                    r.parameters(), r.firstLoss(), r.allocatedBytesPerStep() / 1e6));
            b.append(String.format(Locale.ROOT, "     \"profiled_step_ms\": %.3f, \"breakdown\": {", wallNs / n / 1e6));
            List<Object[]> rows = rows(r);
            for (int j = 0; j < rows.size(); j++) {
                long ns = (Long) rows.get(j)[2];
                b.append(String.format(Locale.ROOT, "%s\"%s\": {\"ms_per_step\": %.3f, \"percent\": %.2f}",
                        j == 0 ? "" : ", ", rows.get(j)[1], ns / n / 1e6, 100 * ns / wallNs));
            }
            long[] in = s.gemmNanosIn();
            b.append(String.format(Locale.ROOT, "},\n     \"gemm_ms_per_step_by_caller\": {\"attention\": %.3f, \"routing\": %.3f, "
                            + "\"experts\": %.3f, \"elsewhere\": %.3f},\n", in[Profile.ATTENTION] / n / 1e6, in[Profile.ROUTING] / n / 1e6,
                    in[Profile.EXPERTS] / n / 1e6, in[Profile.NONE] / n / 1e6));
            double gemmSec = s.nanos(Profile.GEMM) * 1e-9;
            b.append(String.format(Locale.ROOT, "     \"gemm_calls_per_step\": %.1f, \"gemm_gflop_per_step\": %.4f, \"gemm_gflop_s\": %.3f}",
                    s.calls()[Profile.GEMM] / n, s.gemmFlops() / n * 1e-9, gemmSec > 0 ? s.gemmFlops() * 1e-9 / gemmSec : 0));
        }
        b.append("\n  ]\n}\n");
        return b.toString();
    }

    // ---------------------------------------------------------------- data

    /**
     * Endless batches of tokens drawn uniformly from [0, vocab): each row is S+1 draws, the inputs
     * its first S, the targets its last S. Seeded; the state is the generator's one long.
     */
    static final class RandomTokens implements BatchSource {
        private final SplitMix64 rng;
        private final int vocab, batch, seq;

        RandomTokens(long seed, int vocab, int batch, int seq) {
            this.rng = new SplitMix64(seed);
            this.vocab = vocab; this.batch = batch; this.seq = seq;
        }

        @Override public Batch next() {
            int[] in = new int[batch * seq], tg = new int[batch * seq];
            for (int b = 0; b < batch; b++) {
                int prev = rng.nextInt(vocab);
                for (int s = 0; s < seq; s++) {
                    int next = rng.nextInt(vocab);
                    in[b * seq + s] = prev;
                    tg[b * seq + s] = next;
                    prev = next;
                }
            }
            return new Batch(in, tg, batch, seq, null);
        }

        @Override public byte[] saveState() { return ByteBuffer.allocate(8).putLong(rng.state()).array(); }

        @Override public void restoreState(byte[] state) {
            if (state == null || state.length != 8)
                throw new IllegalArgumentException("RandomTokens: state must be 8 bytes, got " + (state == null ? "null" : state.length));
            rng.setState(ByteBuffer.wrap(state).getLong());
        }
    }

    // ---------------------------------------------------------------- arguments

    private static int positive(String opt, String v) {
        int x = parse(opt, v);
        if (x < 1) fail(opt + " must be >= 1, got " + v);
        return x;
    }

    private static int nonNegative(String opt, String v) {
        int x = parse(opt, v);
        if (x < 0) fail(opt + " must be >= 0, got " + v);
        return x;
    }

    private static boolean onOff(String opt, String v) {
        if (v.equals("on")) return true;
        if (v.equals("off")) return false;
        fail(opt + " must be on or off, got '" + v + "'");
        return false;
    }

    private static int parse(String opt, String v) {
        try { return Integer.parseInt(v.trim()); } catch (NumberFormatException e) { fail(opt + " needs an integer, got '" + v + "'"); return 0; }
    }

    private static void usage() {
        System.out.println("""
                usage: TrainStepBench [--threads 1,2] [--steps 3] [--warmup 2] [--rounds 3] [--kernels simd|scalar|...]
                                      [--arena on|off] [--json FILE] [--batch 8] [--seq 256]
                       TrainStepBench --export DIR [--batch B] [--seq S]
                  Training tokens/s (median of the rounds) and the share of the step time in GEMM, attention,
                  routing/dispatch, MoE experts, optimizer and other ops, for the named small config.
                  --arena off: every op allocates its output (the step arena recycles them; default on).
                  --batch/--seq other than 8/256 leave the named config (smoke tests only).
                  --export DIR: no benchmark; writes the initial weights, the first batch, its loss and
                  the weights after one step, for train_step_peer.py --check DIR.""");
    }

    private static void fail(String msg) {
        System.err.println("TrainStepBench: " + msg);
        usage();
        System.exit(2);
    }
}
