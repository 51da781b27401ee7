package moelab.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The scalar reference SGEMM on small cases computed by hand. */
class ScalarGemmTest {
    private final ScalarKernels k = new ScalarKernels();

    // A [2,3] = [[1,2,3],[4,5,6]], B [3,2] = [[7,8],[9,10],[11,12]]
    // A*B = [[1*7+2*9+3*11, 1*8+2*10+3*12], [4*7+5*9+6*11, 4*8+5*10+6*12]] = [[58,64],[139,154]]
    private static final float[] A = {1, 2, 3, 4, 5, 6};
    private static final float[] A_T = {1, 4, 2, 5, 3, 6};      // A stored transposed, [3,2]
    private static final float[] B = {7, 8, 9, 10, 11, 12};
    private static final float[] B_T = {7, 9, 11, 8, 10, 12};   // B stored transposed, [2,3]
    private static final float[] AB = {58, 64, 139, 154};

    @Test
    void plainProduct() {
        float[] c = new float[4];
        k.sgemm(false, false, 2, 2, 3, 1f, A, 0, 3, B, 0, 2, 0f, c, 0, 2);
        assertArrayEquals(AB, c);
    }

    @Test
    void allTransposeCombinationsGiveTheSameProduct() {
        float[] c = new float[4];
        k.sgemm(true, false, 2, 2, 3, 1f, A_T, 0, 2, B, 0, 2, 0f, c, 0, 2);
        assertArrayEquals(AB, c, "transA");
        c = new float[4];
        k.sgemm(false, true, 2, 2, 3, 1f, A, 0, 3, B_T, 0, 3, 0f, c, 0, 2);
        assertArrayEquals(AB, c, "transB");
        c = new float[4];
        k.sgemm(true, true, 2, 2, 3, 1f, A_T, 0, 2, B_T, 0, 3, 0f, c, 0, 2);
        assertArrayEquals(AB, c, "transA and transB");
    }

    @Test
    void productOfTheOtherOrder() {
        // B [3,2] * A [2,3] = [[7+32, 14+40, 21+48], [9+40, 18+50, 27+60], [11+48, 22+60, 33+72]]
        float[] c = new float[9];
        k.sgemm(false, false, 3, 3, 2, 1f, B, 0, 2, A, 0, 3, 0f, c, 0, 3);
        assertArrayEquals(new float[] {39, 54, 69, 49, 68, 87, 59, 82, 105}, c);
    }

    @Test
    void alphaAndBeta() {
        // C = 2 * A*B - 1 * C0, C0 = [[1,2],[3,4]]
        float[] c = {1, 2, 3, 4};
        k.sgemm(false, false, 2, 2, 3, 2f, A, 0, 3, B, 0, 2, -1f, c, 0, 2);
        assertArrayEquals(new float[] {115, 126, 275, 304}, c);
    }

    @Test
    void betaZeroIgnoresNaN() {
        float[] c = {Float.NaN, Float.NaN, Float.POSITIVE_INFINITY, Float.NaN};
        k.sgemm(false, false, 2, 2, 3, 1f, A, 0, 3, B, 0, 2, 0f, c, 0, 2);
        assertArrayEquals(AB, c);
    }

    @Test
    void offsetsAndLeadingDimensions() {
        // A at offset 2 with lda 4, B at offset 1 with ldb 3, C at offset 3 with ldc 5; 9 marks padding
        float[] a = {9, 9, 1, 2, 3, 9, 4, 5, 6};
        float[] b = {9, 7, 8, 9, 9, 10, 9, 11, 12};
        float[] c = {9, 9, 9, 0, 0, 9, 9, 9, 0, 0};
        k.sgemm(false, false, 2, 2, 3, 1f, a, 2, 4, b, 1, 3, 0f, c, 3, 5);
        assertArrayEquals(new float[] {9, 9, 9, 58, 64, 9, 9, 9, 139, 154}, c);
    }

    @Test
    void outerProductAndDot() {
        // [3,1] * [1,2]: x = [1,2,3], y = [4,5]
        float[] c = new float[6];
        k.sgemm(false, false, 3, 2, 1, 1f, new float[] {1, 2, 3}, 0, 1, new float[] {4, 5}, 0, 2, 0f, c, 0, 2);
        assertArrayEquals(new float[] {4, 5, 8, 10, 12, 15}, c);
        // [1,3] * [3,1]: dot([1,2,3], [4,5,6]) = 32, accumulated onto C = 1 with beta 1
        float[] d = {1};
        k.sgemm(false, false, 1, 1, 3, 1f, new float[] {1, 2, 3}, 0, 3, new float[] {4, 5, 6}, 0, 1, 1f, d, 0, 1);
        assertArrayEquals(new float[] {33}, d);
    }

    @Test
    void zeroSizes() {
        float[] c = {1, 2, 3, 4};
        k.sgemm(false, false, 0, 2, 3, 1f, A, 0, 3, B, 0, 2, 0f, c, 0, 2);
        k.sgemm(false, false, 2, 0, 3, 1f, A, 0, 3, B, 0, 2, 0f, c, 0, 2);
        assertArrayEquals(new float[] {1, 2, 3, 4}, c, "m=0 or n=0 leaves C alone");
        k.sgemm(false, false, 2, 2, 0, 1f, A, 0, 0, B, 0, 2, 3f, c, 0, 2);
        assertArrayEquals(new float[] {3, 6, 9, 12}, c, "k=0 scales C by beta");
    }
}
