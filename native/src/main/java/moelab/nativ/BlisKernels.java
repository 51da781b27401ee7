package moelab.nativ;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The "blis" back end: SGEMM through the system BLIS (Debian libblis4-serial, cblas_sgemm),
 * everything else delegated to the SIMD back end; a benchmark peer, like "openblas". BLIS picks
 * its kernels by CPU at first use; BLIS 0.9 gives Zen 5 its 256-bit Zen kernels, and the
 * environment variable BLIS_ARCH_TYPE=skx (set before the JVM starts) forces the AVX-512 ones.
 * {@link #arch()} says which it runs. The serial build runs one thread.
 */
public final class BlisKernels extends SimdBackedKernels {
    private static final class Handles {
        static final MethodHandle SGEMM = moelab_kernels_h.downcall(NativeLibrary.blis().lookup(), "cblas_sgemm", cblas_h.cblas_sgemm$descriptor());
        static final MethodHandle ARCH_ID = moelab_kernels_h.downcall(NativeLibrary.blis().lookup(), "bli_arch_query_id",
                FunctionDescriptor.of(JAVA_INT));
        static final MethodHandle ARCH_STRING = moelab_kernels_h.downcall(NativeLibrary.blis().lookup(), "bli_arch_string",
                FunctionDescriptor.of(ADDRESS, JAVA_INT));
        static final MethodHandle VERSION = moelab_kernels_h.downcall(NativeLibrary.blis().lookup(), "bli_info_get_version_str",
                FunctionDescriptor.of(ADDRESS));
    }

    public BlisKernels(int threads) {
        super(threads);   // rejects threads < 1 before anything else
        String reason = NativeLibrary.blis().unavailableReason();
        if (reason != null) throw new IllegalStateException("BLIS unavailable: " + reason);
        if (threads != 1)
            throw new IllegalArgumentException("blis: the BLIS library here (" + libraryPath() + ") runs one thread; use 1 kernel thread, not " + threads);
    }

    /** The BLIS file in use. */
    public static String libraryPath() { return String.valueOf(NativeLibrary.blis().path()); }

    /** "BLIS 0.9.0, kernels skx (BLIS_ARCH_TYPE=skx)": the version and the kernel set BLIS chose. */
    public static String arch() {
        try {
            int id = (int) Handles.ARCH_ID.invokeExact();
            String name = cString((MemorySegment) Handles.ARCH_STRING.invokeExact(id));
            String version = cString((MemorySegment) Handles.VERSION.invokeExact());
            String forced = System.getenv("BLIS_ARCH_TYPE");
            return "BLIS " + version + ", kernels " + name + (forced == null ? " (chosen by BLIS)" : " (BLIS_ARCH_TYPE=" + forced + ")");
        } catch (Throwable e) {
            throw new IllegalStateException("cannot query BLIS's kernel set: " + e, e);
        }
    }

    private static String cString(MemorySegment p) { return p.reinterpret(256).getString(0); }

    @Override public String name() { return "blis"; }
    @Override public int threads() { return 1; }

    // C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C
    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        cblas_h.sgemm(Handles.SGEMM, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }
}
