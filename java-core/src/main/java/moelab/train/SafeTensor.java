package moelab.train;

import moelab.tensor.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One tensor of a safetensors file: its element type, shape and little-endian bytes. Reading
 * keeps a view of the file's bytes; values are converted only when asked for.
 *
 * @param bytes numel * dtype.size bytes, little-endian, row-major (a read-only view)
 */
public record SafeTensor(SafeDType dtype, int[] shape, ByteBuffer bytes) {
    public SafeTensor {
        bytes = bytes.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        if ((long) numel(shape) * dtype.size != bytes.remaining())
            throw new IllegalArgumentException("SafeTensor: " + bytes.remaining() + " bytes do not hold " + dtype + " shape " + Shape.str(shape));
    }

    /** Floats stored as dtype (F32, F16, BF16 or F64). */
    public static SafeTensor ofFloats(int[] shape, float[] values, SafeDType dtype) {
        if (!dtype.isFloat) throw new IllegalArgumentException("SafeTensor.ofFloats: " + dtype + " is not a float type");
        ByteBuffer b = allocate(values.length, dtype);
        for (int i = 0; i < values.length; i++) dtype.putFloat(b, i, values[i]);
        return new SafeTensor(dtype, shape, b);
    }

    /** Integers stored as dtype (I64, I32, U8 or BOOL). */
    public static SafeTensor ofLongs(int[] shape, long[] values, SafeDType dtype) {
        if (dtype.isFloat) throw new IllegalArgumentException("SafeTensor.ofLongs: " + dtype + " is not an integer type");
        ByteBuffer b = allocate(values.length, dtype);
        for (int i = 0; i < values.length; i++) dtype.putLong(b, i, values[i]);
        return new SafeTensor(dtype, shape, b);
    }

    private static ByteBuffer allocate(int n, SafeDType dtype) {
        return ByteBuffer.allocate(Math.multiplyExact(n, dtype.size)).order(ByteOrder.LITTLE_ENDIAN);
    }

    public int numel() { return numel(shape); }

    /** The values as float32 (F16 and BF16 widen exactly, F64 is rounded); only for float types. */
    public float[] data() {
        if (!dtype.isFloat) throw new IllegalStateException("SafeTensor: " + dtype + " values are integers; read them with longs()");
        float[] out = new float[numel()];
        for (int i = 0; i < out.length; i++) out[i] = dtype.floatAt(bytes, i);
        return out;
    }

    /** The values as longs; only for integer types and BOOL. */
    public long[] longs() {
        if (dtype.isFloat) throw new IllegalStateException("SafeTensor: " + dtype + " values are floats; read them with data()");
        long[] out = new long[numel()];
        for (int i = 0; i < out.length; i++) out[i] = dtype.longAt(bytes, i);
        return out;
    }

    /** How many values are NaN or infinite as float32 (0 for integer types). */
    public int nonFinite() {
        if (!dtype.isFloat) return 0;
        int n = 0, count = numel();
        for (int i = 0; i < count; i++) if (!Float.isFinite(dtype.floatAt(bytes, i))) n++;
        return n;
    }

    // A zero dimension empties the tensor whatever the others are; callers check the range first.
    private static int numel(int[] shape) {
        long n = 1;
        for (int d : shape) if (d == 0) return 0;
        for (int d : shape) n = Math.multiplyExact(n, d);
        return Math.toIntExact(n);
    }
}
