package moelab.cuda;

import jcuda.driver.CUresult;

/**
 * A CUDA driver call failed: carries the driver's error name (e.g. CUDA_ERROR_OUT_OF_MEMORY), what
 * was asked (e.g. "allocating 4096 bytes for w1 [8,64,128]") and, for the errors that have a usual
 * cause, a hint. Every driver call of this module goes through {@link #check}; none is ignored.
 */
public final class CudaError extends RuntimeException {
    private final int code;

    private CudaError(int code, String message) {
        super(message);
        this.code = code;
    }

    /** The CUresult code. */
    public int code() { return code; }

    /** The driver's name for the code, e.g. CUDA_ERROR_OUT_OF_MEMORY. */
    public String errorName() { return CUresult.stringFor(code); }

    /** Throws a CudaError naming {@code result} and {@code what} unless result is CUDA_SUCCESS. */
    public static void check(int result, String what) {
        if (result != CUresult.CUDA_SUCCESS) throw of(result, what);
    }

    /** The error for a failed call (not thrown). */
    public static CudaError of(int result, String what) {
        String msg = CUresult.stringFor(result) + " while " + what;
        String hint = hint(result);
        return new CudaError(result, hint == null ? msg : msg + " (" + hint + ")");
    }

    static String hint(int result) {
        return switch (result) {
            case CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION, CUresult.CUDA_ERROR_NO_BINARY_FOR_GPU,
                 CUresult.CUDA_ERROR_INVALID_PTX, CUresult.CUDA_ERROR_INVALID_IMAGE ->
                    "the kernels were built by nvcc 13 for sm_80 and sm_90 with compute_90 PTX; they need an NVIDIA "
                            + "driver that supports CUDA 13 (r580 or newer) and a GPU of compute capability 8.0 or newer. "
                            + "Update the driver, or rebuild kernels-cuda/src/main/cuda with the nvcc that matches it";
            case CUresult.CUDA_ERROR_OUT_OF_MEMORY -> "the GPU has too little free memory for this; use smaller shapes or free other tensors";
            case CUresult.CUDA_ERROR_NO_DEVICE -> "no CUDA-capable GPU is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)";
            case CUresult.CUDA_ERROR_SYSTEM_DRIVER_MISMATCH -> "the kernel driver and libcuda.so come from different NVIDIA driver versions; reinstall the driver or reboot";
            default -> null;
        };
    }
}
