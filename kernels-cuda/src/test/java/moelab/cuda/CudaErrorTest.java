package moelab.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;

/** Driver errors are reported by name, with what was asked and a hint where one helps. No GPU needed. */
class CudaErrorTest {

    @Test
    void successPasses() {
        CudaError.check(CUresult.CUDA_SUCCESS, "anything");
    }

    @Test
    void outOfMemoryNamesTheSizeAsked() {
        CudaError e = assertThrows(CudaError.class,
                () -> CudaError.check(CUresult.CUDA_ERROR_OUT_OF_MEMORY, "allocating 68719476736 bytes for w1 [64,4096,65536]"));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
        assertEquals(CUresult.CUDA_ERROR_OUT_OF_MEMORY, e.code());
        assertTrue(e.getMessage().startsWith("CUDA_ERROR_OUT_OF_MEMORY while allocating 68719476736 bytes for w1 [64,4096,65536]"),
                e.getMessage());
    }

    @Test
    void unsupportedPtxPointsAtTheDriverVersion() {
        CudaError e = assertThrows(CudaError.class,
                () -> CudaError.check(CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "loading the kernels' fatbin"));
        assertTrue(e.getMessage().startsWith("CUDA_ERROR_UNSUPPORTED_PTX_VERSION while loading the kernels' fatbin"), e.getMessage());
        assertTrue(e.getMessage().contains("r580") && e.getMessage().contains("CUDA 13"), e.getMessage());
    }

    @Test
    void errorsWithoutHintStillCarryTheirName() {
        CudaError e = CudaError.of(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, "running the MoE expert backward");
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS while running the MoE expert backward", e.getMessage());
        assertTrue(CudaError.of(CUresult.CUDA_ERROR_NO_DEVICE, "cuDeviceGet").getMessage().contains("nvidia-smi"));
    }
}
