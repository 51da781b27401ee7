package moelab.nn;

/**
 * The packed activations of one MoE layer's experts, X [S,d], A, B, H [S,f], Y and dY [S,d],
 * kept from step to step so that training does not allocate S*(3f + 3d) floats per layer and
 * step (S, the kept routes, changes a little each step: the arrays grow with headroom and are
 * used up to S). A forward leases them and its backward gives them back; a forward whose output
 * needs no gradient gives them back at once. A forward that finds them leased (two forwards before
 * one backward) gets fresh arrays, so two live results never share memory, and a result that
 * reads its lease after a later forward took the arrays over fails loudly instead of reading
 * another step's values.
 */
final class ExpertBuffers {
    private float[] xp = new float[0], a = new float[0], b = new float[0], h = new float[0], y = new float[0], dy = new float[0];
    private long epoch;
    private boolean leased;

    /** The arrays one forward uses, valid while {@link #valid()}. */
    static final class Lease {
        final float[] xp, a, b, h, y, dy;
        private final ExpertBuffers owner;
        private final long epoch;

        private Lease(ExpertBuffers owner, long epoch, float[] xp, float[] a, float[] b, float[] h, float[] y, float[] dy) {
            this.owner = owner; this.epoch = epoch;
            this.xp = xp; this.a = a; this.b = b; this.h = h; this.y = y; this.dy = dy;
        }

        /** False once a later forward took the pooled arrays over. */
        boolean valid() { return owner == null || owner.epoch == epoch; }

        /** Hands the pooled arrays back (the values stay until the next lease). */
        void release() { if (owner != null && owner.epoch == epoch) owner.leased = false; }
    }

    /** Arrays for s rows; pooled when free (buffers may be null: always fresh). */
    static Lease lease(ExpertBuffers buffers, int s, int d, int f) {
        if (buffers == null || buffers.leased)
            return new Lease(null, 0, new float[s * d], new float[s * f], new float[s * f], new float[s * f], new float[s * d], new float[s * d]);
        return buffers.take(s, d, f);
    }

    private Lease take(int s, int d, int f) {
        int nd = s * d, nf = s * f;
        if (xp.length < nd) { int cap = nd + nd / 8; xp = new float[cap]; y = new float[cap]; dy = new float[cap]; }
        if (a.length < nf) { int cap = nf + nf / 8; a = new float[cap]; b = new float[cap]; h = new float[cap]; }
        leased = true;
        return new Lease(this, ++epoch, xp, a, b, h, y, dy);
    }
}
