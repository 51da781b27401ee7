package moelab.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ConcatBatchesTest {
    /** Batch i: 2 sequences of length 3, tokens 100*i + position, domain i. */
    private static final class Counting implements BatchSource {
        int i;
        @Override public Batch next() {
            int[] in = new int[6], tg = new int[6], dom = new int[6];
            for (int j = 0; j < 6; j++) { in[j] = 100 * i + j; tg[j] = 100 * i + j + 1; dom[j] = i; }
            i++;
            return new Batch(in, tg, 2, 3, dom);
        }
        @Override public byte[] saveState() { return new byte[]{(byte) i}; }
        @Override public void restoreState(byte[] s) { i = s[0]; }
    }

    @Test
    void joinsConsecutiveBatchesInOrder() {
        ConcatBatches c = new ConcatBatches(new Counting(), 3);
        Batch b = c.next();
        assertEquals(6, b.batch());
        assertEquals(3, b.seqLen());
        for (int p = 0; p < 3; p++)
            for (int j = 0; j < 6; j++) {
                assertEquals(100 * p + j, b.inputs()[p * 6 + j]);
                assertEquals(100 * p + j + 1, b.targets()[p * 6 + j]);
                assertEquals(p, b.domains()[p * 6 + j]);
            }
        assertEquals(300, c.next().inputs()[0], "the second joined batch starts with inner batch 3");
    }

    @Test
    void stateIsTheInnerPosition() {
        ConcatBatches c = new ConcatBatches(new Counting(), 2);
        c.next();
        byte[] s = c.saveState();
        int next = c.next().inputs()[0];
        c.restoreState(s);
        assertEquals(next, c.next().inputs()[0]);
        assertThrows(IllegalArgumentException.class, () -> new ConcatBatches(new Counting(), 0));
    }
}
