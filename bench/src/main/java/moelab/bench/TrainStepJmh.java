package moelab.bench;

import java.util.concurrent.TimeUnit;
import moelab.kernels.Backends;
import moelab.nn.Transformer;
import moelab.tensor.StepArena;
import moelab.train.Trainer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One optimizer step of {@link TrainStepBench}'s named small config ({@link Trainer#step()}:
 * forward, backward, clip, AdamW) as a JMH benchmark, for what a plain program cannot show
 * as well: {@code -prof gc} gives the heap bytes allocated per step ({@code gc.alloc.rate.norm}).
 * Tokens/s and the time breakdown come from {@link TrainStepBench}.
 *
 * <p>Run: {@code ./moe bench TrainStepJmh -prof gc -p threads=1} (both {@code arena} settings: bytes per
 * step with and without recycled activations)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 4)
@Measurement(iterations = 4, time = 4)
public class TrainStepJmh {

    /** Kernel threads of the simd back end. */
    @Param({"1", "2"})
    public int threads;

    /** Whether steps recycle their activations ({@link StepArena}, the default) or allocate them afresh. */
    @Param({"true", "false"})
    public boolean arena;

    Trainer trainer;

    @Setup(Level.Trial)
    public void setup() {
        StepArena.setEnabled(arena);
        Backends.use(Backends.create("simd", threads));
        int batch = 8, seq = 256;
        // enough scheduled steps for any run length: the schedule is constant (TrainStepBench.trainConfig)
        trainer = new Trainer(new Transformer(TrainStepBench.modelConfig(seq), TrainStepBench.SEED),
                TrainStepBench.trainConfig(batch, seq, 1_000_000),
                new TrainStepBench.RandomTokens(TrainStepBench.SEED, TrainStepBench.VOCAB, batch, seq), null, null, null);
    }

    @Benchmark
    public double step() {
        return trainer.step().loss();
    }
}
