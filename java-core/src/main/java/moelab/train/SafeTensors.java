package moelab.train;

import moelab.tensor.Parameters;
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
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;

/**
 * The safetensors weight format (Hugging Face), so weights move to and from PyTorch. Layout:
 * u64 little-endian header length N | N bytes of UTF-8 JSON | the data buffer. The JSON maps
 * each tensor name to {"dtype":"F32","shape":[...],"data_offsets":[begin,end]} (byte offsets
 * into the data buffer, little-endian row-major values) and may hold a "__metadata__" object of
 * string values. The data buffer must be covered exactly: no gaps, no overlaps.
 *
 * <p>Reads F16, BF16, F32, F64, I64, I32, U8 and BOOL ({@link SafeDType}); parameters take the
 * float types, widened to float32. Every structural check (lengths, offsets, coverage) comes
 * before the dtype is looked at, so a damaged file is reported as damaged whatever its dtype.
 * Names and the [in, out] layout of matrices: docs/safetensors.md.
 */
public final class SafeTensors {
    private SafeTensors() {}

    /** Header bytes beyond which the file is refused (as the reference implementation does). */
    static final long MAX_HEADER = 100L << 20;

    /**
     * @param tensors  name -> dtype, shape and bytes, in file header order
     * @param metadata the "__metadata__" strings (empty when absent)
     */
    public record Contents(Map<String, SafeTensor> tensors, Map<String, String> metadata) {}

    // ---------------------------------------------------------------- export

    /** Writes every parameter (registration order) as F32, atomically; metadata may be null. */
    public static void export(Parameters params, Path file, Map<String, String> metadata) {
        export(params, file, metadata, SafeDType.F32);
    }

