package moelab.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LrScheduleTest {
    @Test
    void warmupThenCosine() {
        LrSchedule s = new LrSchedule(1f, 0.1f, 4, 14);
        assertEquals(0.25f, s.at(0), 1e-6);
        assertEquals(1f, s.at(3), 1e-6);
        assertEquals(1f, s.at(4), 1e-6);            // cosine starts at the max
        assertEquals(0.55f, s.at(9), 1e-6);         // halfway: (max+min)/2
        assertEquals(0.1f, s.at(14), 1e-6);
        assertEquals(0.1f, s.at(100), 1e-6);        // stays at the floor
        for (int i = 4; i < 14; i++) assertTrue(s.at(i + 1) <= s.at(i));
    }

    @Test
    void rejectsInconsistentSettings() {
        var e = assertThrows(IllegalArgumentException.class, () -> new LrSchedule(1f, 0f, 10, 5));
        assertTrue(e.getMessage().contains("warmup"), e.getMessage());
    }
}
