package moelab.simd;

import jdk.incubator.vector.VectorShape;

/**
 * The vector width every SIMD kernel of this JVM uses, chosen once at class load: the widest the
 * CPU has (512 bits with AVX-512, 256 with AVX2), or the width forced by the system property
 * {@code moelab.vectorBits} (or the environment variable {@code MOELAB_VECTOR_BITS}) so widths can
 * be compared in one binary. Allowed values: {@code auto}, {@code 256}, {@code 512}; a width wider
 * than the CPU's is refused (the Vector API would emulate it, many times slower).
 *
 * <p>The choice is a static final constant on purpose: C2 folds every branch on it, so a kernel
 * written for both widths costs nothing for the width it does not use.
 */
public final class VectorWidth {
    private VectorWidth() {}

    public static final String PROPERTY = "moelab.vectorBits";
    public static final String ENV = "MOELAB_VECTOR_BITS";

    /** The widest float vector the CPU and the JVM support, in bits. */
    public static final int CPU_BITS = VectorShape.preferredShape().vectorBitSize();

    /** The width in force, in bits (256 or 512); 256 when the setting was refused (see {@link #ERROR}). */
    public static final int BITS;
    /** Why that width: "widest the CPU has" or "forced by ...". */
    public static final String REASON;
    /** The one-line reason a forced width was refused, or null. The simd back end is then unavailable. */
    public static final String ERROR;

    static {
        String forced = System.getProperty(PROPERTY, System.getenv(ENV));
        String source = System.getProperty(PROPERTY) != null ? PROPERTY : ENV;
        int bits = 256;
        String error = null;
        try {
            bits = resolve(forced, source, CPU_BITS);
        } catch (IllegalArgumentException e) {
            error = e.getMessage();
        }
        BITS = bits;
        ERROR = error;
        REASON = forced == null || forced.isBlank() || forced.trim().equals("auto")
                ? "the widest this CPU has (" + PROPERTY + "=auto)"
                : "forced by " + source + "=" + forced.trim() + " (this CPU's widest: " + CPU_BITS + ")";
    }

    /**
     * The width for a requested value ({@code null}, blank or "auto": the CPU's widest, at least
     * 256). Throws IllegalArgumentException naming the setting, the value and the allowed values.
     */
    static int resolve(String requested, String source, int cpuBits) {
        if (requested == null || requested.isBlank() || requested.trim().equals("auto"))
            return cpuBits >= 512 ? 512 : 256;
        String v = requested.trim();
        int bits;
        try {
            bits = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            bits = -1;
        }
        if (bits != 256 && bits != 512)
            throw new IllegalArgumentException(source + "=" + v + " is not a vector width; allowed: auto, 256, 512");
        if (bits > Math.max(cpuBits, 256))
            throw new IllegalArgumentException(source + "=" + v + ": this CPU's widest vectors are " + cpuBits
                    + " bits; allowed here: auto, 256" + (cpuBits >= 512 ? ", 512" : ""));
        return bits;
    }

    /** Human-readable summary for {@code moe backends}. */
    public static String describe() {
        return "Vector API " + BITS + "-bit (" + BITS / Float.SIZE + " floats per vector), " + REASON;
    }
}
