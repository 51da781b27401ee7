// Bindings for the part of OpenBLAS's cblas.h the engine uses, written by hand in jextract's shape
// (one nested class per function: descriptor and method handle created once). The system library
// is found by NativeLibrary.openBlas().
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
