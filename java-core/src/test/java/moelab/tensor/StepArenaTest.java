package moelab.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** What an open arena hands out comes back at close, zeroed on reuse; without one, arrays are fresh. */
class StepArenaTest {
    private static final int N = 7919; // a length no other test in this class uses twice

    @Test
    void arraysComeBackAtCloseAndAreReusedZeroed() {
        float[] first;
        try (StepArena a = StepArena.open()) {
            first = StepArena.floats(N);
            Arrays.fill(first, 3f);
            assertEquals(1, a.handedOut());
        }
        try (StepArena a = StepArena.open()) {
            float[] again = StepArena.floats(N);
            assertSame(first, again, "the next step reuses the array");
            for (float v : again) assertEquals(0f, v);
        }
    }

    @Test
    void withoutAnArenaEveryArrayIsFreshAndKept() {
        float[] x = StepArena.floats(N + 2);
        Arrays.fill(x, 1f);
        try (StepArena a = StepArena.open()) {
            assertNotSame(x, StepArena.floats(N + 2));
        }
        for (float v : x) assertEquals(1f, v, "an array handed out with no arena open is never recycled");
    }

    @Test
    void aClosedArenasArraysArePoisonedUnderTheTestSwitch() {
        float[] x;
        try (StepArena a = StepArena.open()) {
            x = StepArena.floats(N + 4);
        }
        if (Boolean.getBoolean("moelab.poisonRecycled")) assertTrue(Float.isNaN(x[0]), "a read after close sees NaN");
    }

    @Test
    void nestedArenasCloseInOrderAndRestoreTheOuterOne() {
        try (StepArena outer = StepArena.open()) {
            StepArena.floats(3);
            try (StepArena inner = StepArena.open()) {
                StepArena.floats(5);
                assertEquals(1, inner.handedOut());
            }
            StepArena.floats(3);
            assertEquals(2, outer.handedOut(), "after the inner arena closed, the outer one collects again");
            StepArena inner = StepArena.open();
            assertThrows(IllegalStateException.class, outer::close, "closing the outer arena while an inner one is open");
            inner.close();
        }
    }

    @Test
    void offSwitchMakesArenasHandOutFreshArrays() {
        boolean old = StepArena.setEnabled(false);
        try (StepArena a = StepArena.open()) {
            StepArena.floats(N + 6);
            assertEquals(0, a.handedOut());
        } finally {
            StepArena.setEnabled(old);
        }
    }

    @Test
    void lengthsNobodyTakesAreDroppedAfterTwoSteps() {
        long before = ArrayPool.keptFloats();
        try (StepArena a = StepArena.open()) { StepArena.floats(N + 8); }
        assertTrue(ArrayPool.keptFloats() >= before + N + 8);
        for (int i = 0; i < 3; i++) try (StepArena a = StepArena.open()) { StepArena.floats(1); }
        assertTrue(ArrayPool.keptFloats() < before + N + 8, "a length unused for two steps is let go");
    }
}
