package moelab.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import jcuda.driver.JCudaDriver;

/**
 * Whether the CUDA back end can run here, and the shared {@link CudaContext}. The probe never
 * throws: it returns the first thing that is missing (the fatbin, JCuda's native library or
 * libcuda.so.1, a GPU), which tests print when they skip.
 */
public final class Cuda {
    private Cuda() {}

    /** Class-path location of the kernels compiled by kernels-cuda/src/main/cuda/build.sh. */
    public static final String FATBIN = "/moelab/cuda/moelab_kernels.fatbin";
    /** Written by the build next to the fatbin: nvcc=present|absent, nvcc.version. */
    public static final String BUILD_INFO = "/moelab/cuda/build-info.properties";

    private static volatile String reason; // null until probed; "" when available
    private static CudaContext context;

    /** True when the fatbin, the driver and a GPU are all there. */
    public static boolean available() { return unavailableReason() == null; }

    /** What is missing (no fatbin / no libcuda / no device), or null when available. */
    public static String unavailableReason() {
        String r = reason;
        if (r == null) {
            synchronized (Cuda.class) {
                if (reason == null) reason = probe();
                r = reason;
            }
        }
        return r.isEmpty() ? null : r;
    }

    private static String probe() {
        if (Cuda.class.getResource(FATBIN) == null)
            return "no fatbin: kernels-cuda was built without nvcc (" + FATBIN + " is not on the class path)";
        try {
            JCudaDriver.setExceptionsEnabled(false); // every result is checked by CudaError.check, with context
            int res = JCudaDriver.cuInit(0);
            if (res != 0) return "no usable driver: " + CudaError.of(res, "cuInit").getMessage();
            int[] count = {0};
            res = JCudaDriver.cuDeviceGetCount(count);
            if (res != 0) return "no device: " + CudaError.of(res, "cuDeviceGetCount").getMessage();
            if (count[0] == 0) return "no device: the NVIDIA driver reports 0 CUDA devices";
        } catch (LinkageError e) {
            // JCuda's native library links libcuda.so.1, which only an NVIDIA driver installs
            String msg = String.valueOf(e.getMessage());
            int nl = msg.indexOf('\n');
            return "no libcuda: JCuda's driver library could not be loaded (it needs libcuda.so.1 from an NVIDIA driver): "
                    + (nl < 0 ? msg : msg.substring(0, nl));
        }
        return "";
    }

    /** The process-wide context on device 0 (module and functions loaded once). */
    public static synchronized CudaContext context() {
        String r = unavailableReason();
        if (r != null) throw new IllegalStateException("CUDA back end unavailable: " + r);
        if (context == null) context = new CudaContext(0, fatbin());
        return context;
    }

    /** The fatbin bytes from the class path, or null when the build had no nvcc. */
    public static byte[] fatbin() {
        try (InputStream in = Cuda.class.getResourceAsStream(FATBIN)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + FATBIN + " from the class path", e);
        }
    }

    /** The build's record of whether nvcc was present (empty when the build did not run the script). */
    public static Properties buildInfo() {
        Properties p = new Properties();
        try (InputStream in = Cuda.class.getResourceAsStream(BUILD_INFO)) {
            if (in != null) p.load(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + BUILD_INFO, e);
        }
        return p;
    }
}
