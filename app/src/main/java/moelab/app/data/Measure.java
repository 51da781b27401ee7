package moelab.app.data;

/**
 * How document sizes are counted when domains are balanced. {@code BYTES} = UTF-8 bytes = tokens
 * of the byte-level tokenizer (CJK text costs about 3 bytes per character, so a balanced Japanese
 * domain holds about a third of the characters of a balanced English one). {@code CHARS} =
 * Unicode code points, closer to what a trained BPE tokenizer sees. For a trained tokenizer the
 * exact balance is by its own tokens; re-balance at load time if that matters.
 */
public enum Measure {
    BYTES, CHARS;

    public long of(String text) {
        return this == BYTES ? Utf8.bytes(text) : text.codePointCount(0, text.length());
    }

    /**
     * The longest prefix of {@code text} whose size is at most {@code budget}, cut after a newline
     * when that loses less than {@code slack}, else at a code-point boundary; the result ends with
     * a newline that is counted. Returns "" when not even one character fits.
     */
    public String truncate(String text, long budget, long slack) {
        if (of(text) <= budget) return text;
        if (budget <= 1) return "";
        long size = 0;
        int end = 0, lastNewline = -1;
        long sizeAtNewline = 0;
        while (end < text.length()) {
            int cp = text.codePointAt(end);
            long w = this == BYTES ? (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4) : 1;
            if (size + w > budget - 1) break;               // keep room for the final newline
            size += w;
            end += Character.charCount(cp);
            if (cp == '\n') { lastNewline = end; sizeAtNewline = size; }
        }
        if (lastNewline > 0 && size - sizeAtNewline < slack) return text.substring(0, lastNewline);
        return end == 0 ? "" : text.substring(0, end) + "\n";
    }
}
