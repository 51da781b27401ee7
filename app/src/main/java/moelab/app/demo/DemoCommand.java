package moelab.app.demo;

import moelab.tensor.NoGrad;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.nn.ModelConfig;
import moelab.nn.Transformer;
import moelab.ops.CrossEntropy;
import moelab.routing.TokenInfo;
import moelab.ops.Softmax;
import moelab.tensor.Tensor;
import moelab.train.AdamW;
import moelab.train.GradClip;
import moelab.train.LrSchedule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code moe demo}: trains a tiny dense byte-level transformer (the engine's Transformer with no MoE blocks) on the Apache License 2.0 text shipped
 * in the jar and prints the loss falling below the text's unigram entropy.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train a tiny byte-level transformer for a minute and print its loss falling.")
public final class DemoCommand implements Callable<Integer> {
    static final int VOCAB = 256;                                           // bytes
    @Option(names = "--steps", description = "optimizer steps (default ${DEFAULT-VALUE})") int steps = 300;
    @Option(names = "--batch", description = "sequences per step (default ${DEFAULT-VALUE})") int batch = 8;
    @Option(names = "--seq", description = "sequence length (default ${DEFAULT-VALUE})") int seq = 64;
    @Option(names = "--d-model", description = "model width (default ${DEFAULT-VALUE})") int dModel = 64;
    @Option(names = "--layers", description = "transformer blocks (default ${DEFAULT-VALUE})") int layers = 2;
    @Option(names = "--lr", description = "peak learning rate (default ${DEFAULT-VALUE})") float lr = 3e-3f;
    @Option(names = "--seed", description = "random seed (default ${DEFAULT-VALUE})") long seed = 1;
    @Option(names = "--kernels", description = "kernel back end: scalar, simd, ... (default: fastest available)") String kernels;
    @Option(names = "--threads", description = "kernel threads (default: all cores)") Integer threads;

    @Override
    public Integer call() throws IOException {
        if (kernels != null || threads != null)
            Backends.use(Backends.create(kernels != null ? kernels : Backends.defaultName(),
                    threads != null ? threads : Backends.defaultThreads()));
        Result r = train(System.out);
        return r.finalValLoss < r.unigramEntropy ? 0 : 1;
    }

    /** What the run reached, for callers and tests. */
    public record Result(double unigramEntropy, double firstLoss, double finalTrainLoss, double finalValLoss) {}

    public Result train(PrintStream out) throws IOException {
        byte[] text = corpus();
        int split = text.length * 9 / 10;
        int[] train = toInts(text, 0, split), val = toInts(text, split, text.length);
        double unigram = unigramEntropy(train);
        Kernels k = Backends.get();
        Transformer model = new Transformer(new ModelConfig(VOCAB, dModel, 4, layers, 4 * dModel, seq, false, 10000,
                1e-5f, 0.02, null), seed);                                  // every block dense

        out.printf("demo: byte-level transformer, %d layers, d=%d, %,d parameters; %d train / %d val bytes%n",
                layers, dModel, model.parameters().count(), train.length, val.length);
        out.printf("      kernels=%s threads=%d, batch %d x seq %d, %d steps; unigram entropy of the text %.3f nats/byte%n",
                k.name(), k.threads(), batch, seq, steps, unigram);

        AdamW opt = new AdamW(model.parameters(), 0.9f, 0.95f, 1e-8f, 0.1f);
        LrSchedule schedule = new LrSchedule(lr, lr / 10, Math.max(1, steps / 20), steps);
        Random rng = new Random(seed);
        double firstLoss = Double.NaN, emaLoss = Double.NaN;
        long t0 = System.nanoTime();
        for (int step = 0; step < steps; step++) {
            int[][] xy = sample(train, rng);
            Tensor loss = CrossEntropy.crossEntropy(logits(model, xy[0], batch, seq), xy[1]);
            model.parameters().zeroGrad();
            loss.backward();
            GradClip.clipGlobalNorm(model.parameters(), 1.0);
            opt.step(schedule.at(step));
            double l = loss.item();
            if (step == 0) firstLoss = l;
            emaLoss = Double.isNaN(emaLoss) ? l : 0.9 * emaLoss + 0.1 * l;
            if (step % 25 == 0 || step == steps - 1) {
                double secs = (System.nanoTime() - t0) / 1e9;
                out.printf("step %4d  loss %.3f  (smoothed %.3f)  lr %.2e  %,.0f tok/s%n",
                        step, l, emaLoss, schedule.at(step), (step + 1) * (double) batch * seq / secs);
            }
        }
        double valLoss = evaluate(model, val);
        out.printf("validation loss %.3f nats/byte (unigram entropy %.3f, uniform %.3f)%n", valLoss, unigram, Math.log(256));
        out.println("sample: " + generate(model, "Licensed under the ", 120).replace('\n', ' '));
        return new Result(unigram, firstLoss, emaLoss, valLoss);
    }

    private int[][] sample(int[] data, Random rng) {
        int[] x = new int[batch * seq], y = new int[batch * seq];
        for (int b = 0; b < batch; b++) {
            int start = rng.nextInt(data.length - seq - 1);
            for (int s = 0; s < seq; s++) { x[b * seq + s] = data[start + s]; y[b * seq + s] = data[start + s + 1]; }
        }
        return new int[][]{x, y};
    }

    /** Mean loss over consecutive non-overlapping windows of the held-out bytes. */
    private static Tensor logits(Transformer model, int[] tokens, int batch, int seq) {
        return model.forward(tokens, TokenInfo.of(batch, seq), true).logits();
    }

    private double evaluate(Transformer model, int[] data) {
        try (NoGrad ng = NoGrad.enter()) {
            double sum = 0; int n = 0;
            for (int start = 0; start + seq + 1 <= data.length; start += seq) {
                int[] x = new int[seq], y = new int[seq];
                for (int s = 0; s < seq; s++) { x[s] = data[start + s]; y[s] = data[start + s + 1]; }
                sum += CrossEntropy.crossEntropy(logits(model, x, 1, seq), y).item();
                n++;
            }
            return sum / n;
        }
    }

    /** Greedy continuation of a prompt, seq bytes of context. */
    private String generate(Transformer model, String prompt, int n) {
        StringBuilder sb = new StringBuilder(prompt);
        try (NoGrad ng = NoGrad.enter()) {
            for (int i = 0; i < n; i++) {
                byte[] ctx = sb.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
                int len = Math.min(seq, ctx.length);
                int[] x = toInts(ctx, ctx.length - len, ctx.length);
                Tensor probs = Softmax.softmax(logits(model, x, 1, len), -1);
                int best = 0;
                for (int v = 1; v < VOCAB; v++) if (probs.get(len - 1, v) > probs.get(len - 1, best)) best = v;
                sb.append((char) best);
            }
        }
        return sb.toString();
    }

    static byte[] corpus() throws IOException {
        try (InputStream in = DemoCommand.class.getResourceAsStream("/demo/apache-2.0.txt")) {
            if (in == null) throw new IOException("demo corpus /demo/apache-2.0.txt missing from the class path");
            return in.readAllBytes();
        }
    }

    private static int[] toInts(byte[] b, int from, int to) {
        int[] out = new int[to - from];
        for (int i = from; i < to; i++) out[i - from] = b[i] & 0xff;
        return out;
    }

    static double unigramEntropy(int[] data) {
        double[] counts = new double[256];
        for (int v : data) counts[v]++;
        double h = 0;
        for (double c : counts) if (c > 0) { double p = c / data.length; h -= p * Math.log(p); }
        return h;
    }
}
