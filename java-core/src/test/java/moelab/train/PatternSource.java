package moelab.train;

import moelab.data.Batch;
import moelab.data.BatchSource;

import java.nio.ByteBuffer;

/**
 * A tiny synthetic language for trainer tests. Each sequence follows one of three rules over a
 * vocabulary of V tokens, chosen at random, from a random start s:
 * domain 0 "step1": s, s+1, s+2, ...; domain 1 "step3": s, s+3, s+6, ...; domain 2 "cycle4":
 * s, s+1, s+2, s+3, s, s+1, ... (all mod V). After two tokens the rest is determined, so a
 * model can push the loss far below ln V. State: a splitmix64 counter and the batch count.
 */
final class PatternSource implements BatchSource {
    static final String[] DOMAINS = {"step1", "step3", "cycle4"};
    private final int vocab, batch, seqLen;
    private long rng;
    private long batches;

    PatternSource(long seed, int vocab, int batch, int seqLen) {
        this.vocab = vocab; this.batch = batch; this.seqLen = seqLen;
        this.rng = seed;
    }

    static int token(int domain, int start, int pos, int vocab) {
        int v = switch (domain) {
            case 0 -> start + pos;
            case 1 -> start + 3 * pos;
            default -> start + pos % 4;
        };
        return v % vocab;
    }

    @Override
    public Batch next() {
        int n = batch * seqLen;
        int[] in = new int[n], tg = new int[n], dom = new int[n];
        for (int b = 0; b < batch; b++) {
            int d = (int) Long.remainderUnsigned(nextLong(), 3);
            int s = (int) Long.remainderUnsigned(nextLong(), vocab);
            for (int p = 0; p < seqLen; p++) {
                in[b * seqLen + p] = token(d, s, p, vocab);
                tg[b * seqLen + p] = token(d, s, p + 1, vocab);
                dom[b * seqLen + p] = d;
            }
        }
        batches++;
        return new Batch(in, tg, batch, seqLen, dom);
    }

    long batchesServed() { return batches; }

    private long nextLong() { // splitmix64
        long z = (rng += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override public byte[] saveState() { return ByteBuffer.allocate(16).putLong(rng).putLong(batches).array(); }

    @Override
    public void restoreState(byte[] state) {
        if (state.length != 16) throw new IllegalArgumentException("PatternSource: state must be 16 bytes, got " + state.length);
        ByteBuffer bb = ByteBuffer.wrap(state);
        rng = bb.getLong();
        batches = bb.getLong();
    }
}
