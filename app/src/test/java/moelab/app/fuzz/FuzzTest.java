package moelab.app.fuzz;

import moelab.fuzz.Fuzzer;
import moelab.fuzz.Mutator;
import moelab.train.CheckpointException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/** A short seeded fuzz run of each reader (the long one is {@code moe fuzz}). */
class FuzzTest {
    static final long INPUTS = 3000;

    private static void clean(String target) {
        Fuzzer.Report r = FuzzTargets.run(target, 20261202, INPUTS, 5000);
        assertEquals(INPUTS, r.inputs(), r.summary());
        assertEquals(List.of(), r.findings(), r.summary());
        assertTrue(r.refused() > INPUTS / 2, "most mutations are refused: " + r.summary());
    }

    @Test void safetensors() { clean("safetensors"); }

    @Test void checkpoint() { clean("checkpoint"); }

    @Test void config() { clean("config"); }

    @Test
    void theSeedsAreValidFilesSoMutationsStartFromRealInput() {
        assertDoesNotThrow(() -> moelab.train.Checkpoint.parse(FuzzTargets.checkpointSeed(), "seed"));
        for (byte[] s : FuzzTargets.safeTensorsSeeds()) assertDoesNotThrow(() -> moelab.train.SafeTensors.parse(s, "seed"));
        byte[] fixed = FuzzTargets.crcFixer(3).apply(FuzzTargets.checkpointSeed());
        assertDoesNotThrow(() -> moelab.train.Checkpoint.parse(fixed, "fixed"));
    }

    /** The harness itself: a foreign exception, a hang and an outsized allocation are findings; an own error is not. */
    @Test
    void theHarnessReportsForeignErrorsHangsAndAllocations() {
        Mutator m = new Mutator(1, List.of(new byte[]{1, 2, 3}));
        var own = Fuzzer.run("own", b -> { throw new CheckpointException("bad"); }, List.of(CheckpointException.class), m,
                UnaryOperator.identity(), 50, 1000);
        assertEquals(50, own.refused());
        assertTrue(own.findings().isEmpty());
        var foreign = Fuzzer.run("npe", b -> { throw new NullPointerException("x"); }, List.of(CheckpointException.class), m,
                UnaryOperator.identity(), 5, 1000);
        assertEquals(5, foreign.findings().size());
        assertTrue(foreign.findings().get(0).problem().startsWith("java.lang.NullPointerException: x"));
        var hang = Fuzzer.run("hang", b -> Thread.sleep(60_000), List.of(), m, UnaryOperator.identity(), 5, 200);
        assertEquals(1, hang.findings().size());
        assertTrue(hang.findings().get(0).problem().contains("no answer within 200 ms"));
        var big = Fuzzer.run("alloc", b -> { byte[] x = new byte[16 << 20]; x[1] = 1; }, List.of(), m, UnaryOperator.identity(), 2, 5000);
        assertEquals(2, big.findings().size());
        assertTrue(big.findings().get(0).problem().startsWith("allocated "), big.findings().get(0).problem());
    }
}
