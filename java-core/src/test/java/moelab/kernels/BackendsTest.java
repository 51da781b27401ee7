package moelab.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class BackendsTest {
    @Test
    void scalarIsAlwaysRegisteredAndAvailable() {
        assertTrue(Backends.availableNames().contains("scalar"));
        assertEquals("scalar", Backends.create("scalar", 1).name());
    }

    @Test
    void unknownBackendNamesTheKnownOnes() {
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.create("tpu", 1));
        assertTrue(e.getMessage().contains("'tpu'") && e.getMessage().contains("scalar"), e.getMessage());
    }

    @Test
    void badThreadCountIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.create("scalar", 0));
        assertTrue(e.getMessage().contains("threads"), e.getMessage());
    }
}
