// Bindings for the part of OpenBLAS's cblas.h the engine uses, written by hand in jextract's shape
// (one nested class per function: descriptor and method handle created once). The system library
// is found by NativeLibrary.openBlas(); sgemm() also serves BLIS's cblas_sgemm (same signature).
package moelab.nativ;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

@SuppressWarnings("unused")
public final class cblas_h {
    private cblas_h() {}

    /** enum CBLAS_ORDER / CBLAS_TRANSPOSE values from cblas.h */
    public static final int CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112;

    private static MethodHandle openblas(String name, FunctionDescriptor desc) {
        return moelab_kernels_h.downcall(NativeLibrary.openBlas().lookup(), name, desc);
    }

    private static final class cblas_sgemm {
        // enum arguments are C ints; blasint is int in Debian's (non-ILP64) build
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = openblas("cblas_sgemm", DESC);
    }
    public static FunctionDescriptor cblas_sgemm$descriptor() { return cblas_sgemm.DESC; }
    static MethodHandle cblas_sgemm$handle() { return cblas_sgemm.HANDLE; }

    /**
     * C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C on Java arrays (row-major), through
     * the cblas_sgemm behind {@code handle}: arguments checked and named like the native back
     * end's; k == 0 handled here (CBLAS rejects lda = 0).
     */
    static void sgemm(MethodHandle handle, boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        String shapes = NativeKernels.checkGemm(transA, transB, m, n, k, lda, ldb, ldc);
        if (m == 0 || n == 0) return;
        MemorySegment cs = NativeKernels.seg(shapes, "C", c, cOff, NativeKernels.span(m, n, ldc));
        if (k == 0) {
            // the product is empty, so C = beta * C (beta == 0 clears NaNs)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    int ci = cOff + i * ldc + j;
                    c[ci] = beta == 0f ? 0f : beta * c[ci];
                }
            return;
        }
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        MemorySegment as = NativeKernels.seg(shapes, "A", a, aOff, NativeKernels.span(aRows, aCols, lda));
        MemorySegment bs = NativeKernels.seg(shapes, "B", b, bOff, NativeKernels.span(bRows, bCols, ldb));
        try {
            handle.invokeExact(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k,
                    alpha, as, lda, bs, ldb, beta, cs, ldc);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }
    /** {@snippet lang=c : void cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER Order, OPENBLAS_CONST enum CBLAS_TRANSPOSE TransA, OPENBLAS_CONST enum CBLAS_TRANSPOSE TransB, OPENBLAS_CONST blasint M, OPENBLAS_CONST blasint N, OPENBLAS_CONST blasint K, OPENBLAS_CONST float alpha, OPENBLAS_CONST float *A, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *B, OPENBLAS_CONST blasint ldb, OPENBLAS_CONST float beta, float *C, OPENBLAS_CONST blasint ldc) } */
    public static void cblas_sgemm(int Order, int TransA, int TransB, int M, int N, int K, float alpha, MemorySegment A, int lda,
                                   MemorySegment B, int ldb, float beta, MemorySegment C, int ldc) {
        try {
            cblas_sgemm.HANDLE.invokeExact(Order, TransA, TransB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class openblas_set_num_threads {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(JAVA_INT);
        static final MethodHandle HANDLE = openblas("openblas_set_num_threads", DESC);
    }
    /** {@snippet lang=c : void openblas_set_num_threads(int num_threads) } */
    public static void openblas_set_num_threads(int num_threads) {
        try {
            openblas_set_num_threads.HANDLE.invokeExact(num_threads);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }
}
