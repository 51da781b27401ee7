package moelab.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
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

    /** The vector width in force (see {@link VectorWidth}): 8 lanes at 256 bits, 16 at 512. */
    static final VectorSpecies<Float> S = VectorWidth.BITS == 512 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    static final int L = S.length();
    /** Int lanes of the same vector size, for exp's exponent bits. */
    static final VectorSpecies<Integer> SI = VectorWidth.BITS == 512 ? IntVector.SPECIES_512 : IntVector.SPECIES_256;

    /** Lane i takes lane i ^ 1, i ^ 2, i ^ 4, i ^ 8: partners in a pairwise sum. */
    private static final VectorShuffle<Float> SWAP1 = VectorShuffle.fromOp(S, i -> i ^ 1);
    private static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromOp(S, i -> L >= 4 ? i ^ 2 : i);
    private static final VectorShuffle<Float> SWAP4 = VectorShuffle.fromOp(S, i -> L >= 8 ? i ^ 4 : i);
    private static final VectorShuffle<Float> SWAP8 = VectorShuffle.fromOp(S, i -> L >= 16 ? i ^ 8 : i);

    /** Sum of the lanes as a fixed pairwise tree (L = 2..16; the branches on L fold away). */
    static float hsum(FloatVector v) {
        if (L >= 16) v = v.add(v.rearrange(SWAP8));
        if (L >= 8) v = v.add(v.rearrange(SWAP4));
        if (L >= 4) v = v.add(v.rearrange(SWAP2));
        return v.add(v.rearrange(SWAP1)).lane(0);
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
     * x is clamped to [-104, 89] first: beyond that exp is 0 or +inf in float anyway. NaN gives NaN
     * (it survives the clamp and the arithmetic).
     *
     * <p>Split in three small methods on purpose: C2 inlines a method of at most 325 bytecodes,
     * and a vector that crosses a call that is not inlined is boxed on the heap (10x slower).
     */
    static FloatVector exp(FloatVector x) {
        // clamp with compare + blend: max/min with Java's NaN and -0.0 rules cost more
        FloatVector lo = FloatVector.broadcast(S, -104f), hi = FloatVector.broadcast(S, 89f);
        FloatVector xc = x.blend(lo, x.compare(VectorOperators.LT, lo)).blend(hi, x.compare(VectorOperators.GT, hi));
        // n = round(x / ln2), in the low mantissa bits of big
        FloatVector big = xc.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, MAGIC));
        FloatVector n = big.sub(MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        return pow2(expTaylor(r), big);
    }

    // exp(r) for |r| <= ln2/2: 1 + r + r^2/2 + ... + r^7/7!
    private static FloatVector expTaylor(FloatVector r) {
        FloatVector p = FloatVector.broadcast(S, 1f / 5040);
        p = p.fma(r, FloatVector.broadcast(S, 1f / 720));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(S, 0.5f));
        FloatVector one = FloatVector.broadcast(S, 1f);
        return p.fma(r, one).fma(r, one);
    }

    /**
     * p * 2^n, n read from big's low bits. 2^n is applied as two factors 2^(n/2) and 2^(n - n/2),
     * each a normal float for n in [-150, 129], so that results near the overflow limit and in
     * the subnormal range round correctly. reinterpretShape with a constant species: the
     * reinterpretAsInts() shortcut looks the species up at run time and is not compiled to a move.
     */
    private static FloatVector pow2(FloatVector p, FloatVector big) {
        IntVector n = ((IntVector) big.reinterpretShape(SI, 0)).sub(MAGIC_BITS);
        IntVector half = n.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = (FloatVector) half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretShape(S, 0);
        FloatVector s2 = (FloatVector) n.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretShape(S, 0);
        return p.mul(s1).mul(s2);
    }
}
