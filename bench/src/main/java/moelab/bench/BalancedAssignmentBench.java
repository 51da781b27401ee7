package moelab.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import moelab.routing.BalancedAssignment;
import moelab.routing.MinCostFlowAssignment;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Balanced top-k assignment of one scope group (BA): the exact min-cost flow against the eps-scaled
 * auction (final eps 1e-3, the config default). Shapes are the study model's groups: 512 tokens
 * (a micro-batch of 2 x 256) and 4096 (the whole step), E = 32, k = 4. Logits: "domains" = N(0, 1)
 * plus 1.5 on the experts x with x mod 8 = the token's domain (8 contiguous domains, the testbed's
 * structure); "skewed" = the same plus 0.3 (E - x), every token preferring the same experts, the
 * contended case. One operation is one group; the score is ms per group.
 *
 * <p>Run: {@code ./moe bench BalancedAssignmentBench -f 1 -wi 2 -i 5 -w 1 -r 1}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
public class BalancedAssignmentBench {
    /** tokens:E:k */
    @Param({"512:32:4", "4096:32:4"})
    public String shape;

    @Param({"domains", "skewed"})
    public String logits;

    @Param({"flow", "auction"})
    public String solver;

    int tokens, experts, topk;
    float[] z;

    @Setup
    public void setup() {
        String[] s = shape.split(":");
        tokens = Integer.parseInt(s[0]);
        experts = Integer.parseInt(s[1]);
        topk = Integer.parseInt(s[2]);
        Random r = new Random(1);
        z = new float[tokens * experts];
        int perDomain = Math.max(1, tokens / 8);
        for (int t = 0; t < tokens; t++)
            for (int x = 0; x < experts; x++)
                z[t * experts + x] = (float) (r.nextGaussian() + (x % 8 == (t / perDomain) % 8 ? 1.5 : 0)
                        + (logits.equals("skewed") ? 0.3 * (experts - x) : 0));
    }

    // z [T, E] -> experts [T, k], every expert exactly its capacity
    @Benchmark
    public int[] assign() {
        return solver.equals("flow") ? MinCostFlowAssignment.assign(z, 0, tokens, experts, topk)
                : BalancedAssignment.assign(z, 0, tokens, experts, topk, 1e-3);
    }
}
