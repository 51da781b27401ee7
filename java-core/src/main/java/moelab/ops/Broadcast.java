package moelab.ops;

/** NumPy broadcasting as index maps: which element of an input each output element reads. */
final class Broadcast {
    private Broadcast() {}

    /**
     * For every element of a tensor of shape {@code out} (row-major), the row-major index of the
     * element of a tensor of shape {@code in} that it reads: shapes are right-aligned, missing
     * leading axes and size-1 axes repeat. {@code in} must broadcast to {@code out}.
     */
    static int[] indexMap(int[] out, int[] in) {
        int r = out.length, n = 1;
        for (int d : out) n *= d;
        int[] step = new int[r]; // in's row-major stride on each output axis, 0 where it repeats
        int acc = 1;
        for (int i = in.length - 1; i >= 0; i--) {
            step[i + r - in.length] = in[i] == 1 ? 0 : acc;
            acc *= in[i];
        }
        int[] map = new int[n];
        int[] idx = new int[r];
        int p = 0;
        for (int i = 0; i < n; i++) {
            map[i] = p;
            for (int ax = r - 1; ax >= 0; ax--) { // odometer: advance the last axis, carry leftwards
                p += step[ax];
                if (++idx[ax] < out[ax]) break;
                p -= step[ax] * out[ax];
                idx[ax] = 0;
            }
        }
        return map;
    }
}
