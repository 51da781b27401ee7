package moelab.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE trained by the project ({@link #train}). Ids 0..255 are the bytes; id 256 + r is
 * made by merge r, the r-th pair learned. Text is first cut into chunks by {@link PreTokenizer}
 * (merges never cross a chunk), then in each chunk the adjacent pair with the lowest merge rank is
 * merged, leftmost first, until no learned pair is left: the same order training used, so encoding
 * reproduces the training segmentation. Every byte sequence encodes (unknown bytes stay single
 * bytes) and decodes back exactly. Thread-safe: the chunk cache is concurrent.
 *
 * <h2>File format (version 1, ASCII text)</h2>
 * <pre>
 * moelab-bpe 1
 * pretokenizer simple-v1
 * merges 3840
 * 104 101 6865        (one line per merge: left id, right id, hex bytes of the new token)
 * ...
 * end
 * </pre>
 * The token made by merge line r (0-based) has id 256 + r; vocabulary = 256 + merges. Lines
 * starting with '#' and blank lines are ignored. The hex column is redundant on purpose: loading
 * checks it against the ids and reports any mismatch with the file and line.
 */
public final class BpeTokenizer implements Tokenizer {
    public static final String MAGIC = "moelab-bpe";
    public static final int FORMAT_VERSION = 1;
    /** Ids are stored in 16 bits inside a pair key. */
    public static final int MAX_VOCAB = 65536;

    private final int[] left, right;       // merge r: (left[r], right[r]) -> 256 + r
    private final byte[][] tokenBytes;     // bytes of every id
    private final IntIntMap rank;          // pair key -> merge rank, -1 when not a merge
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();
    private static final int CACHE_LIMIT = 1 << 18;

    /** Builds a tokenizer from its merge list; throws when a merge uses an id not yet defined. */
    public BpeTokenizer(int[] left, int[] right) {
        if (left.length != right.length) throw new IllegalArgumentException("BpeTokenizer: " + left.length + " left ids but " + right.length + " right ids");
        if (256 + left.length > MAX_VOCAB) throw new IllegalArgumentException("BpeTokenizer: " + left.length + " merges exceed the vocabulary limit " + MAX_VOCAB);
        this.left = left.clone();
        this.right = right.clone();
        tokenBytes = new byte[256 + left.length][];
        for (int i = 0; i < 256; i++) tokenBytes[i] = new byte[]{(byte) i};
        rank = new IntIntMap(left.length * 2 + 16, -1);
        for (int r = 0; r < left.length; r++) {
            int a = left[r], b = right[r], id = 256 + r;
            if (a < 0 || a >= id || b < 0 || b >= id)
                throw new IllegalArgumentException("BpeTokenizer: merge " + r + " (" + a + ", " + b + ") uses an id outside [0, " + id + ")");
            int key = pair(a, b);
            if (rank.get(key) >= 0) throw new IllegalArgumentException("BpeTokenizer: merge " + r + " (" + a + ", " + b + ") repeats merge " + rank.get(key));
            rank.put(key, r);
            byte[] x = tokenBytes[a], y = tokenBytes[b], t = new byte[x.length + y.length];
            System.arraycopy(x, 0, t, 0, x.length);
            System.arraycopy(y, 0, t, x.length, y.length);
            tokenBytes[id] = t;
        }
    }

    /**
     * Learns merges from texts until the vocabulary holds vocabSize ids or no pair occurs twice
     * (then {@link #vocabSize()} is smaller than asked). Deterministic: the most frequent pair
     * wins, ties go to the smaller (left id, right id).
     */
    public static BpeTokenizer train(List<String> texts, int vocabSize) { return BpeTrainer.train(texts, vocabSize); }

    static int pair(int a, int b) { return (a << 16) | b; }

    @Override public String name() { return "bpe"; }

    @Override public int vocabSize() { return 256 + left.length; }

    public int merges() { return left.length; }

    /** The bytes token id stands for (a copy). */
    public byte[] tokenBytes(int id) {
        checkId(id, -1);
        return tokenBytes[id].clone();
    }

    @Override public int[] encode(String text) { return encodeBytes(text.getBytes(StandardCharsets.UTF_8)); }

    /** Any byte sequence, valid UTF-8 or not; decodeBytes(encodeBytes(b)) equals b. */
    public int[] encodeBytes(byte[] b) {
        IntList ends = new IntList(Math.max(16, b.length / 3));
        PreTokenizer.split(b, 0, b.length, ends);
        IntList out = new IntList(Math.max(16, b.length / 2));
        int[] sym = new int[PreTokenizer.MAX_CHUNK_BYTES];
        int start = 0;
        for (int c = 0; c < ends.size(); c++) {
            int end = ends.get(c), n = end - start;
            if (n == 1) out.add(b[start] & 0xFF);
            else {
                String key = new String(b, start, n, StandardCharsets.ISO_8859_1);
                int[] ids = cache.get(key);
                if (ids == null) {
                    ids = encodeChunk(b, start, n, sym);
                    if (cache.size() < CACHE_LIMIT) cache.put(key, ids);
                }
                out.addAll(ids);
            }
            start = end;
        }
        return out.toArray();
    }

    /** One chunk: merge the lowest-rank adjacent pair (leftmost on ties) until none is a merge. */
    private int[] encodeChunk(byte[] b, int start, int n, int[] sym) {
        for (int i = 0; i < n; i++) sym[i] = b[start + i] & 0xFF;
        while (n > 1) {
            int best = Integer.MAX_VALUE, at = -1;
            for (int p = 0; p + 1 < n; p++) {
                int r = rank.get(pair(sym[p], sym[p + 1]));
                if (r >= 0 && r < best) { best = r; at = p; }
            }
            if (at < 0) break;
            sym[at] = 256 + best;
            System.arraycopy(sym, at + 2, sym, at + 1, n - at - 2);
            n--;
        }
        return java.util.Arrays.copyOf(sym, n);
    }

    /** Tolerant decode: bytes that do not form valid UTF-8 (a cut character) become U+FFFD. */
    @Override public String decode(int[] ids) { return new String(decodeBytes(ids), StandardCharsets.UTF_8); }

    /** The exact bytes the ids stand for. */
    public byte[] decodeBytes(int[] ids) {
        int total = 0;
        for (int i = 0; i < ids.length; i++) {
            checkId(ids[i], i);
            total += tokenBytes[ids[i]].length;
        }
        byte[] out = new byte[total];
        int o = 0;
        for (int id : ids) {
            byte[] t = tokenBytes[id];
            System.arraycopy(t, 0, out, o, t.length);
            o += t.length;
        }
        return out;
    }

    private void checkId(int id, int pos) {
        if (id < 0 || id >= tokenBytes.length)
            throw new IllegalArgumentException("BpeTokenizer.decode: id " + id + (pos >= 0 ? " at position " + pos : "")
                    + " is outside [0, " + tokenBytes.length + ")");
    }

    /** Writes the file format above atomically (temp file in the same folder, then rename). */
    public void save(Path file) {
        StringBuilder sb = new StringBuilder(left.length * 16 + 64);
        sb.append(MAGIC).append(' ').append(FORMAT_VERSION).append('\n');
        sb.append("pretokenizer ").append(PreTokenizer.VERSION).append('\n');
        sb.append("merges ").append(left.length).append('\n');
        HexFormat hex = HexFormat.of();
        for (int r = 0; r < left.length; r++)
            sb.append(left[r]).append(' ').append(right[r]).append(' ').append(hex.formatHex(tokenBytes[256 + r])).append('\n');
        sb.append("end\n");
        AtomicFiles.write(file, sb.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /** Reads {@link #save}'s format; any problem is reported as "file:line: what is wrong". */
    public static BpeTokenizer load(Path file) {
        List<String> all;
        try {
            all = Files.readAllLines(file, StandardCharsets.US_ASCII);
        } catch (CharacterCodingException e) {
            throw new DataException(file + ": not a BPE vocabulary (non-ASCII bytes)");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read BPE vocabulary: " + e.getMessage(), e);
        }
        // keep line numbers: index of each meaningful line in the file
        java.util.ArrayList<String> lines = new java.util.ArrayList<>();
        IntList lineNo = new IntList();
        for (int i = 0; i < all.size(); i++) {
            String s = all.get(i).strip();
            if (s.isEmpty() || s.startsWith("#")) continue;
            lines.add(s);
            lineNo.add(i + 1);
        }
        int k = 0;
        String where = file + ":" + (lines.isEmpty() ? 1 : lineNo.get(0));
        if (lines.isEmpty() || !lines.get(0).startsWith(MAGIC + " "))
            throw new DataException(where + ": not a BPE vocabulary (expected first line '" + MAGIC + " " + FORMAT_VERSION + "')");
        String ver = lines.get(0).substring(MAGIC.length() + 1).strip();
        if (!ver.equals(String.valueOf(FORMAT_VERSION)))
            throw new DataException(where + ": format version '" + ver + "' is not supported (this build reads version " + FORMAT_VERSION + ")");
        k++;
        String pre = field(file, lines, lineNo, k++, "pretokenizer");
        if (!pre.equals(PreTokenizer.VERSION))
            throw new DataException(file + ":" + lineNo.get(k - 1) + ": pretokenizer '" + pre + "' is not supported (this build has " + PreTokenizer.VERSION + ")");
        String mstr = field(file, lines, lineNo, k++, "merges");
        int m = parseInt(mstr, file + ":" + lineNo.get(k - 1), "merge count", 0, MAX_VOCAB - 256);
        int[] l = new int[m], r = new int[m];
        byte[][] bytes = new byte[256 + m][];
        for (int i = 0; i < 256; i++) bytes[i] = new byte[]{(byte) i};
        HexFormat hex = HexFormat.of();
        for (int i = 0; i < m; i++, k++) {
            if (k >= lines.size())
                throw new DataException(file + ":" + all.size() + ": file ends after " + i + " of " + m + " merges (truncated?)");
            String at = file + ":" + lineNo.get(k);
            String[] f = lines.get(k).split("\\s+");
            if (f.length != 3)
                throw new DataException(at + ": expected 'left_id right_id hex_bytes' for merge " + i + ", got '" + lines.get(k) + "'");
            int id = 256 + i;
            l[i] = parseInt(f[0], at, "left id", 0, id - 1);
            r[i] = parseInt(f[1], at, "right id", 0, id - 1);
            byte[] want = concat(bytes[l[i]], bytes[r[i]]);
            byte[] got;
            try { got = hex.parseHex(f[2]); } catch (IllegalArgumentException e) {
                throw new DataException(at + ": '" + f[2] + "' is not hex bytes");
            }
            if (!java.util.Arrays.equals(want, got))
                throw new DataException(at + ": merge " + i + " (" + l[i] + ", " + r[i] + ") makes bytes " + hex.formatHex(want) + " but the file says " + f[2] + " (corrupt file)");
            bytes[id] = want;
        }
        if (k >= lines.size() || !lines.get(k).equals("end"))
            throw new DataException(file + ":" + (k < lines.size() ? lineNo.get(k) : all.size()) + ": expected 'end' after " + m + " merges"
                    + (k < lines.size() ? ", got '" + lines.get(k) + "'" : " (truncated?)"));
        if (k + 1 < lines.size())
            throw new DataException(file + ":" + lineNo.get(k + 1) + ": unexpected content after 'end'");
        try {
            return new BpeTokenizer(l, r);
        } catch (IllegalArgumentException e) {
            throw new DataException(file + ": " + e.getMessage(), e);
        }
    }

    private static String field(Path file, List<String> lines, IntList lineNo, int k, String name) {
        if (k >= lines.size()) throw new DataException(file + ": missing '" + name + "' line (truncated?)");
        String s = lines.get(k);
        if (!s.startsWith(name + " "))
            throw new DataException(file + ":" + lineNo.get(k) + ": expected '" + name + " ...', got '" + s + "'");
        return s.substring(name.length() + 1).strip();
    }

    private static int parseInt(String s, String at, String what, int lo, int hi) {
        int v;
        try { v = Integer.parseInt(s); } catch (NumberFormatException e) {
            throw new DataException(at + ": " + what + " '" + s + "' is not an integer");
        }
        if (v < lo || v > hi) throw new DataException(at + ": " + what + " " + v + " is outside [" + lo + ", " + hi + "]");
        return v;
    }

    private static byte[] concat(byte[] x, byte[] y) {
        byte[] t = new byte[x.length + y.length];
        System.arraycopy(x, 0, t, 0, x.length);
        System.arraycopy(y, 0, t, x.length, y.length);
        return t;
    }

    @Override public String toString() { return "BpeTokenizer(vocab " + vocabSize() + ", " + left.length + " merges)"; }
}
