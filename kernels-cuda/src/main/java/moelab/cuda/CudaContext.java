package moelab.cuda;

import static jcuda.driver.JCudaDriver.*;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

/**
 * One GPU: its primary context, the module loaded from the fatbin and a handle for every kernel,
 * all created once. {@link #launch} makes the context current on the calling thread, so the
 * context can be used from any thread (one at a time).
 */
public final class CudaContext {
    /** Every kernel of kernels-cuda/src/main/cuda/moelab_kernels.cu (see moelab_cuda.h). */
    public static final List<String> KERNELS = List.of(
            "moe_sgemm_nn", "moe_sgemm_nt", "moe_sgemm_tn", "moe_sgemm_tt",
            "moe_expert_up_swiglu", "moe_expert_down", "moe_expert_dh_swiglu_bwd", "moe_expert_dw2",
            "moe_expert_dw13", "moe_expert_dx", "moe_softmax_topk", "moe_row_norms", "moe_memory_similarity",
            "moe_memory_sim_coef", "moe_memory_sim_bwd", "moe_buffer_push", "moe_gather_rows", "moe_combine",
            "moe_combine_bwd", "moe_scatter_add_rows");
    /** Block sizes the kernels were written for (moelab_cuda.h). */
    static final int TILE = 64, GEMM_THREADS = 256, ROW_WARPS = 8, ROW_THREADS = 32 * ROW_WARPS, VEC_THREADS = 128;

    private final CUcontext context = new CUcontext();
    private final CUdevice device = new CUdevice();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final String deviceName;
    private final int ccMajor, ccMinor, driverVersion;

    CudaContext(int ordinal, byte[] fatbin) {
        if (fatbin == null) throw new IllegalStateException("no fatbin: kernels-cuda was built without nvcc");
        CudaError.check(cuInit(0), "cuInit");
        CudaError.check(cuDeviceGet(device, ordinal), "getting CUDA device " + ordinal);
        byte[] name = new byte[256];
        CudaError.check(cuDeviceGetName(name, name.length, device), "reading the device name");
        int end = 0;
        while (end < name.length && name[end] != 0) end++;
        deviceName = new String(name, 0, end, StandardCharsets.UTF_8);
        int[] v = {0};
        CudaError.check(cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device), "reading the compute capability");
        ccMajor = v[0];
        CudaError.check(cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device), "reading the compute capability");
        ccMinor = v[0];
        CudaError.check(cuDriverGetVersion(v), "reading the driver version");
        driverVersion = v[0];
        CudaError.check(cuDevicePrimaryCtxRetain(context, device), "retaining the primary context of " + describe());
        makeCurrent();
        CUmodule module = new CUmodule();
        CudaError.check(cuModuleLoadData(module, fatbin),
                "loading the kernels' fatbin (" + fatbin.length + " bytes, sm_80/sm_90/compute_90) on " + describe());
        List<String> missing = new ArrayList<>();
        for (String k : KERNELS) {
            CUfunction f = new CUfunction();
            int res = cuModuleGetFunction(f, module, k);
            if (res != 0) missing.add(k + " (" + CudaError.of(res, "lookup").errorName() + ")");
            else functions.put(k, f);
        }
        if (!missing.isEmpty()) throw new IllegalStateException("the fatbin lacks kernels " + missing + ": rebuild kernels-cuda/src/main/cuda");
    }

    /** e.g. "NVIDIA H100 80GB HBM3 (sm_90, driver CUDA 13.0)". */
    public String describe() {
        return deviceName + " (sm_" + ccMajor + ccMinor + ", driver CUDA " + driverVersion / 1000 + "." + (driverVersion % 1000) / 10 + ")";
    }

    void makeCurrent() { CudaError.check(cuCtxSetCurrent(context), "making the CUDA context current"); }

    /** Waits for the queued kernels; a kernel's execution error surfaces here, named with {@code what}. */
    public void synchronize(String what) {
        makeCurrent();
        CudaError.check(cuCtxSynchronize(), what);
    }

    /**
     * Launches {@code kernel} on grid (gx, gy, gz) with {@code block} threads. Arguments in the
     * kernel's order: DeviceTensor (its pointer), Integer (int), Float (float).
     */
    public void launch(String kernel, int gx, int gy, int gz, int block, Object... args) {
        if (gx == 0 || gy == 0 || gz == 0) return; // empty problem
        CUfunction f = functions.get(kernel);
        if (f == null) throw new IllegalArgumentException("unknown kernel " + kernel + "; known: " + KERNELS);
        Pointer[] ps = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            ps[i] = switch (a) {
                case DeviceTensor t -> Pointer.to(t.ptr());
                case Integer v -> Pointer.to(new int[]{v});
                case Float v -> Pointer.to(new float[]{v});
                case null -> Pointer.to(new jcuda.driver.CUdeviceptr()); // NULL device pointer
                default -> throw new IllegalArgumentException(kernel + ": unsupported argument " + a.getClass());
            };
        }
        makeCurrent();
        CudaError.check(cuLaunchKernel(f, gx, gy, gz, block, 1, 1, 0, null, Pointer.to(ps), null),
                "launching " + kernel + " grid (" + gx + "," + gy + "," + gz + ") block " + block);
    }

    static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
