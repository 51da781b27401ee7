package moelab.train;

import moelab.tensor.Shape;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * Everything needed to continue training exactly where it stopped, and its file format.
 *
 * <p>File layout, all integers and floats little-endian:
 * <pre>
 * header   magic "MOECKPT\0" (8 bytes) | u32 version (1) | u64 body length in bytes
 * body     str  config text (the caller's config, e.g. the run's YAML)
 *          u64  optimizer steps done by the trainer
 *          u32  parameter count, then per parameter:
 *                 str name | u32 rank | u32 dims[rank] | f32 values[numel] (row-major)
 *          u64  AdamW step count (bias correction)
 *          u32  moment count, then per parameter (AdamW order):
 *                 str name | u32 numel | f32 first moment[numel] | f32 second moment[numel]
 *          u32  data-state length | bytes (BatchSource.saveState: position and data RNG)
 *          u32  router count, then per MoE layer (block order):
 *                 str router name | u32 entries | per entry (keys sorted): str key | u32 n | f32[n]
 *               (the first router's entries also carry the auto-scaled expert-loss coefficients,
 *               keys "expert_losses.*", which the trainer strips before Router.loadState)
 * trailer  u32 CRC32 of every byte before it (header and body)
 * str = u32 byte length + UTF-8 bytes.
 * </pre>
 * The trainer itself draws no random numbers: the data RNG is in the BatchSource state and any
 * router RNG in the router state, so those two cover "RNG state".
 *
 * <p>{@link #read} checks the magic, version, length and CRC and parses the whole body before it
 * returns, so a truncated or corrupt file never reaches the model; {@link Trainer#loadCheckpoint}
 * then checks names, shapes and config against the model before copying anything.
 *
 * @param configText    the caller's config text
 * @param step          optimizer steps done
 * @param parameters    model parameters by name, in registration order
 * @param optimizerStep AdamW's step count
 * @param moments       AdamW moments, in the optimizer's parameter order
 * @param dataState     BatchSource state bytes
 * @param routers       router state per MoE layer, in block order
 */
public record Checkpoint(String configText, long step, Map<String, TensorData> parameters, long optimizerStep,
                         List<Moments> moments, byte[] dataState, List<RouterState> routers) {

    /** AdamW's first and second moment of one parameter. */
    public record Moments(String name, float[] first, float[] second) {}

    /** Non-trainable state of one router (Router.state()), keys in sorted order. */
    public record RouterState(String name, Map<String, float[]> state) {}

    public static final int VERSION = 1;
    static final byte[] MAGIC = {'M', 'O', 'E', 'C', 'K', 'P', 'T', 0};
    static final int HEADER_BYTES = 8 + 4 + 8, CRC_BYTES = 4;
    private static final int MAX_RANK = 16;
    private static final Pattern FILE_NAME = Pattern.compile("step-(\\d+)\\.ckpt");
    /** The temporary file AtomicFile writes a step checkpoint into before renaming it. */
    private static final Pattern TEMP_NAME = Pattern.compile("\\.step-\\d+\\.ckpt\\..*\\.tmp");

    // ---------------------------------------------------------------- naming

    /** The file name run() gives the checkpoint of a step: step-00000100.ckpt. */
    public static String fileName(long step) { return String.format("step-%08d.ckpt", step); }

    /** Step-numbered checkpoints (step-N.ckpt) in a folder, oldest first; empty when none or no folder. */
    public static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        List<Path> found = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> FILE_NAME.matcher(p.getFileName().toString()).matches()).forEach(found::add);
        } catch (IOException e) {
            throw new UncheckedIOException("listing checkpoints in " + dir + ": " + e.getMessage(), e);
        }
        found.sort((a, b) -> Long.compare(stepOf(a), stepOf(b)));
        return found;
    }

    /**
     * Deletes the temporary files of step checkpoint writes that never finished (the process was
     * killed between creating and renaming them); only call when no write into dir is under way.
     * Returns how many were deleted.
     */
    public static int removeTemporaries(Path dir) {
        if (!Files.isDirectory(dir)) return 0;
        int n = 0;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> TEMP_NAME.matcher(p.getFileName().toString()).matches()).toList()) {
                Files.deleteIfExists(p);
                n++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("removing unfinished checkpoint files in " + dir + ": " + e.getMessage(), e);
        }
        return n;
    }

    /** The checkpoint with the highest step number in a folder (by name, not by time). */
    public static Optional<Path> latest(Path dir) {
        List<Path> all = list(dir);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    private static long stepOf(Path p) {
        Matcher m = FILE_NAME.matcher(p.getFileName().toString());
        if (!m.matches()) return -1;
        try { return Long.parseLong(m.group(1)); } catch (NumberFormatException e) { return Long.MAX_VALUE; }
    }

    // ---------------------------------------------------------------- writing

    /** Writes atomically: the previous file at this path stays intact if anything fails. */
    public static void write(Path file, Checkpoint c) { write(file, c, UnaryOperator.identity()); }

    /** wrap lets tests inject a failing stream mid-write. */
    static void write(Path file, Checkpoint c, UnaryOperator<OutputStream> wrap) {
        LeOut counter = new LeOut(null);
        writeBody(counter, c);                       // dry run: the header needs the body length
        counter.flush();
        long bodyLength = counter.count;
        AtomicFile.write(file, out -> {
            LeOut o = new LeOut(out);
            o.bytes(MAGIC);
            o.i32(VERSION);
            o.i64(bodyLength);
            writeBody(o, c);
            o.flush();
            if (o.count != HEADER_BYTES + bodyLength)
                throw new IllegalStateException("checkpoint writer: body changed size while writing");
            int crc = (int) o.crc.getValue();
            o.i32(crc);
            o.flushNoCrc();
        }, wrap);
    }

    private static void writeBody(LeOut o, Checkpoint c) {
        o.str(c.configText);
        o.i64(c.step);
        o.i32(c.parameters.size());
        for (Map.Entry<String, TensorData> e : c.parameters.entrySet()) {
            o.str(e.getKey());
            int[] shape = e.getValue().shape();
            o.i32(shape.length);
            for (int d : shape) o.i32(d);
            o.floats(e.getValue().data());
        }
        o.i64(c.optimizerStep);
        o.i32(c.moments.size());
        for (Moments m : c.moments) {
            if (m.first.length != m.second.length)
                throw new IllegalArgumentException("checkpoint: moments of '" + m.name + "' differ in length");
            o.str(m.name);
            o.i32(m.first.length);
            o.floats(m.first);
            o.floats(m.second);
        }
        o.i32(c.dataState.length);
        o.bytes(c.dataState);
        o.i32(c.routers.size());
        for (RouterState r : c.routers) {
            o.str(r.name);
            Map<String, float[]> sorted = new TreeMap<>(r.state); // fixed order: the file is a function of the state
            o.i32(sorted.size());
            for (Map.Entry<String, float[]> e : sorted.entrySet()) {
                o.str(e.getKey());
                o.i32(e.getValue().length);
                o.floats(e.getValue());
            }
        }
    }

    /** Little-endian writer that keeps a CRC32 and a byte count; out == null only counts. */
    private static final class LeOut {
        final OutputStream out;
        final CRC32 crc = new CRC32();
        final byte[] buf = new byte[1 << 16];
        final ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
        long count;

        LeOut(OutputStream out) { this.out = out; }

        void i32(int v) { room(4); bb.putInt(v); }
        void i64(long v) { room(8); bb.putLong(v); }

        void str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i32(b.length);
            bytes(b);
        }

        void bytes(byte[] b) {
            for (int i = 0; i < b.length; ) {
                room(1);
                int n = Math.min(b.length - i, bb.remaining());
                bb.put(b, i, n);
                i += n;
            }
        }

        void floats(float[] f) {
            for (int i = 0; i < f.length; ) {
                room(4);
                int n = Math.min(f.length - i, bb.remaining() / 4);
                bb.asFloatBuffer().put(f, i, n);  // the view shares buf and is little-endian like bb
                bb.position(bb.position() + 4 * n);
                i += n;
            }
        }

        private void room(int n) { if (bb.remaining() < n) flush(); }

        void flush() {
            crc.update(buf, 0, bb.position());
            emit();
        }

        void flushNoCrc() { emit(); }

        private void emit() {
            int n = bb.position();
            count += n;
            if (out != null && n > 0) {
                try { out.write(buf, 0, n); } catch (IOException e) { throw new UncheckedIOException(e); }
            }
            bb.clear();
        }
    }

    // ---------------------------------------------------------------- reading

    /** Reads and fully validates the file format (not yet against a model). */
    public static Checkpoint read(Path file) {
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("checkpoint " + file + ": no such file");
        } catch (IOException | OutOfMemoryError e) {
            throw new CheckpointException("checkpoint " + file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(b, file.toString());
    }

    /** The config text stored in a checkpoint (e.g. to build the model before loading it). */
    public static String readConfigText(Path file) { return read(file).configText(); }

    /** Parses and validates a checkpoint held in memory; source names it in errors. */
    public static Checkpoint parse(byte[] b, String source) {
        String where = "checkpoint " + source + ": ";
        for (int i = 0; i < MAGIC.length && i < b.length; i++)     // the magic first: a short text file is not a "truncated checkpoint"
            if (b[i] != MAGIC[i])
                throw new CheckpointException(where + "not a moe-routing-lab checkpoint: the first bytes are "
                        + hex(b, 0, 8) + ", expected " + hex(MAGIC, 0, 8) + " (\"MOECKPT\\0\")");
        if (b.length < HEADER_BYTES + CRC_BYTES)
            throw new CheckpointException(where + "truncated: the file has " + b.length + " bytes, fewer than the "
                    + (HEADER_BYTES + CRC_BYTES) + " of an empty checkpoint");
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int version = bb.getInt(8);
        if (version != VERSION)
            throw new CheckpointException(where + "format version " + version + " at offset 8; this build reads version " + VERSION);
        long bodyLength = bb.getLong(12);
        long expected = HEADER_BYTES + bodyLength + CRC_BYTES;
        if (bodyLength < 0 || b.length < expected)
            throw new CheckpointException(where + "truncated: the header (offset 12) says " + expected
                    + " bytes, the file has " + b.length);
        if (b.length > expected)
            throw new CheckpointException(where + (b.length - expected) + " unexpected bytes after the CRC at offset " + expected);
        int end = (int) (HEADER_BYTES + bodyLength);
        CRC32 crc = new CRC32();
        crc.update(b, 0, end);
        int stored = bb.getInt(end), computed = (int) crc.getValue();
        if (stored != computed)
            throw new CheckpointException(where + "CRC32 mismatch: stored 0x" + Integer.toHexString(stored) + " at offset "
                    + end + ", computed 0x" + Integer.toHexString(computed) + " over bytes [0, " + end + "); the file is corrupt");

        LeIn in = new LeIn(b, HEADER_BYTES, end, where);
        String config = in.str("config text");
        long step = in.i64("step");
        int np = in.count("parameter count", 4);
        Map<String, TensorData> params = new LinkedHashMap<>();
        for (int i = 0; i < np; i++) {
            String name = in.str("name of parameter #" + i);
            int rank = in.i32("rank of parameter '" + name + "'");
            if (rank < 0 || rank > MAX_RANK) in.fail(4, "parameter '" + name + "' has rank " + rank + ", expected 0.." + MAX_RANK);
            int[] shape = new int[rank];
            long numel = 1;
            for (int d = 0; d < rank; d++) {
                shape[d] = in.i32("dimension " + d + " of parameter '" + name + "'");
                if (shape[d] < 0) in.fail(4, "parameter '" + name + "' has negative dimension " + shape[d]);
                numel *= shape[d];
                if (numel > Integer.MAX_VALUE) in.fail(4, "parameter '" + name + "' has more than 2^31-1 values");
            }
            float[] data = in.floats((int) numel, "values of parameter '" + name + "' " + Shape.str(shape));
            if (params.put(name, new TensorData(shape, data)) != null)
                in.fail(0, "parameter '" + name + "' appears twice");
        }
        long optStep = in.i64("optimizer step count");
        int nm = in.count("moment count", 4);
        List<Moments> moments = new ArrayList<>(nm);
        for (int i = 0; i < nm; i++) {
            String name = in.str("name of moment #" + i);
            int n = in.count("size of the moments of '" + name + "'", 8);
            moments.add(new Moments(name, in.floats(n, "first moment of '" + name + "'"), in.floats(n, "second moment of '" + name + "'")));
        }
        int ds = in.count("data state length", 1);
        byte[] dataState = in.bytes(ds, "data state");
        int nr = in.count("router count", 4);
        List<RouterState> routers = new ArrayList<>(nr);
        for (int i = 0; i < nr; i++) {
            String name = in.str("name of router #" + i);
            int entries = in.count("entries of router #" + i, 8);
            Map<String, float[]> state = new LinkedHashMap<>();
            for (int j = 0; j < entries; j++) {
                String key = in.str("key #" + j + " of router #" + i);
                int n = in.count("size of router #" + i + " state '" + key + "'", 4);
                state.put(key, in.floats(n, "router #" + i + " state '" + key + "'"));
            }
            routers.add(new RouterState(name, Collections.unmodifiableMap(state)));
        }
        if (in.pos != end)
            throw new CheckpointException(where + (end - in.pos) + " unread bytes at offset " + in.pos + " before the CRC");
        return new Checkpoint(config, step, Collections.unmodifiableMap(params), optStep,
                Collections.unmodifiableList(moments), dataState, Collections.unmodifiableList(routers));
    }

    /** Bounds-checked little-endian reader whose errors name the file, the offset and the field. */
    private static final class LeIn {
        final byte[] b;
        final ByteBuffer bb;
        final int end;
        final String where;
        int pos;

        LeIn(byte[] b, int start, int end, String where) {
            this.b = b; this.pos = start; this.end = end; this.where = where;
            this.bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        }

        private void need(long n, String what) {
            if (n > end - pos)
                throw new CheckpointException(where + "truncated body at offset " + pos + " reading " + what
                        + ": need " + n + " bytes, " + (end - pos) + " left");
        }

        void fail(int back, String msg) { throw new CheckpointException(where + "at offset " + (pos - back) + ": " + msg); }

        int i32(String what) { need(4, what); int v = bb.getInt(pos); pos += 4; return v; }
        long i64(String what) { need(8, what); long v = bb.getLong(pos); pos += 8; return v; }

        /** A non-negative count whose items (at least bytesPerItem each) fit in what is left. */
        int count(String what, int bytesPerItem) {
            int n = i32(what);
            if (n < 0 || (long) n * bytesPerItem > end - pos)
                fail(4, what + " is " + n + ", which cannot fit in the " + (end - pos) + " bytes left");
            return n;
        }

        String str(String what) {
            int n = count("length of " + what, 1);
            String s = new String(b, pos, n, StandardCharsets.UTF_8);
            pos += n;
            return s;
        }

        byte[] bytes(int n, String what) {
            need(n, what);
            byte[] out = java.util.Arrays.copyOfRange(b, pos, pos + n);
            pos += n;
            return out;
        }

        float[] floats(int n, String what) {
            need(4L * n, what);
            float[] out = new float[n];
            ByteBuffer.wrap(b, pos, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            pos += 4 * n;
            return out;
        }
    }

    private static String hex(byte[] b, int off, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = off; i < off + n && i < b.length; i++) sb.append(String.format("%02x", b[i] & 0xff));
        return sb.toString();
    }
}
