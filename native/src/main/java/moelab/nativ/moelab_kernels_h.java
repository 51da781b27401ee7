// Bindings for native/src/main/c/moelab_kernels.h, written by hand in the shape jextract generates
// (jextract cannot be obtained here): one nested class per function holding its descriptor and its
// method handles, created once; a static wrapper per function. MoelabKernelsHeaderTest checks every
// prototype of the header against these descriptors.
//
// The kernels exist twice in the library, name_avx2 and name_avx512 (isa.h): each kernel's class
// holds one handle per copy, and its wrapper takes the NativeIsa to call. Each copy has its own
// call site, so the JIT sees a constant handle on both. moelab_version and moelab_cpu_features
// have one copy that runs on any x86-64.
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

    /** The header's functions that have one copy, without an ISA suffix; all others are per ISA. */
    static final java.util.Set<String> UNSUFFIXED = java.util.Set.of("moelab_version", "moelab_cpu_features");

    /** The copy of a kernel for one ISA; null when the library is not loaded or lacks that copy (the AVX-512 one). */
    private static MethodHandle kernel(String name, NativeIsa isa, FunctionDescriptor desc) {
        SymbolLookup lookup = NativeLibrary.moelab().lookup();
        if (lookup == null || (isa != NativeIsa.AVX2 && lookup.find(name + isa.suffix).isEmpty())) return null;
        return downcall(lookup, name + isa.suffix, desc);
    }

    /** Whether the loaded library has the copy of every kernel for this ISA. */
    static boolean hasCopy(NativeIsa isa) {
        SymbolLookup lookup = NativeLibrary.moelab().lookup();
        return lookup != null && lookup.find("moelab_vector_bits" + isa.suffix).isPresent();
    }

    private static final class moelab_cpu_features {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT);
        static final MethodHandle HANDLE = moelab("moelab_cpu_features", DESC);
    }
    public static FunctionDescriptor moelab_cpu_features$descriptor() { return moelab_cpu_features.DESC; }
    /** {@snippet lang=c : int moelab_cpu_features(void) } */
    public static int moelab_cpu_features() {
        try {
            return (int) moelab_cpu_features.HANDLE.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_vector_bits {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT);
        static final MethodHandle AVX2 = kernel("moelab_vector_bits", NativeIsa.AVX2, DESC);
        static final MethodHandle AVX512 = kernel("moelab_vector_bits", NativeIsa.AVX512, DESC);
    }
    public static FunctionDescriptor moelab_vector_bits$descriptor() { return moelab_vector_bits.DESC; }
    /** {@snippet lang=c : int moelab_vector_bits(void) } */
    public static int moelab_vector_bits(NativeIsa isa) {
        try {
            if (isa == NativeIsa.AVX512) return (int) moelab_vector_bits.AVX512.invokeExact();
            return (int) moelab_vector_bits.AVX2.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_version {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT);
        static final MethodHandle HANDLE = moelab("moelab_version", DESC);
    }
    public static FunctionDescriptor moelab_version$descriptor() { return moelab_version.DESC; }
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
        static final MethodHandle AVX2 = kernel("moelab_sgemm", NativeIsa.AVX2, DESC);
        static final MethodHandle AVX512 = kernel("moelab_sgemm", NativeIsa.AVX512, DESC);
    }
    public static FunctionDescriptor moelab_sgemm$descriptor() { return moelab_sgemm.DESC; }
    /** {@snippet lang=c : void moelab_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) } */
    public static void moelab_sgemm(NativeIsa isa, int trans_a, int trans_b, int m, int n, int k, float alpha, MemorySegment a, int lda,
                                    MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        try {
            if (isa == NativeIsa.AVX512) moelab_sgemm.AVX512.invokeExact(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            else moelab_sgemm.AVX2.invokeExact(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_softmax_rows {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT);
        static final MethodHandle AVX2 = kernel("moelab_softmax_rows", NativeIsa.AVX2, DESC);
        static final MethodHandle AVX512 = kernel("moelab_softmax_rows", NativeIsa.AVX512, DESC);
    }
    public static FunctionDescriptor moelab_softmax_rows$descriptor() { return moelab_softmax_rows.DESC; }
    /** {@snippet lang=c : void moelab_softmax_rows(const float *x, float *y, int rows, int cols) } */
    public static void moelab_softmax_rows(NativeIsa isa, MemorySegment x, MemorySegment y, int rows, int cols) {
        try {
            if (isa == NativeIsa.AVX512) moelab_softmax_rows.AVX512.invokeExact(x, y, rows, cols);
            else moelab_softmax_rows.AVX2.invokeExact(x, y, rows, cols);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_softmax_backward_rows {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT);
        static final MethodHandle AVX2 = kernel("moelab_softmax_backward_rows", NativeIsa.AVX2, DESC);
        static final MethodHandle AVX512 = kernel("moelab_softmax_backward_rows", NativeIsa.AVX512, DESC);
    }
    public static FunctionDescriptor moelab_softmax_backward_rows$descriptor() { return moelab_softmax_backward_rows.DESC; }
    /** {@snippet lang=c : void moelab_softmax_backward_rows(const float *y, const float *dy, float *dx, int rows, int cols) } */
    public static void moelab_softmax_backward_rows(NativeIsa isa, MemorySegment y, MemorySegment dy, MemorySegment dx, int rows, int cols) {
        try {
            if (isa == NativeIsa.AVX512) moelab_softmax_backward_rows.AVX512.invokeExact(y, dy, dx, rows, cols);
            else moelab_softmax_backward_rows.AVX2.invokeExact(y, dy, dx, rows, cols);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_topk_rows {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle AVX2 = kernel("moelab_topk_rows", NativeIsa.AVX2, DESC);
        static final MethodHandle AVX512 = kernel("moelab_topk_rows", NativeIsa.AVX512, DESC);
    }
    public static FunctionDescriptor moelab_topk_rows$descriptor() { return moelab_topk_rows.DESC; }
    /** {@snippet lang=c : void moelab_topk_rows(const float *x, int rows, int cols, int k, int *idx, float *val) } */
    public static void moelab_topk_rows(NativeIsa isa, MemorySegment x, int rows, int cols, int k, MemorySegment idx, MemorySegment val) {
        try {
            if (isa == NativeIsa.AVX512) moelab_topk_rows.AVX512.invokeExact(x, rows, cols, k, idx, val);
            else moelab_topk_rows.AVX2.invokeExact(x, rows, cols, k, idx, val);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_swiglu_forward {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, JAVA_INT);
        static final MethodHandle AVX2 = kernel("moelab_swiglu_forward", NativeIsa.AVX2, DESC);
        static final MethodHandle AVX512 = kernel("moelab_swiglu_forward", NativeIsa.AVX512, DESC);
    }
    public static FunctionDescriptor moelab_swiglu_forward$descriptor() { return moelab_swiglu_forward.DESC; }
    /** {@snippet lang=c : void moelab_swiglu_forward(const float *a, const float *b, float *h, int n) } */
    public static void moelab_swiglu_forward(NativeIsa isa, MemorySegment a, MemorySegment b, MemorySegment h, int n) {
        try {
            if (isa == NativeIsa.AVX512) moelab_swiglu_forward.AVX512.invokeExact(a, b, h, n);
            else moelab_swiglu_forward.AVX2.invokeExact(a, b, h, n);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_swiglu_backward {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT);
        static final MethodHandle AVX2 = kernel("moelab_swiglu_backward", NativeIsa.AVX2, DESC);
        static final MethodHandle AVX512 = kernel("moelab_swiglu_backward", NativeIsa.AVX512, DESC);
    }
    public static FunctionDescriptor moelab_swiglu_backward$descriptor() { return moelab_swiglu_backward.DESC; }
    /** {@snippet lang=c : void moelab_swiglu_backward(const float *a, const float *b, const float *dh, float *da, float *db, int n) } */
    public static void moelab_swiglu_backward(NativeIsa isa, MemorySegment a, MemorySegment b, MemorySegment dh, MemorySegment da, MemorySegment db, int n) {
        try {
            if (isa == NativeIsa.AVX512) moelab_swiglu_backward.AVX512.invokeExact(a, b, dh, da, db, n);
            else moelab_swiglu_backward.AVX2.invokeExact(a, b, dh, da, db, n);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_memory_similarity {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT);
        static final MethodHandle AVX2 = kernel("moelab_memory_similarity", NativeIsa.AVX2, DESC);
        static final MethodHandle AVX512 = kernel("moelab_memory_similarity", NativeIsa.AVX512, DESC);
    }
    public static FunctionDescriptor moelab_memory_similarity$descriptor() { return moelab_memory_similarity.DESC; }
    /** {@snippet lang=c : void moelab_memory_similarity(const float *x, const float *p, const unsigned char *active, float *m, int tokens, int experts, int d) } */
    public static void moelab_memory_similarity(NativeIsa isa, MemorySegment x, MemorySegment p, MemorySegment active, MemorySegment m,
                                                int tokens, int experts, int d) {
        try {
            if (isa == NativeIsa.AVX512) moelab_memory_similarity.AVX512.invokeExact(x, p, active, m, tokens, experts, d);
            else moelab_memory_similarity.AVX2.invokeExact(x, p, active, m, tokens, experts, d);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class moelab_memory_similarity_backward {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT);
        static final MethodHandle AVX2 = kernel("moelab_memory_similarity_backward", NativeIsa.AVX2, DESC);
        static final MethodHandle AVX512 = kernel("moelab_memory_similarity_backward", NativeIsa.AVX512, DESC);
    }
    public static FunctionDescriptor moelab_memory_similarity_backward$descriptor() { return moelab_memory_similarity_backward.DESC; }
    /** {@snippet lang=c : void moelab_memory_similarity_backward(const float *x, const float *p, const unsigned char *active, const float *m, const float *dm, float *dx, int tokens, int experts, int d) } */
    public static void moelab_memory_similarity_backward(NativeIsa isa, MemorySegment x, MemorySegment p, MemorySegment active, MemorySegment m,
                                                         MemorySegment dm, MemorySegment dx, int tokens, int experts, int d) {
        try {
            if (isa == NativeIsa.AVX512) moelab_memory_similarity_backward.AVX512.invokeExact(x, p, active, m, dm, dx, tokens, experts, d);
            else moelab_memory_similarity_backward.AVX2.invokeExact(x, p, active, m, dm, dx, tokens, experts, d);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }
}
