package moelab.nativ;

import moelab.kernels.ForwardingKernels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The native back ends run what C does not implement on the SIMD kernels, at their own thread count. */
class SimdFallbackTest {
    @Test
    void nativeFallsBackToSimd() {
        ForwardingKernels k = (ForwardingKernels) Availability.nativeKernels(2);
        assertEquals("simd", k.inner().name());
        assertEquals(2, k.inner().threads());
    }

    @Test
    void simdIsAvailableWhereverNativeIs() {
        Availability.nativeKernels(1);   // skips where native cannot run
        assertEquals(null, SimdBackedKernels.simdUnavailableReason());
    }
}
