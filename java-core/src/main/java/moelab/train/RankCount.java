package moelab.train;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The rank count of a data-parallel run, kept in front of the data position of its checkpoints
 * so that a resume with another number of ranks is refused: "MLDP" | u32 ranks | data state. A
 * one-process checkpoint keeps the plain data state (checkpoints of older builds read as 1 rank).
 */
final class RankCount {
    private RankCount() {}

    private static final int MAGIC = 0x4D4C4450; // "MLDP"

    static byte[] wrap(byte[] dataState, int ranks) {
        if (ranks <= 1) return dataState;
        return ByteBuffer.allocate(8 + dataState.length).putInt(MAGIC).putInt(ranks).put(dataState).array();
    }

    /** The rank count a checkpoint's data state was written with. */
    static int of(byte[] state) {
        if (state == null || state.length < 8) return 1;
        ByteBuffer b = ByteBuffer.wrap(state);
        return b.getInt() == MAGIC ? b.getInt() : 1;
    }

    /** The data state without the rank count. */
    static byte[] unwrap(byte[] state) {
        boolean wrapped = state != null && state.length >= 8 && ByteBuffer.wrap(state).getInt() == MAGIC;
        return wrapped ? Arrays.copyOfRange(state, 8, state.length) : state;
    }
}
