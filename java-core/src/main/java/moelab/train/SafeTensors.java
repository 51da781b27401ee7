package moelab.train;

import moelab.autograd.Parameters;
import moelab.tensor.Shape;
import moelab.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors weight format (Hugging Face), float32 only, so weights move to and from
 * PyTorch. Layout: u64 little-endian header length N | N bytes of JSON | the data buffer.
 * The JSON maps each tensor name to {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}
 * (byte offsets into the data buffer, little-endian row-major values) and may hold a
 * "__metadata__" object of string values. The data buffer must be covered exactly: no gaps, no
 * overlaps. Names and the [in, out] layout of matrices: docs/safetensors.md.
 *
 * <p>The JSON reader and writer here handle that header only (objects, arrays, strings,
 * numbers, literals); no JSON library, since java-core has no dependencies.
 */
public final class SafeTensors {
    private SafeTensors() {}

    /** Header bytes beyond which the file is refused (as the reference implementation does). */
    static final long MAX_HEADER = 100L << 20;

    /**
     * @param tensors  name -> shape and values, in file header order
     * @param metadata the "__metadata__" strings (empty when absent)
     */
    public record Contents(Map<String, TensorData> tensors, Map<String, String> metadata) {}

    // ---------------------------------------------------------------- export

    /** Writes every parameter (registration order) atomically; metadata may be null. */
    public static void export(Parameters params, Path file, Map<String, String> metadata) {
        Map<String, TensorData> ts = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : params.asMap().entrySet())
            ts.put(e.getKey(), new TensorData(e.getValue().shape(), e.getValue().toArray()));
        write(file, ts, metadata);
    }

    /** Writes named tensors atomically; metadata may be null. */
    public static void write(Path file, Map<String, TensorData> tensors, Map<String, String> metadata) {
        byte[] header = header(tensors, metadata);
        AtomicFile.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            out.write(len.array());
            out.write(header);
            byte[] chunk = new byte[1 << 16];
            ByteBuffer bb = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
            for (TensorData t : tensors.values()) {
                float[] f = t.data();
                for (int i = 0; i < f.length; ) {
                    int n = Math.min(f.length - i, chunk.length / 4);
                    bb.clear();
                    bb.asFloatBuffer().put(f, i, n);
                    out.write(chunk, 0, 4 * n);
                    i += n;
                }
            }
        });
    }

    /** The file's bytes (header and data) in memory. */
    public static byte[] toBytes(Map<String, TensorData> tensors, Map<String, String> metadata) {
        byte[] header = header(tensors, metadata);
        long size = 8L + header.length;
        for (TensorData t : tensors.values()) size += 4L * t.data().length;
        if (size > Integer.MAX_VALUE) throw new IllegalArgumentException("safetensors: " + size + " bytes do not fit in an array");
        ByteBuffer bb = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(header.length).put(header);
        for (TensorData t : tensors.values()) for (float v : t.data()) bb.putFloat(v);
        return bb.array();
    }

    // JSON header, space-padded to a multiple of 8 bytes so the data buffer is 8-byte aligned.
    private static byte[] header(Map<String, TensorData> tensors, Map<String, String> metadata) {
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        if (metadata != null && !metadata.isEmpty()) {
            sb.append("\"__metadata__\":{");
            boolean f = true;
            for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) { // sorted: same input, same bytes
                if (!f) sb.append(',');
                f = false;
                jsonString(sb, e.getKey()).append(':');
                jsonString(sb, e.getValue());
            }
            sb.append('}');
            first = false;
        }
        long offset = 0;
        for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
            if (e.getKey().equals("__metadata__")) throw new IllegalArgumentException("safetensors: '__metadata__' cannot name a tensor");
            if (!first) sb.append(',');
            first = false;
            long bytes = 4L * e.getValue().data().length;
            jsonString(sb, e.getKey()).append(":{\"dtype\":\"F32\",\"shape\":[");
            int[] shape = e.getValue().shape();
            for (int i = 0; i < shape.length; i++) sb.append(i == 0 ? "" : ",").append(shape[i]);
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        sb.append('}');
        byte[] raw = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(raw, (raw.length + 7) / 8 * 8);
        Arrays.fill(padded, raw.length, padded.length, (byte) ' ');
        return padded;
    }

    static StringBuilder jsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"');
    }

    // ---------------------------------------------------------------- import

    /**
     * Copies a file's tensors into the parameters. Strict: the file must hold exactly the
     * parameters' names with the same shapes; everything is checked before anything is copied.
     */
    public static void importInto(Parameters params, Path file) {
        Contents c = read(file);
        String where = "safetensors " + file + ": ";
        Map<String, Tensor> mine = params.asMap();
        List<String> missing = new ArrayList<>(), extra = new ArrayList<>();
        for (String n : mine.keySet()) if (!c.tensors().containsKey(n)) missing.add(n);
        for (String n : c.tensors().keySet()) if (!mine.containsKey(n)) extra.add(n);
        if (!missing.isEmpty() || !extra.isEmpty())
            throw new SafeTensorsException(where + "tensor names do not match the model"
                    + (missing.isEmpty() ? "" : "; not found in the file: " + missing)
                    + (extra.isEmpty() ? "" : "; in the file but not in the model: " + extra));
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            int[] want = e.getValue().shape(), got = c.tensors().get(e.getKey()).shape();
            if (!Arrays.equals(want, got)) {
                String hint = want.length == 2 && got.length == 2 && want[0] == got[1] && want[1] == got[0]
                        ? " (that is the transpose: matrices here are [in, out], PyTorch's nn.Linear weight is [out, in]; see docs/safetensors.md)" : "";
                throw new SafeTensorsException(where + "tensor '" + e.getKey() + "' has shape " + Shape.str(got)
                        + ", the model expects " + Shape.str(want) + hint);
            }
            if (!e.getValue().isContiguous()) throw new IllegalStateException("importInto: parameter '" + e.getKey() + "' is not contiguous");
        }
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            Tensor t = e.getValue();
            System.arraycopy(c.tensors().get(e.getKey()).data(), 0, t.data(), t.offset(), t.numel());
        }
    }

    /** Reads and validates a whole file. */
    public static Contents read(Path file) {
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new SafeTensorsException("safetensors " + file + ": no such file");
        } catch (IOException | OutOfMemoryError e) {
            throw new SafeTensorsException("safetensors " + file + ": cannot read: " + e.getMessage());
        }
        return parse(b, file.toString());
    }

    /** Parses and validates a file held in memory; source names it in errors. */
    public static Contents parse(byte[] b, String source) {
        String where = "safetensors " + source + ": ";
        if (b.length < 8) throw new SafeTensorsException(where + "file has " + b.length + " bytes, too short for the 8-byte header length");
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        if (n < 2 || n > MAX_HEADER || n > b.length - 8L)
            throw new SafeTensorsException(where + "header length " + n + " (bytes 0-7) is out of range: the file has "
                    + (b.length - 8L) + " bytes after the length field" + (n > MAX_HEADER ? " and the limit is " + MAX_HEADER : ""));
        int dataStart = 8 + (int) n;
        long dataLen = b.length - (long) dataStart;
        String json = new String(b, 8, (int) n, StandardCharsets.UTF_8);
        Object root;
        try {
            root = new JsonReader(json).document();
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsException(where + "bad header: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> top)) throw new SafeTensorsException(where + "bad header: the JSON is not an object");

        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();                   // {begin, end, index}
        List<String> names = new ArrayList<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map<?, ?> md))
                    throw new SafeTensorsException(where + "bad header: __metadata__ must be an object of strings");
                for (Map.Entry<?, ?> m : md.entrySet()) {
                    if (!(m.getValue() instanceof String s))
                        throw new SafeTensorsException(where + "bad header: __metadata__ value of '" + m.getKey() + "' is not a string");
                    metadata.put((String) m.getKey(), s);
                }
                continue;
            }
            String t = where + "tensor '" + name + "': ";
            if (!(e.getValue() instanceof Map<?, ?> info)) throw new SafeTensorsException(t + "header entry is not an object");
            for (Object k : info.keySet())
                if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets"))
                    throw new SafeTensorsException(t + "unknown field '" + k + "' (allowed: dtype, shape, data_offsets)");
            Object dtype = info.get("dtype");
            if (!"F32".equals(dtype))
                throw new SafeTensorsException(t + "dtype " + (dtype == null ? "is missing" : "'" + dtype + "' is not supported")
                        + "; only F32 is (convert with tensor.float() before saving)");
            long[] shapeL = longs(info.get("shape"), t + "shape");
            int[] shape = new int[shapeL.length];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                if (shapeL[i] < 0 || shapeL[i] > Integer.MAX_VALUE) throw new SafeTensorsException(t + "shape " + Arrays.toString(shapeL) + " has a bad dimension");
                shape[i] = (int) shapeL[i];
                numel *= shape[i];
                if (numel > Integer.MAX_VALUE) throw new SafeTensorsException(t + "shape " + Arrays.toString(shapeL) + " has more than 2^31-1 values");
            }
            long[] off = longs(info.get("data_offsets"), t + "data_offsets");
            if (off.length != 2) throw new SafeTensorsException(t + "data_offsets must be [begin, end], got " + Arrays.toString(off));
            if (off[0] < 0 || off[1] < off[0] || off[1] > dataLen)
                throw new SafeTensorsException(t + "data_offsets " + Arrays.toString(off) + " are out of range: the data buffer has "
                        + dataLen + " bytes");
            if (off[1] - off[0] != 4 * numel)
                throw new SafeTensorsException(t + "data_offsets " + Arrays.toString(off) + " span " + (off[1] - off[0])
                        + " bytes, but F32 shape " + Shape.str(shape) + " needs " + 4 * numel);
            float[] data = new float[(int) numel];
            ByteBuffer.wrap(b, dataStart + (int) off[0], (int) (4 * numel)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
            tensors.put(name, new TensorData(shape, data));
            ranges.add(new long[]{off[0], off[1], names.size()});
            names.add(name);
        }
        // The buffer must be covered exactly (no holes, no overlaps), as the reference reader requires.
        ranges.sort((x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]));
        long pos = 0;
        for (long[] r : ranges) {
            if (r[0] != pos)
                throw new SafeTensorsException(where + "tensor '" + names.get((int) r[2]) + "' starts at data byte " + r[0] + ", expected "
                        + pos + (r[0] < pos ? " (it overlaps the previous tensor)" : " (there is a gap)"));
            pos = r[1];
        }
        if (pos != dataLen)
            throw new SafeTensorsException(where + "the tensors cover " + pos + " of the " + dataLen + " data bytes; the rest is not indexed");
        return new Contents(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static long[] longs(Object v, String what) {
        if (!(v instanceof List<?> list)) throw new SafeTensorsException(what + " must be an array of integers, got " + (v == null ? "nothing" : v));
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long x)) throw new SafeTensorsException(what + " must hold integers, got " + list.get(i));
            out[i] = x;
        }
        return out;
    }

    /** A safetensors file that cannot be used; the message names the file and the tensor. */
    public static final class SafeTensorsException extends RuntimeException {
        public SafeTensorsException(String message) { super(message); }
    }

    /**
     * Minimal JSON reader: object -> LinkedHashMap (duplicate keys refused), array -> List,
     * string -> String, integer -> Long, other number -> Double, true/false/null.
     */
    static final class JsonReader {
        private static final int MAX_DEPTH = 64;
        private final String s;
        private int i;

        JsonReader(String s) { this.s = s; }

        Object document() {
            ws();
            Object v = value(0);
            ws();
            if (i != s.length()) throw error("unexpected '" + s.charAt(i) + "' after the end of the JSON value");
            return v;
        }

        private Object value(int depth) {
            if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
            if (i >= s.length()) throw error("unexpected end of header");
            char c = s.charAt(i);
            return switch (c) {
                case '{' -> object(depth);
                case '[' -> array(depth);
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) yield number();
                    throw error("unexpected '" + c + "'");
                }
            };
        }

        private Map<String, Object> object(int depth) {
            Map<String, Object> m = new LinkedHashMap<>();
            i++; // {
            ws();
            if (peek() == '}') { i++; return m; }
            while (true) {
                ws();
                if (peek() != '"') throw error("expected a string key");
                int at = i;
                String k = string();
                ws();
                expect(':');
                ws();
                Object v = value(depth + 1);
                if (m.containsKey(k)) { i = at; throw error("duplicate key \"" + k + "\""); }
                m.put(k, v);
                ws();
                char c = peek();
                i++;
                if (c == '}') return m;
                if (c != ',') { i--; throw error("expected ',' or '}'"); }
            }
        }

        private List<Object> array(int depth) {
            List<Object> a = new ArrayList<>();
            i++; // [
            ws();
            if (peek() == ']') { i++; return a; }
            while (true) {
                ws();
                a.add(value(depth + 1));
                ws();
                char c = peek();
                i++;
                if (c == ']') return a;
                if (c != ',') { i--; throw error("expected ',' or ']'"); }
            }
        }

        private String string() {
            i++; // "
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (i >= s.length()) throw error("unterminated string");
                char c = s.charAt(i++);
                if (c == '"') return sb.toString();
                if (c < 0x20) { i--; throw error("control character in a string"); }
                if (c != '\\') { sb.append(c); continue; }
                if (i >= s.length()) throw error("unterminated escape");
                char e = s.charAt(i++);
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) throw error("short \\u escape");
                        try { sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); } catch (NumberFormatException x) {
                            throw error("bad \\u escape");
                        }
                        i += 4;
                    }
                    default -> { i--; throw error("bad escape '\\" + e + "'"); }
                }
            }
        }

        private Object number() {
            int start = i;
            if (peek() == '-') i++;
            while (i < s.length() && "0123456789+-.eE".indexOf(s.charAt(i)) >= 0) i++;
            String t = s.substring(start, i);
            try {
                if (t.matches("-?(0|[1-9][0-9]*)")) return Long.parseLong(t);
                if (t.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) return Double.parseDouble(t);
            } catch (NumberFormatException ignored) { /* too large for a long: reported below */ }
            i = start;
            throw error("bad number '" + t + "'");
        }

        private Object literal(String word, Object v) {
            if (!s.startsWith(word, i)) throw error("unexpected '" + s.charAt(i) + "'");
            i += word.length();
            return v;
        }

        private void expect(char c) {
            if (peek() != c) throw error("expected '" + c + "'");
            i++;
        }

        private char peek() {
            if (i >= s.length()) throw error("unexpected end of header");
            return s.charAt(i);
        }

        private void ws() { while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++; }

        private IllegalArgumentException error(String msg) {
            return new IllegalArgumentException("JSON error at header character " + i + ": " + msg);
        }
    }
}
