// Bindings for the part of Open MPI's mpi.h that data-parallel training uses, written by hand in
// jextract's shape (one nested class per function: descriptor and method handle created once).
// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of global
// symbols (ompi_mpi_comm_world, ...); MPI_IN_PLACE is the address 1; counts are C ints. No
// Linker.Option.critical here: a collective can wait for another rank for a long time, and a
// critical call would hold the GC that long (buffers are off-heap instead). The library is found
// by NativeLibrary.mpi().
package moelab.nativ;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

@SuppressWarnings("unused")
public final class mpi_h {
    private mpi_h() {}

    /** MPI_THREAD_* from mpi.h: calls come from one thread at a time. */
    public static final int MPI_THREAD_SERIALIZED = 2;
    public static final int MPI_SUCCESS = 0;
    /** MPI_IN_PLACE is ((void *) 1) in Open MPI. */
    public static final MemorySegment MPI_IN_PLACE = MemorySegment.ofAddress(1);

    private static MemorySegment symbol(String name) {
        return NativeLibrary.mpi().lookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol in libmpi: " + name));
    }

    private static MethodHandle mpi(String name, FunctionDescriptor desc) {
        MemorySegment addr = symbol(name);
        return Linker.nativeLinker().downcallHandle(addr, desc);
    }

    /** The predefined handles: addresses of Open MPI's global objects. */
    public static final class handles {
        private handles() {}
        public static final MemorySegment MPI_COMM_WORLD = symbol("ompi_mpi_comm_world");
        public static final MemorySegment MPI_FLOAT = symbol("ompi_mpi_float");
        public static final MemorySegment MPI_DOUBLE = symbol("ompi_mpi_double");
        public static final MemorySegment MPI_INT = symbol("ompi_mpi_int");
        public static final MemorySegment MPI_LONG = symbol("ompi_mpi_long");      // 64-bit on Linux x86-64
        public static final MemorySegment MPI_SUM = symbol("ompi_mpi_op_sum");
    }

    private static final class MPI_Init_thread {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = mpi("MPI_Init_thread", DESC);
    }
    /** {@snippet lang=c : int MPI_Init_thread(int *argc, char ***argv, int required, int *provided) } */
    public static int MPI_Init_thread(MemorySegment argc, MemorySegment argv, int required, MemorySegment provided) {
        try {
            return (int) MPI_Init_thread.HANDLE.invokeExact(argc, argv, required, provided);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class MPI_Comm_rank {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = mpi("MPI_Comm_rank", DESC);
    }
    /** {@snippet lang=c : int MPI_Comm_rank(MPI_Comm comm, int *rank) } */
    public static int MPI_Comm_rank(MemorySegment comm, MemorySegment rank) {
        try {
            return (int) MPI_Comm_rank.HANDLE.invokeExact(comm, rank);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class MPI_Comm_size {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = mpi("MPI_Comm_size", DESC);
    }
    /** {@snippet lang=c : int MPI_Comm_size(MPI_Comm comm, int *size) } */
    public static int MPI_Comm_size(MemorySegment comm, MemorySegment size) {
        try {
            return (int) MPI_Comm_size.HANDLE.invokeExact(comm, size);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class MPI_Allreduce {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = mpi("MPI_Allreduce", DESC);
    }
    /** {@snippet lang=c : int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm) } */
    public static int MPI_Allreduce(MemorySegment sendbuf, MemorySegment recvbuf, int count, MemorySegment datatype,
                                    MemorySegment op, MemorySegment comm) {
        try {
            return (int) MPI_Allreduce.HANDLE.invokeExact(sendbuf, recvbuf, count, datatype, op, comm);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class MPI_Allgather {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = mpi("MPI_Allgather", DESC);
    }
    /** {@snippet lang=c : int MPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm) } */
    public static int MPI_Allgather(MemorySegment sendbuf, int sendcount, MemorySegment sendtype, MemorySegment recvbuf,
                                    int recvcount, MemorySegment recvtype, MemorySegment comm) {
        try {
            return (int) MPI_Allgather.HANDLE.invokeExact(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class MPI_Bcast {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = mpi("MPI_Bcast", DESC);
    }
    /** {@snippet lang=c : int MPI_Bcast(void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm) } */
    public static int MPI_Bcast(MemorySegment buffer, int count, MemorySegment datatype, int root, MemorySegment comm) {
        try {
            return (int) MPI_Bcast.HANDLE.invokeExact(buffer, count, datatype, root, comm);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class MPI_Barrier {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = mpi("MPI_Barrier", DESC);
    }
    /** {@snippet lang=c : int MPI_Barrier(MPI_Comm comm) } */
    public static int MPI_Barrier(MemorySegment comm) {
        try {
            return (int) MPI_Barrier.HANDLE.invokeExact(comm);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class MPI_Wtime {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_DOUBLE);
        static final MethodHandle HANDLE = mpi("MPI_Wtime", DESC);
    }
    /** {@snippet lang=c : double MPI_Wtime(void) } */
    public static double MPI_Wtime() {
        try {
            return (double) MPI_Wtime.HANDLE.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class MPI_Finalize {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT);
        static final MethodHandle HANDLE = mpi("MPI_Finalize", DESC);
    }
    /** {@snippet lang=c : int MPI_Finalize(void) } */
    public static int MPI_Finalize() {
        try {
            return (int) MPI_Finalize.HANDLE.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }
}
