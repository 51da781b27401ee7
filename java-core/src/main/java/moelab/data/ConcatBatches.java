package moelab.data;

/**
 * Joins {@code parts} consecutive batches of an inner source into one batch of parts*b sequences.
 * The testbed uses it to emulate micro-batches inside one forward pass: with a domain-homogeneous
 * inner source of group_sequences sequences, a step's batch is several single-domain groups, so
 * micro-batch scope (one group) and global scope (the whole pass) see different domain mixes.
 * The position is the inner source's (whole batches are always consumed together).
 */
public final class ConcatBatches implements BatchSource {
    private final BatchSource inner;
    private final int parts;

    public ConcatBatches(BatchSource inner, int parts) {
        if (parts < 1) throw new IllegalArgumentException("ConcatBatches: parts must be >= 1, got " + parts);
        this.inner = inner;
        this.parts = parts;
    }

    // parts x Batch [b, S] -> Batch [parts*b, S]
    @Override
    public Batch next() {
        Batch first = inner.next();
        if (parts == 1) return first;
        int n = first.batch() * first.seqLen();
        int[] in = new int[parts * n], tg = new int[parts * n];
        int[] dom = first.domains() == null ? null : new int[parts * n];
        Batch b = first;
        for (int p = 0; p < parts; p++) {
            if (p > 0) b = inner.next();
            if (b.batch() != first.batch() || b.seqLen() != first.seqLen())
                throw new IllegalStateException("ConcatBatches: inner batch " + p + " is " + b.batch() + "x" + b.seqLen()
                        + ", the first was " + first.batch() + "x" + first.seqLen());
            System.arraycopy(b.inputs(), 0, in, p * n, n);
            System.arraycopy(b.targets(), 0, tg, p * n, n);
            if (dom != null) System.arraycopy(b.domains(), 0, dom, p * n, n);
        }
        return new Batch(in, tg, parts * first.batch(), first.seqLen(), dom);
    }

    @Override public byte[] saveState() { return inner.saveState(); }

    @Override public void restoreState(byte[] state) { inner.restoreState(state); }
}
