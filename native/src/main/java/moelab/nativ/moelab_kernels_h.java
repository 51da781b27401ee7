// Bindings for native/src/main/c/moelab_kernels.h, written by hand in the shape jextract generates
// (jextract cannot be obtained here): one nested class per function holding its descriptor and its
// method handle, created once; a static wrapper per function. MoelabKernelsHeaderTest checks every
// prototype of the header against these descriptors.
package moelab.nativ;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

@SuppressWarnings("unused")
public final class moelab_kernels_h {
    private moelab_kernels_h() {}

    static final Linker LINKER = Linker.nativeLinker();

    /**
     * The downcall for one symbol, or null when the library is not loaded (descriptors stay
     * usable for the header test). critical(true): short calls that may take heap arrays
     * (MemorySegment.ofArray) directly, without copies; the GC waits while they run.
     */
    static MethodHandle downcall(SymbolLookup lookup, String name, FunctionDescriptor desc) {
        if (lookup == null) return null;
        MemorySegment addr = lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + name));
        return LINKER.downcallHandle(addr, desc, Linker.Option.critical(true));
    }

    private static MethodHandle moelab(String name, FunctionDescriptor desc) {
        return downcall(NativeLibrary.moelab().lookup(), name, desc);
    }

    private static final class moelab_version {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT);
        static final MethodHandle HANDLE = moelab("moelab_version", DESC);
    }
    public static FunctionDescriptor moelab_version$descriptor() { return moelab_version.DESC; }
    public static MethodHandle moelab_version$handle() { return moelab_version.HANDLE; }
    /** {@snippet lang=c : int moelab_version(void) } */
    public static int moelab_version() {
        try {
            return (int) moelab_version.HANDLE.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_sgemm {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = moelab("moelab_sgemm", DESC);
    }
    public static FunctionDescriptor moelab_sgemm$descriptor() { return moelab_sgemm.DESC; }
    public static MethodHandle moelab_sgemm$handle() { return moelab_sgemm.HANDLE; }
    /** {@snippet lang=c : void moelab_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) } */
    public static void moelab_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, MemorySegment a, int lda,
                                    MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        try {
            moelab_sgemm.HANDLE.invokeExact(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_softmax_rows {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT);
        static final MethodHandle HANDLE = moelab("moelab_softmax_rows", DESC);
    }
    public static FunctionDescriptor moelab_softmax_rows$descriptor() { return moelab_softmax_rows.DESC; }
    public static MethodHandle moelab_softmax_rows$handle() { return moelab_softmax_rows.HANDLE; }
    /** {@snippet lang=c : void moelab_softmax_rows(const float *x, float *y, int rows, int cols) } */
    public static void moelab_softmax_rows(MemorySegment x, MemorySegment y, int rows, int cols) {
        try {
            moelab_softmax_rows.HANDLE.invokeExact(x, y, rows, cols);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_softmax_backward_rows {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT);
        static final MethodHandle HANDLE = moelab("moelab_softmax_backward_rows", DESC);
    }
    public static FunctionDescriptor moelab_softmax_backward_rows$descriptor() { return moelab_softmax_backward_rows.DESC; }
    public static MethodHandle moelab_softmax_backward_rows$handle() { return moelab_softmax_backward_rows.HANDLE; }
    /** {@snippet lang=c : void moelab_softmax_backward_rows(const float *y, const float *dy, float *dx, int rows, int cols) } */
    public static void moelab_softmax_backward_rows(MemorySegment y, MemorySegment dy, MemorySegment dx, int rows, int cols) {
        try {
            moelab_softmax_backward_rows.HANDLE.invokeExact(y, dy, dx, rows, cols);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_topk_rows {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = moelab("moelab_topk_rows", DESC);
    }
    public static FunctionDescriptor moelab_topk_rows$descriptor() { return moelab_topk_rows.DESC; }
    public static MethodHandle moelab_topk_rows$handle() { return moelab_topk_rows.HANDLE; }
    /** {@snippet lang=c : void moelab_topk_rows(const float *x, int rows, int cols, int k, int *idx, float *val) } */
    public static void moelab_topk_rows(MemorySegment x, int rows, int cols, int k, MemorySegment idx, MemorySegment val) {
        try {
            moelab_topk_rows.HANDLE.invokeExact(x, rows, cols, k, idx, val);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_swiglu_forward {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = moelab("moelab_swiglu_forward", DESC);
    }
    public static FunctionDescriptor moelab_swiglu_forward$descriptor() { return moelab_swiglu_forward.DESC; }
    public static MethodHandle moelab_swiglu_forward$handle() { return moelab_swiglu_forward.HANDLE; }
    /** {@snippet lang=c : void moelab_swiglu_forward(const float *a, const float *b, float *h, int n) } */
    public static void moelab_swiglu_forward(MemorySegment a, MemorySegment b, MemorySegment h, int n) {
        try {
            moelab_swiglu_forward.HANDLE.invokeExact(a, b, h, n);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_swiglu_backward {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = moelab("moelab_swiglu_backward", DESC);
    }
    public static FunctionDescriptor moelab_swiglu_backward$descriptor() { return moelab_swiglu_backward.DESC; }
    public static MethodHandle moelab_swiglu_backward$handle() { return moelab_swiglu_backward.HANDLE; }
    /** {@snippet lang=c : void moelab_swiglu_backward(const float *a, const float *b, const float *dh, float *da, float *db, int n) } */
    public static void moelab_swiglu_backward(MemorySegment a, MemorySegment b, MemorySegment dh, MemorySegment da, MemorySegment db, int n) {
        try {
            moelab_swiglu_backward.HANDLE.invokeExact(a, b, dh, da, db, n);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_memory_similarity {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT);
        static final MethodHandle HANDLE = moelab("moelab_memory_similarity", DESC);
    }
    public static FunctionDescriptor moelab_memory_similarity$descriptor() { return moelab_memory_similarity.DESC; }
    public static MethodHandle moelab_memory_similarity$handle() { return moelab_memory_similarity.HANDLE; }
    /** {@snippet lang=c : void moelab_memory_similarity(const float *x, const float *p, const unsigned char *active, float *m, int tokens, int experts, int d) } */
    public static void moelab_memory_similarity(MemorySegment x, MemorySegment p, MemorySegment active, MemorySegment m,
                                                int tokens, int experts, int d) {
        try {
            moelab_memory_similarity.HANDLE.invokeExact(x, p, active, m, tokens, experts, d);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_memory_similarity_backward {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT);
        static final MethodHandle HANDLE = moelab("moelab_memory_similarity_backward", DESC);
    }
    public static FunctionDescriptor moelab_memory_similarity_backward$descriptor() { return moelab_memory_similarity_backward.DESC; }
    public static MethodHandle moelab_memory_similarity_backward$handle() { return moelab_memory_similarity_backward.HANDLE; }
    /** {@snippet lang=c : void moelab_memory_similarity_backward(const float *x, const float *p, const unsigned char *active, const float *m, const float *dm, float *dx, int tokens, int experts, int d) } */
    public static void moelab_memory_similarity_backward(MemorySegment x, MemorySegment p, MemorySegment active, MemorySegment m,
                                                         MemorySegment dm, MemorySegment dx, int tokens, int experts, int d) {
        try {
            moelab_memory_similarity_backward.HANDLE.invokeExact(x, p, active, m, dm, dx, tokens, experts, d);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }
}
