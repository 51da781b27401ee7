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
     * a single newline that is counted. Returns "" when not even one character fits.
     */
    public String truncate(String text, long budget, long slack) {
        if (of(text) <= budget) return text;
        if (budget <= 1) return "";
        long size = 0, sizeAtNewline = 0;
        int end = 0, lastNewline = -1;
        while (end < text.length()) {
            int cp = text.codePointAt(end);
            long w = this == BYTES ? (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4) : 1;
            // a newline may fill the budget; any other character must leave room for the newline we add
            if (size + w > (cp == '\n' ? budget : budget - 1)) break;
            size += w;
            end += Character.charCount(cp);
            if (cp == '\n') { lastNewline = end; sizeAtNewline = size; }
        }
        String cut;
        if (end == lastNewline || lastNewline > 0 && size - sizeAtNewline < slack) cut = text.substring(0, lastNewline);
        else if (end == 0) return "";
        else cut = text.substring(0, end) + "\n";
        int n = cut.length();
        while (n > 1 && cut.charAt(n - 2) == '\n') n--;              // no blank lines at the end of a cut
        return cut.substring(0, n);
    }
}