    /** Writes every parameter (registration order) as dtype (F32, F16 or BF16, rounded to nearest even), atomically. */
    public static void export(Parameters params, Path file, Map<String, String> metadata, SafeDType dtype) {
        Map<String, SafeTensor> ts = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : params.asMap().entrySet())
            ts.put(e.getKey(), SafeTensor.ofFloats(e.getValue().shape(), e.getValue().toArray(), dtype));
        writeTensors(file, ts, metadata);
    }

    /** Writes float32 tensors atomically; metadata may be null. */
    public static void write(Path file, Map<String, TensorData> tensors, Map<String, String> metadata) {
        writeTensors(file, asF32(tensors), metadata);
    }

    /** Writes tensors of any dtype atomically; metadata may be null. */
    public static void writeTensors(Path file, Map<String, SafeTensor> tensors, Map<String, String> metadata) {
        byte[] header = header(tensors, metadata);
        AtomicFile.write(file, out -> {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
            out.write(header);
            byte[] chunk = new byte[1 << 16];
            for (SafeTensor t : tensors.values()) {
                ByteBuffer b = t.bytes().duplicate();
                while (b.hasRemaining()) {
                    int n = Math.min(b.remaining(), chunk.length);
                    b.get(chunk, 0, n);
                    out.write(chunk, 0, n);
                }
            }
        });
    }

    /** The bytes of a file of float32 tensors, in memory. */
    public static byte[] toBytes(Map<String, TensorData> tensors, Map<String, String> metadata) {
        return encode(asF32(tensors), metadata);
    }

    /** The bytes of a file (header and data) in memory. */
    public static byte[] encode(Map<String, SafeTensor> tensors, Map<String, String> metadata) {
        byte[] header = header(tensors, metadata);
        long size = 8L + header.length;
        for (SafeTensor t : tensors.values()) size += t.bytes().remaining();
        if (size > Integer.MAX_VALUE) throw new IllegalArgumentException("safetensors: " + size + " bytes do not fit in an array");
        ByteBuffer bb = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(header.length).put(header);
        for (SafeTensor t : tensors.values()) bb.put(t.bytes().duplicate());
        return bb.array();
    }

    private static Map<String, SafeTensor> asF32(Map<String, TensorData> tensors) {
        Map<String, SafeTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, TensorData> e : tensors.entrySet())
            out.put(e.getKey(), SafeTensor.ofFloats(e.getValue().shape(), e.getValue().data(), SafeDType.F32));
        return out;
    }

    // JSON header, space-padded to a multiple of 8 bytes so the data buffer is 8-byte aligned.
    private static byte[] header(Map<String, SafeTensor> tensors, Map<String, String> metadata) {
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
        for (Map.Entry<String, SafeTensor> e : tensors.entrySet()) {
            if (e.getKey().equals("__metadata__")) throw new IllegalArgumentException("safetensors: '__metadata__' cannot name a tensor");
            if (!first) sb.append(',');
            first = false;
            long bytes = e.getValue().bytes().remaining();
            jsonString(sb, e.getKey()).append(":{\"dtype\":\"").append(e.getValue().dtype()).append("\",\"shape\":[");
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
     * Copies a file's tensors into the parameters, validating first: the file must hold exactly
     * the parameters' names, each with a float dtype, the same shape and only finite values.
     * Every problem is listed in one error, and nothing is copied unless all checks pass.
     */
    public static void importInto(Parameters params, Path file) {
        Contents c = read(file);
        String where = "safetensors " + file + ": ";
        Map<String, Tensor> mine = params.asMap();
        List<String> problems = mismatches(mine, c.tensors());
        if (!problems.isEmpty())
            throw new SafeTensorsException(where + "does not fit the model (nothing was loaded): " + String.join("; ", problems));
        List<String> nonFinite = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            SafeTensor t = c.tensors().get(e.getKey());
            int bad = t.nonFinite();
            if (bad > 0) nonFinite.add("'" + e.getKey() + "' " + bad + " of " + t.numel());
        }
        if (!nonFinite.isEmpty())
            throw new SafeTensorsException(where + "non-finite values (NaN or infinite as float32) in " + nonFinite.size()
                    + " tensor(s), nothing was loaded: " + String.join(", ", nonFinite));
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            Tensor t = e.getValue();
            if (!t.isContiguous()) throw new IllegalStateException("importInto: parameter '" + e.getKey() + "' is not contiguous");
            System.arraycopy(c.tensors().get(e.getKey()).data(), 0, t.data(), t.offset(), t.numel());
        }
    }

    /** Names missing from the file, extra names, wrong dtypes and wrong shapes: all of them, in model order. */
    static List<String> mismatches(Map<String, Tensor> mine, Map<String, SafeTensor> file) {
        List<String> missing = new ArrayList<>(), extra = new ArrayList<>(), problems = new ArrayList<>();
        for (String n : mine.keySet()) if (!file.containsKey(n)) missing.add(n);
        for (String n : file.keySet()) if (!mine.containsKey(n)) extra.add(n);
        if (!missing.isEmpty()) problems.add("not found in the file: " + missing);
        if (!extra.isEmpty()) problems.add("in the file but not in the model: " + extra);
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            SafeTensor t = file.get(e.getKey());
            if (t == null) continue;
            if (!t.dtype().isFloat)
                problems.add("tensor '" + e.getKey() + "' is " + t.dtype() + ", parameters need a float dtype (F16, BF16, F32, F64)");
            int[] want = e.getValue().shape(), got = t.shape();
            if (!Arrays.equals(want, got)) {
                String hint = want.length == 2 && got.length == 2 && want[0] == got[1] && want[1] == got[0]
                        ? " (that is the transpose: matrices here are [in, out], PyTorch's nn.Linear weight is [out, in]; see docs/safetensors.md)" : "";
                problems.add("tensor '" + e.getKey() + "' has shape " + Shape.str(got) + ", the model expects " + Shape.str(want) + hint);
            }
        }
        return problems;
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

    /** Parses and validates a file held in memory; source names it in errors. The tensors are views of b. */
    public static Contents parse(byte[] b, String source) {
        String where = "safetensors " + source + ": ";
        if (b.length < 8) throw new SafeTensorsException(where + "file has " + b.length + " bytes, too short for the 8-byte header length");
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        if (n < 2 || n > MAX_HEADER || n > b.length - 8L)
            throw new SafeTensorsException(where + "header length " + n + " (bytes 0-7) is out of range: the file has "
                    + (b.length - 8L) + " bytes after the length field" + (n > MAX_HEADER ? " and the limit is " + MAX_HEADER : ""));
        int dataStart = 8 + (int) n;
        long dataLen = b.length - (long) dataStart;
        String json = utf8(b, 8, (int) n, where);
        Object root;
        try {
            root = new HeaderJson(json).document();
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsException(where + "bad header: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> top)) throw new SafeTensorsException(where + "bad header: the JSON is not an object");

        Map<String, String> metadata = new LinkedHashMap<>();
        record Entry(String name, String dtype, int[] shape, long begin, long end) {}
        List<Entry> entries = new ArrayList<>();
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
            if (!(info.get("dtype") instanceof String dtype))
                throw new SafeTensorsException(t + "dtype " + (info.get("dtype") == null ? "is missing" : "must be a string, got " + info.get("dtype")));
            long[] shapeL = longs(info.get("shape"), t + "shape");
            int[] shape = new int[shapeL.length];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                if (shapeL[i] < 0 || shapeL[i] > Integer.MAX_VALUE) throw new SafeTensorsException(t + "shape " + Arrays.toString(shapeL) + " has a bad dimension");
                shape[i] = (int) shapeL[i];
                numel = Math.min(numel * shape[i], 1L << 31);  // capped above the 2^31-1 limit: never overflows, a later 0 still gives 0
            }
            if (numel > Integer.MAX_VALUE) throw new SafeTensorsException(t + "shape " + Arrays.toString(shapeL) + " has more than 2^31-1 values");
            long[] off = longs(info.get("data_offsets"), t + "data_offsets");
            if (off.length != 2) throw new SafeTensorsException(t + "data_offsets must be [begin, end], got " + Arrays.toString(off));
            if (off[0] < 0 || off[1] < off[0] || off[1] > dataLen)
                throw new SafeTensorsException(t + "data_offsets " + Arrays.toString(off) + " are out of range: the data buffer has "
                        + dataLen + " bytes");
            SafeDType type = SafeDType.byName(dtype);
            if (type != null && off[1] - off[0] != type.size * numel)
                throw new SafeTensorsException(t + "data_offsets " + Arrays.toString(off) + " span " + (off[1] - off[0])
                        + " bytes, but " + type + " shape " + Shape.str(shape) + " needs " + type.size * numel);
            entries.add(new Entry(name, dtype, shape, off[0], off[1]));
        }
        // The buffer must be covered exactly (no holes, no overlaps), as the reference reader requires.
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort((x, y) -> x.begin != y.begin ? Long.compare(x.begin, y.begin) : Long.compare(x.end, y.end));
        long pos = 0;
        for (Entry r : byOffset) {
            if (r.begin != pos)
                throw new SafeTensorsException(where + "tensor '" + r.name + "' starts at data byte " + r.begin + ", expected "
                        + pos + (r.begin < pos ? " (it overlaps the previous tensor)" : " (there is a gap)"));
            pos = r.end;
        }
        if (pos != dataLen)
            throw new SafeTensorsException(where + "the tensors cover " + pos + " of the " + dataLen + " data bytes; the rest is not indexed");
        Map<String, SafeTensor> tensors = new LinkedHashMap<>();
        for (Entry r : entries) {
            SafeDType type = SafeDType.byName(r.dtype);
            if (type == null)
                throw new SafeTensorsException(where + "tensor '" + r.name + "': dtype '" + r.dtype + "' is not supported (supported: "
                        + SafeDType.names() + ")");
            tensors.put(r.name, new SafeTensor(type, r.shape, ByteBuffer.wrap(b, dataStart + (int) r.begin, (int) (r.end - r.begin))));
        }
        return new Contents(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    /** Strict UTF-8: a bad byte is an error naming its file offset, not a replacement character. */
    private static String utf8(byte[] b, int off, int len, String where) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b, off, len);
        CharBuffer out = CharBuffer.allocate(len);
        CoderResult r = dec.decode(in, out, true);
        if (!r.isError()) r = dec.flush(out);
        if (r.isError())
            throw new SafeTensorsException(where + "bad header: not UTF-8 at file offset " + in.position()
                    + " (byte 0x" + String.format("%02x", b[in.position()] & 0xff) + ")");
        return out.flip().toString();
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
}
