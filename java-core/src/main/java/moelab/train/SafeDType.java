package moelab.train;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The safetensors element types this project reads, with their size in bytes and how one
 * little-endian element becomes a float (float types) or a long (integer types and BOOL).
 */
public enum SafeDType {
    F16(2, true), BF16(2, true), F32(4, true), F64(8, true),
    I64(8, false), I32(4, false), U8(1, false), BOOL(1, false);

    /** Bytes per element. */
    public final int size;
    /** Floating point (usable as parameter values), as opposed to integers and BOOL. */
    public final boolean isFloat;

    SafeDType(int size, boolean isFloat) {
        this.size = size;
        this.isFloat = isFloat;
    }

    /** The type of a header's dtype string, or null when this project does not read it. */
    public static SafeDType byName(String name) {
        for (SafeDType t : values()) if (t.name().equals(name)) return t;
        return null;
    }

    /** The names, for error messages. */
    public static String names() { return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")); }

    /** Element i of a float type as float32 (F64 is rounded; beyond float range it becomes infinite). */
    float floatAt(ByteBuffer b, int i) {
        return switch (this) {
            case F16 -> Float.float16ToFloat(b.getShort(2 * i));
            case BF16 -> Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
            case F32 -> b.getFloat(4 * i);
            case F64 -> (float) b.getDouble(8 * i);
            default -> throw new IllegalStateException(this + " is not a float type");
        };
    }

    /** Element i of an integer type (U8 unsigned, BOOL 0 or 1 as stored). */
    long longAt(ByteBuffer b, int i) {
        return switch (this) {
            case I64 -> b.getLong(8 * i);
            case I32 -> b.getInt(4 * i);
            case U8, BOOL -> b.get(i) & 0xff;
            default -> throw new IllegalStateException(this + " is not an integer type");
        };
    }

    /** Writes v as element i of a float type. */
    void putFloat(ByteBuffer b, int i, float v) {
        switch (this) {
            case F16 -> b.putShort(2 * i, Float.floatToFloat16(v));
            case BF16 -> b.putShort(2 * i, toBf16(v));
            case F32 -> b.putFloat(4 * i, v);
            case F64 -> b.putDouble(8 * i, v);
            default -> throw new IllegalStateException(this + " is not a float type");
        }
    }

    /** Writes v as element i of an integer type. */
    void putLong(ByteBuffer b, int i, long v) {
        switch (this) {
            case I64 -> b.putLong(8 * i, v);
            case I32 -> b.putInt(4 * i, Math.toIntExact(v));
            case U8, BOOL -> b.put(i, (byte) v);
            default -> throw new IllegalStateException(this + " is not an integer type");
        }
    }

    /** bfloat16 = the top 16 bits of a float32, rounded to nearest even; NaN stays NaN (quiet). */
    static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x0040);
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }
}
