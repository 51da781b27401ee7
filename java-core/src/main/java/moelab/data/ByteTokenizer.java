package moelab.data;

import java.nio.charset.StandardCharsets;

/**
 * The default tokenizer: one token per UTF-8 byte, vocabulary 256, nothing to train or save.
 *
 * <p>Byte 0xFF never occurs in UTF-8, so id {@link #DOC_SEPARATOR} (255) never comes out of
 * {@link #encode(String)}; the data pipeline uses it to mark document boundaries. The same holds
 * for {@link BpeTokenizer}, whose ids 0..255 are these bytes and whose merges are learned from
 * text, so 255 is never merged.
 */
public final class ByteTokenizer implements Tokenizer {
    /** Token id of the document boundary: the byte 0xFF, which no UTF-8 text contains. */
    public static final int DOC_SEPARATOR = 0xFF;

    @Override public String name() { return "byte"; }

    @Override public int vocabSize() { return 256; }

    @Override public int[] encode(String text) { return encodeBytes(text.getBytes(StandardCharsets.UTF_8)); }

    /** Any byte sequence, valid UTF-8 or not, one id per byte. */
    public int[] encodeBytes(byte[] bytes) {
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xFF;
        return ids;
    }

    /**
     * Decodes to text. Tolerant: an incomplete or invalid multi-byte sequence (for example a
     * generated sequence cut in the middle of a character) becomes U+FFFD instead of an error.
     */
    @Override public String decode(int[] ids) { return new String(decodeBytes(ids), StandardCharsets.UTF_8); }

    /** The exact bytes; encodeBytes(decodeBytes(ids)) == ids for every valid id array. */
    public byte[] decodeBytes(int[] ids) {
        byte[] out = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0 || id > 255)
                throw new IllegalArgumentException("ByteTokenizer.decode: id " + id + " at position " + i + " is outside [0, 256)");
            out[i] = (byte) id;
        }
        return out;
    }

    @Override public String toString() { return "ByteTokenizer(vocab 256)"; }
}
