package moelab.nativ;

import moelab.dist.Collective;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static moelab.nativ.mpi_h.handles.MPI_COMM_WORLD;
import static moelab.nativ.mpi_h.handles.MPI_DOUBLE;
import static moelab.nativ.mpi_h.handles.MPI_FLOAT;
import static moelab.nativ.mpi_h.handles.MPI_INT;
import static moelab.nativ.mpi_h.handles.MPI_LONG;
import static moelab.nativ.mpi_h.handles.MPI_SUM;

/**
 * The ranks of MPI_COMM_WORLD through Open MPI (libmpi.so.40, bound by {@link mpi_h}). One per
 * process: {@link #start()} calls MPI_Init_thread, {@link #close()} MPI_Finalize. Heap arrays
 * are copied through a short-lived off-heap buffer (they are small: counts, scalars, routing
 * records); gradients come in an off-heap bucket already.
 */
public final class MpiCollective implements Collective {
    /** The largest count one MPI call takes (counts are C ints). */
    static final int MAX_COUNT = Integer.MAX_VALUE / 2;

    private final int rank, size;
    private boolean closed;

    private MpiCollective(int rank, int size) {
        this.rank = rank;
        this.size = size;
    }

    /** Initialises MPI (thread level serialized) and reads rank and size; a missing libmpi is an error that says how to install it. */
    public static MpiCollective start() {
        NativeLibrary.Loaded lib = NativeLibrary.mpi();
        if (!lib.ok()) throw new IllegalStateException("data-parallel run: " + lib.unavailableReason());
        try (Arena a = Arena.ofConfined()) {
            MemorySegment provided = a.allocate(ValueLayout.JAVA_INT);
            check(mpi_h.MPI_Init_thread(MemorySegment.NULL, MemorySegment.NULL, mpi_h.MPI_THREAD_SERIALIZED, provided), "MPI_Init_thread");
            if (provided.get(ValueLayout.JAVA_INT, 0) < mpi_h.MPI_THREAD_SERIALIZED)
                throw new IllegalStateException("data-parallel run: MPI gives thread level " + provided.get(ValueLayout.JAVA_INT, 0)
                        + ", the engine needs MPI_THREAD_SERIALIZED (" + mpi_h.MPI_THREAD_SERIALIZED + ")");
            MemorySegment r = a.allocate(ValueLayout.JAVA_INT), s = a.allocate(ValueLayout.JAVA_INT);
            check(mpi_h.MPI_Comm_rank(MPI_COMM_WORLD, r), "MPI_Comm_rank");
            check(mpi_h.MPI_Comm_size(MPI_COMM_WORLD, s), "MPI_Comm_size");
            return new MpiCollective(r.get(ValueLayout.JAVA_INT, 0), s.get(ValueLayout.JAVA_INT, 0));
        }
    }

    @Override public int rank() { return rank; }
    @Override public int size() { return size; }

    @Override
    public void sumInPlace(long[] v) {
        if (v.length == 0) return;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocateFrom(ValueLayout.JAVA_LONG, v);
            allreduce(buf, v.length, MPI_LONG, 8);
            MemorySegment.copy(buf, ValueLayout.JAVA_LONG, 0, v, 0, v.length);
        }
    }

    @Override
    public void sumInPlace(double[] v) {
        if (v.length == 0) return;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocateFrom(ValueLayout.JAVA_DOUBLE, v);
            allreduce(buf, v.length, MPI_DOUBLE, 8);
            MemorySegment.copy(buf, ValueLayout.JAVA_DOUBLE, 0, v, 0, v.length);
        }
    }

    @Override
    public void sumInPlace(MemorySegment buf, long count) {
        if (!buf.isNative()) throw new IllegalArgumentException("sumInPlace: the buffer must be off-heap");
        allreduce(buf, count, MPI_FLOAT, 4);
    }

    /** In-place allreduce (sum) of count values of elemBytes each, in chunks that fit a C int. */
    private void allreduce(MemorySegment buf, long count, MemorySegment type, int elemBytes) {
        for (long from = 0; from < count; from += MAX_COUNT) {
            int n = (int) Math.min(MAX_COUNT, count - from);
            check(mpi_h.MPI_Allreduce(mpi_h.MPI_IN_PLACE, buf.asSlice(from * elemBytes, (long) n * elemBytes), n, type, MPI_SUM, MPI_COMM_WORLD),
                    "MPI_Allreduce");
        }
    }

    @Override
    public int[] gather(int[] mine) {
        int[] out = new int[Math.multiplyExact(mine.length, size)];
        if (mine.length == 0) return out;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment send = a.allocateFrom(ValueLayout.JAVA_INT, mine), recv = a.allocate(ValueLayout.JAVA_INT, out.length);
            check(mpi_h.MPI_Allgather(send, mine.length, MPI_INT, recv, mine.length, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
            MemorySegment.copy(recv, ValueLayout.JAVA_INT, 0, out, 0, out.length);
        }
        return out;
    }

    @Override
    public float[] gather(float[] mine) {
        float[] out = new float[Math.multiplyExact(mine.length, size)];
        if (mine.length == 0) return out;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment send = a.allocateFrom(ValueLayout.JAVA_FLOAT, mine), recv = a.allocate(ValueLayout.JAVA_FLOAT, out.length);
            check(mpi_h.MPI_Allgather(send, mine.length, MPI_FLOAT, recv, mine.length, MPI_FLOAT, MPI_COMM_WORLD), "MPI_Allgather");
            MemorySegment.copy(recv, ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
        }
        return out;
    }

    @Override
    public long broadcast(long value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocateFrom(ValueLayout.JAVA_LONG, value);
            check(mpi_h.MPI_Bcast(buf, 1, MPI_LONG, 0, MPI_COMM_WORLD), "MPI_Bcast");
            return buf.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** Waits for every rank. */
    public void barrier() { check(mpi_h.MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

    /** Seconds on MPI's clock. */
    public static double wtime() { return mpi_h.MPI_Wtime(); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        check(mpi_h.MPI_Finalize(), "MPI_Finalize");
    }

    /** MPI's default error handler aborts the job on failure; a code that still comes back is reported. */
    private static void check(int rc, String call) {
        if (rc != mpi_h.MPI_SUCCESS) throw new IllegalStateException("data-parallel run: " + call + " failed with MPI error code " + rc);
    }

    @Override public String toString() { return "rank " + rank + " of " + size + " (MPI)"; }
}
