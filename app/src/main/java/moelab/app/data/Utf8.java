package moelab.app.data;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** UTF-8 helpers: sizes without encoding, strict decoding. */
public final class Utf8 {
    private Utf8() {}

    /** Number of UTF-8 bytes of {@code s} (unpaired surrogates count as the 3-byte replacement). */
    public static int bytes(CharSequence s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n += 1;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) { n += 4; i++; }
            else n += 3;
        }
        return n;
    }

    /** Decodes strictly: malformed input is an error naming {@code what}. */
    public static String decode(byte[] b, String what) throws CharacterCodingException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            CharacterCodingException ce = new CharacterCodingException() {
                @Override public String getMessage() { return what + " is not valid UTF-8"; }
            };
            ce.initCause(e);
            throw ce;
        }
    }

    /** Decodes, replacing malformed sequences (which the cleaner then removes). */
    public static String decodeLenient(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
