package moelab.cuda;

import static jcuda.driver.JCudaDriver.*;

import java.util.Arrays;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * Device memory with a shape: float32 (or int32 for index arrays), row-major, contiguous. Data
 * moves only through the explicit {@link #upload}/{@link #download} calls; kernels chain on
 * DeviceTensors without host round trips. Close to free the memory.
 */
public final class DeviceTensor implements AutoCloseable {
    private final CudaContext ctx;
    private final CUdeviceptr ptr = new CUdeviceptr();
    private final int[] shape;
    private final long numel;
    private boolean freed;

    private DeviceTensor(CudaContext ctx, String what, int... shape) {
        this.ctx = ctx;
        this.shape = shape.clone();
        long n = 1;
        for (int s : shape) {
            if (s < 0) throw new IllegalArgumentException(what + ": negative dimension in " + Arrays.toString(shape));
            n *= s;
        }
        numel = n;
        long bytes = Math.max(4, 4 * n); // cuMemAlloc(0) is an error: empty tensors hold one word
        ctx.makeCurrent();
        CudaError.check(cuMemAlloc(ptr, bytes), "allocating " + bytes + " bytes for " + what + " " + Arrays.toString(shape)
                + " on " + ctx.describe());
        CudaError.check(cuMemsetD32(ptr, 0, bytes / 4), "zeroing " + what);
    }

    /** A zero-filled tensor of {@code shape} (4-byte elements: float or int). */
    public static DeviceTensor zeros(CudaContext ctx, String name, int... shape) { return new DeviceTensor(ctx, name, shape); }

    /** A new tensor holding data[off, off + numel). */
    public static DeviceTensor of(CudaContext ctx, String name, float[] data, int off, int... shape) {
        DeviceTensor t = new DeviceTensor(ctx, name, shape);
        t.upload(data, off);
        return t;
    }

    /** An int32 tensor holding data (routes, offsets). */
    public static DeviceTensor ofInts(CudaContext ctx, String name, int[] data) {
        DeviceTensor t = new DeviceTensor(ctx, name, data.length);
        if (data.length > 0) {
            ctx.makeCurrent();
            CudaError.check(cuMemcpyHtoD(t.ptr, Pointer.to(data), 4L * data.length), "uploading " + data.length + " ints to " + name);
        }
        return t;
    }

    public int[] shape() { return shape.clone(); }
    public int dim(int i) { return shape[i]; }
    public long numel() { return numel; }
    CUdeviceptr ptr() {
        if (freed) throw new IllegalStateException("device tensor " + Arrays.toString(shape) + " was closed");
        return ptr;
    }

    /** Copies src[off, off + numel) to the device. */
    public void upload(float[] src, int off) {
        if (off < 0 || off + numel > src.length)
            throw new IllegalArgumentException("upload: need " + numel + " floats from offset " + off + " for "
                    + Arrays.toString(shape) + ", array has " + src.length);
        if (numel == 0) return;
        ctx.makeCurrent();
        CudaError.check(cuMemcpyHtoD(ptr(), Pointer.to(src).withByteOffset(4L * off), 4 * numel),
                "uploading " + Arrays.toString(shape));
    }

    /** Copies the tensor into dst[off, off + numel) (waits for the kernels that write it). */
    public void download(float[] dst, int off) {
        if (off < 0 || off + numel > dst.length)
            throw new IllegalArgumentException("download: need room for " + numel + " floats at offset " + off + " for "
                    + Arrays.toString(shape) + ", array has " + dst.length);
        if (numel == 0) return;
        ctx.makeCurrent();
        CudaError.check(cuMemcpyDtoH(Pointer.to(dst).withByteOffset(4L * off), ptr(), 4 * numel),
                "downloading " + Arrays.toString(shape) + " (an earlier kernel may have failed)");
    }

    public float[] download() {
        float[] a = new float[Math.toIntExact(numel)];
        download(a, 0);
        return a;
    }

    public int[] downloadInts() {
        int[] a = new int[Math.toIntExact(numel)];
        if (numel == 0) return a;
        ctx.makeCurrent();
        CudaError.check(cuMemcpyDtoH(Pointer.to(a), ptr(), 4 * numel), "downloading ints " + Arrays.toString(shape));
        return a;
    }

    /** Sets every element to 0. */
    public void zero() {
        ctx.makeCurrent();
        CudaError.check(cuMemsetD32(ptr(), 0, Math.max(1, numel)), "zeroing " + Arrays.toString(shape));
    }

    @Override
    public void close() {
        if (freed) return;
        freed = true;
        ctx.makeCurrent();
        CudaError.check(cuMemFree(ptr), "freeing " + Arrays.toString(shape));
    }
}
