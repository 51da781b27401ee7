package moelab.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shape all SIMD kernels use, and the two lane operations whose results we pin down
 * ourselves: a horizontal sum and exp.
 *
 * <p>Why not reduceLanes(ADD) and lanewise(EXP)? Both are allowed to differ between the
 * interpreter, C1 and C2: EXP is a native vector routine once C2 compiles the loop but a
 * per-lane Math.exp before that, and they differ by an ulp or two. A kernel would then give other
 * bits for the same input depending on JIT timing, breaking the back end's promise of
 * deterministic results. The versions here use only IEEE add/mul/fma and bit moves, which every
 * tier computes identically.
 */
final class Vec {
    private Vec() {}

    /** The widest float vector the CPU has (8 lanes on AVX2, 16 on AVX-512). */
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    /** Sum of the lanes, added lane 0 first. */
    static float hsum(FloatVector v) {
        float s = v.lane(0);
        for (int i = 1; i < L; i++) s += v.lane(i);
        return s;
    }

    private static final float LOG2E = (float) (1 / Math.log(2));
    /** ln 2 = LN2_HI + LN2_LO; LN2_HI has 9 significant bits, so n * LN2_HI is exact for |n| < 2^15. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = (float) (Math.log(2) - 0.693359375);
    /** Adding 1.5 * 2^23 rounds a float below 2^22 to an integer, which lands in the low mantissa bits. */
    private static final float MAGIC = 12582912f;
    private static final int MAGIC_BITS = Float.floatToRawIntBits(MAGIC);

    /**
     * exp(x) per lane, within about 2 ulp: x = n ln2 + r with |r| <= ln2/2, exp(r) by its Taylor
     * series to r^7 (the next term is below 2^-27 relative), times 2^n built in the exponent bits.
     * 2^n is applied as two factors 2^(n/2) and 2^(n - n/2) so that results near the overflow
     * limit and in the subnormal range round correctly. x is clamped to [-104, 89] first: beyond
     * that exp is 0 or +inf in float anyway. NaN gives NaN.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(-104f).min(89f);
        FloatVector big = xc.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, MAGIC));
        FloatVector n = big.sub(MAGIC);
        IntVector ni = big.reinterpretAsInts().sub(MAGIC_BITS);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, 1f / 5040);
        p = p.fma(r, FloatVector.broadcast(S, 1f / 720));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(S, 0.5f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2).blend(x, x.test(VectorOperators.IS_NAN));
    }
}
