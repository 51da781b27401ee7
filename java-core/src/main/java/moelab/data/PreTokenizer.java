package moelab.data;

/**
 * Splits bytes into chunks that BPE merges never cross (GPT-2 style, simplified). Works on raw
 * bytes, so any byte sequence is covered exactly, valid UTF-8 or not. Rules, scanning left to right:
 * <ul>
 *   <li>a run of letters (with combining marks) of one script, e.g. "hello", "Привет", "ひらがな";
 *       Han, Hiragana and Katakana are different scripts, so Japanese splits at script changes;</li>
 *   <li>a run of at most 3 digits;</li>
 *   <li>a run of other characters (punctuation, symbols);</li>
 *   <li>each of the three above may start with one ASCII space (" world");</li>
 *   <li>a run of whitespace; when it ends in an ASCII space followed by a letter, digit or
 *       symbol, that last space goes to the next chunk instead;</li>
 *   <li>a byte that is not part of a valid UTF-8 character is a chunk of its own;</li>
 *   <li>no chunk is longer than {@link #MAX_CHUNK_BYTES}; a longer run is cut at a character
 *       boundary (this bounds the cost of encoding long unspaced CJK text).</li>
 * </ul>
 * Changing these rules changes every trained vocabulary; the saved file names the version
 * ({@link #VERSION}) and loading checks it.
 */
final class PreTokenizer {
    private PreTokenizer() {}

    static final String VERSION = "simple-v1";
    static final int MAX_CHUNK_BYTES = 64;

    static final int SPACE = 0, LETTER = 1, DIGIT = 2, OTHER = 3, INVALID = 4;

    /** Appends the end offset of every chunk of b[from, to) to ends (chunks are contiguous). */
    static void split(byte[] b, int from, int to, IntList ends) {
        int i = from;
        while (i < to) {
            int start = i;
            long cur = decode(b, i, to);
            int cls = cls(cur);
            if (b[i] == ' ' && i + 1 < to) {
                long next = decode(b, i + 1, to);
                int nc = cls(next);
                if (nc == LETTER || nc == DIGIT || nc == OTHER) {
                    i = body(b, i + 1, to, start, next, nc);
                    ends.add(i);
                    continue;
                }
            }
            if (cls == SPACE) {
                int j = i, last = i;
                while (j < to) {
                    long c = decode(b, j, to);
                    if (cls(c) != SPACE || j + len(c) - start > MAX_CHUNK_BYTES) break;
                    last = j;
                    j += len(c);
                }
                // "  world": keep the last space for the word when the run has more than it
                if (j < to && last > start && b[last] == ' ') {
                    int nc = cls(decode(b, j, to));
                    if (nc == LETTER || nc == DIGIT || nc == OTHER) j = last;
                }
                i = j;
            } else if (cls == INVALID) {
                i += 1;
            } else {
                i = body(b, i, to, start, cur, cls);
            }
            ends.add(i);
        }
    }

    /** Scans a letter, digit or other run beginning at i (its first char c, class cls); returns its end. */
    private static int body(byte[] b, int i, int to, int chunkStart, long c, int cls) {
        Character.UnicodeScript script = cls == LETTER ? script(cp(c)) : null;
        int digits = 0;
        while (true) {
            i += len(c);
            if (cls == DIGIT && ++digits == 3) return i;
            if (i >= to) return i;
            c = decode(b, i, to);
            if (cls(c) != cls || i + len(c) - chunkStart > MAX_CHUNK_BYTES) return i;
            if (cls == LETTER) {
                Character.UnicodeScript s = script(cp(c));
                if (s != Character.UnicodeScript.COMMON && s != Character.UnicodeScript.INHERITED) {
                    if (script == Character.UnicodeScript.COMMON || script == Character.UnicodeScript.INHERITED) script = s;
                    else if (s != script) return i;
                }
            }
        }
    }

    private static Character.UnicodeScript script(int cp) {
        if (cp < 0x80) return Character.UnicodeScript.LATIN;
        return Character.UnicodeScript.of(cp);
    }

    // A decoded character packed into a long: code point (or -1 when invalid) in the low 32 bits, byte length above.
    private static int cp(long c) { return (int) c; }

    private static int len(long c) { return (int) (c >>> 32); }

    private static long pack(int cp, int len) { return ((long) len << 32) | (cp & 0xFFFFFFFFL); }

    /** Strict UTF-8 decode of the character at b[i] (no overlongs, no surrogates, <= U+10FFFF). */
    static long decode(byte[] b, int i, int to) {
        int b0 = b[i] & 0xFF;
        if (b0 < 0x80) return pack(b0, 1);
        int n, cp, lo = 0x80, hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) { n = 1; cp = b0 & 0x1F; }
        else if (b0 >= 0xE0 && b0 <= 0xEF) {
            n = 2; cp = b0 & 0x0F;
            if (b0 == 0xE0) lo = 0xA0;
            if (b0 == 0xED) hi = 0x9F;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            n = 3; cp = b0 & 0x07;
            if (b0 == 0xF0) lo = 0x90;
            if (b0 == 0xF4) hi = 0x8F;
        } else return pack(-1, 1);
        if (i + n >= to) return pack(-1, 1); // truncated sequence
        for (int k = 1; k <= n; k++) {
            int bk = b[i + k] & 0xFF;
            if (k == 1 ? (bk < lo || bk > hi) : (bk < 0x80 || bk > 0xBF)) return pack(-1, 1);
            cp = (cp << 6) | (bk & 0x3F);
        }
        return pack(cp, n + 1);
    }

    static int cls(long c) {
        int cp = cp(c);
        if (cp < 0) return INVALID;
        if (cp < 0x80) return ASCII[cp];
        if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) return SPACE;
        if (Character.isLetter(cp)) return LETTER;
        int t = Character.getType(cp);
        if (t == Character.NON_SPACING_MARK || t == Character.COMBINING_SPACING_MARK || t == Character.ENCLOSING_MARK) return LETTER;
        if (Character.isDigit(cp)) return DIGIT;
        return OTHER;
    }

    private static final int[] ASCII = new int[128];
    static {
        for (int c = 0; c < 128; c++) {
            ASCII[c] = Character.isWhitespace(c) ? SPACE : Character.isLetter(c) ? LETTER : Character.isDigit(c) ? DIGIT : OTHER;
        }
    }
}
