package moelab.train;

import moelab.tensor.Parameters;
import moelab.nn.Transformer;
import moelab.routing.TokenInfo;
import moelab.train.SafeTensors.SafeTensorsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static moelab.train.TrainerFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

class SafeTensorsTest {
    @TempDir Path dir;

    @Test
    void exportThenImportIntoAFreshModelGivesIdenticalLogits() throws IOException {
        Transformer a = new Transformer(model(), 1), b = new Transformer(model(), 2);
        Path f = dir.resolve("model.safetensors");
        Map<String, String> meta = Map.of("format", "moelab", "config", "model:\n  name: \"tiny\"\t\\ é");
        SafeTensors.export(a.parameters(), f, meta);

        int[] tokens = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8};
        float[] la = a.forward(tokens, TokenInfo.of(1, 12), false).logits().toArray();
        assertNotEquals(la[0], b.forward(tokens, TokenInfo.of(1, 12), false).logits().toArray()[0], "differently initialised");
        SafeTensors.importInto(b.parameters(), f);
        assertSameBits(la, b.forward(tokens, TokenInfo.of(1, 12), false).logits().toArray(), "logits");
        assertSameWeights(a, b);

        SafeTensors.Contents c = SafeTensors.read(f);
        assertEquals(meta, c.metadata());
        assertEquals(List.copyOf(a.parameters().asMap().keySet()), List.copyOf(c.tensors().keySet()), "parameter order kept");
        byte[] bytes = Files.readAllBytes(f);
        long headerLen = 0;
        for (int i = 7; i >= 0; i--) headerLen = headerLen << 8 | (bytes[i] & 0xff);
        assertEquals(0, headerLen % 8, "data buffer 8-byte aligned");
        assertEquals('{', bytes[8]);
        assertArrayEquals(bytes, SafeTensors.encode(c.tensors(), meta), "file and in-memory bytes agree");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList(), "atomic write leaves no temp file");
        }
    }

    /** A file written by hand from the format description, with spacing and escapes a writer might use. */
    @Test
    void parsesAHandMadeFile() throws IOException {
        String header = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"caf\\u00e9 \\\"q\\\"\"}, "
                + "\"b\" : {\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},\n"
                + " \"a\\/x\":{\"shape\":[1, 2],\"dtype\":\"F32\",\"data_offsets\":[0,8]},"
                + "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[16,20]},"
                + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[20,20]}}   ";
        byte[] file = file(header, 1.5f, -2f, 0.25f, 3e-3f, 7f);
        SafeTensors.Contents c = SafeTensors.parse(file, "hand.safetensors");
        assertEquals(List.of("b", "a/x", "s", "empty"), List.copyOf(c.tensors().keySet()));
        assertEquals(Map.of("format", "pt", "note", "café \"q\""), c.metadata());
        assertArrayEquals(new int[]{1, 2}, c.tensors().get("a/x").shape());
        assertArrayEquals(new float[]{1.5f, -2f}, c.tensors().get("a/x").data());
        assertArrayEquals(new float[]{0.25f, 3e-3f}, c.tensors().get("b").data());
        assertArrayEquals(new int[0], c.tensors().get("s").shape());
        assertArrayEquals(new float[]{7f}, c.tensors().get("s").data());
        assertEquals(0, c.tensors().get("empty").data().length);
    }

    /** u64 LE header length, header, then the floats little-endian, written out byte by byte. */
    private static byte[] file(String header, float... values) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 8; i++) out.write((int) ((long) h.length >>> (8 * i)) & 0xff);
        out.write(h);
        for (float v : values) {
            int bits = Float.floatToIntBits(v);
            for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i) & 0xff);
        }
        return out.toByteArray();
    }

    private static void bad(byte[] file, String... fragments) {
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.parse(file, "x.safetensors"));
        assertTrue(e.getMessage().startsWith("safetensors x.safetensors: "), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
    }

    private static String one(String name, String dtype, String shape, String offsets) {
        return "{\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
    }

    @Test
    void malformedFilesGiveErrorsNamingTheTensor() throws IOException {
        bad(file(one("w", "Q4", "[2]", "[0,8]"), 1, 2), "tensor 'w'", "dtype 'Q4' is not supported", "supported: F16, BF16, F32, F64, I64, I32, U8, BOOL");
        bad(file(one("w", "F16", "[2]", "[0,8]"), 1, 2), "tensor 'w'", "span 8 bytes", "F16 shape [2] needs 4");
        bad(file(one("w", "F32", "[2]", "[0,64]"), 1, 2), "tensor 'w'", "data_offsets [0, 64] are out of range", "8 bytes");
        bad(file(one("w", "F32", "[2]", "[0,4]"), 1), "tensor 'w'", "span 4 bytes", "shape [2] needs 8");
        bad(file(one("w", "F32", "[2]", "[4,12]"), 0, 1, 2), "tensor 'w' starts at data byte 4, expected 0", "gap");
        bad(file(one("w", "F32", "[2]", "[0,8]"), 1, 2, 3), "cover 8 of the 12 data bytes");
        bad(file(one("w", "F32", "[-2]", "[0,8]"), 1, 2), "tensor 'w'", "bad dimension");
        bad(file(one("w", "F32", "[2.5]", "[0,8]"), 1, 2), "shape must hold integers");
        bad(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 1),
                "overlaps");
        bad(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 1), "unknown field 'extra'");
        bad(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],}}", 1), "bad header", "JSON error at header character");
        bad(file("{\"w\":1,\"w\":2}"), "duplicate key \"w\"");
        bad(file("{\"__metadata__\":{\"n\":3}}"), "__metadata__ value of 'n' is not a string");
        bad(file("[1,2]"), "not an object");
        bad(file("{} x"), "after the end of the JSON value");
        bad(new byte[]{1, 2, 3}, "too short");
        byte[] tooLong = file("{}");
        tooLong[0] = (byte) 200;
        bad(tooLong, "header length 200 (bytes 0-7) is out of range", "has 2 bytes");
    }

    @Test
    void strictImportNamesMissingExtraAndMisShapedTensors() {
        Transformer m = new Transformer(model(), 1);
        float[] before = snapshot(m);
        Map<String, TensorData> all = new LinkedHashMap<>();
        for (var e : m.parameters().asMap().entrySet()) all.put(e.getKey(), new TensorData(e.getValue().shape(), new float[e.getValue().numel()]));

        Map<String, TensorData> missing = new LinkedHashMap<>(all);
        missing.remove("lm_head");
        var e1 = assertThrows(SafeTensorsException.class, () -> importBytes(m.parameters(), missing, "missing"));
        assertTrue(e1.getMessage().contains("not found in the file: [lm_head]"), e1.getMessage());

        Map<String, TensorData> extra = new LinkedHashMap<>(all);
        extra.put("output.weight", new TensorData(new int[]{1}, new float[1]));
        var e2 = assertThrows(SafeTensorsException.class, () -> importBytes(m.parameters(), extra, "extra"));
        assertTrue(e2.getMessage().contains("in the file but not in the model: [output.weight]"), e2.getMessage());

        Map<String, TensorData> wrong = new LinkedHashMap<>(all);
        wrong.put("layers.1.moe.router", new TensorData(new int[]{4, 16}, new float[64]));
        var e4 = assertThrows(SafeTensorsException.class, () -> importBytes(m.parameters(), wrong, "wrong"));
        assertTrue(e4.getMessage().contains("tensor 'layers.1.moe.router' has shape [4, 16], the model expects [16, 4]")
                && e4.getMessage().contains("transpose"), e4.getMessage());

        var e5 = assertThrows(SafeTensorsException.class, () -> SafeTensors.importInto(m.parameters(), dir.resolve("nope.safetensors")));
        assertTrue(e5.getMessage().contains("nope.safetensors: no such file"), e5.getMessage());
        assertSameBits(before, snapshot(m), "weights after refused imports");

        importBytes(m.parameters(), all, "zeros");
        for (float x : snapshot(m)) assertEquals(0f, x);
    }

    private void importBytes(Parameters ps, Map<String, TensorData> ts, String name) {
        Path p = dir.resolve(name + ".safetensors");
        SafeTensors.write(p, ts, null);
        SafeTensors.importInto(ps, p);
    }

    @Test
    void jsonStringsRoundTripThroughTheHeader() {
        String nasty = "quote\" back\\ slash/ nl\n tab\t ctl\u0001 uni é 漢";
        Map<String, TensorData> ts = new LinkedHashMap<>();
        ts.put(nasty, new TensorData(new int[]{1}, new float[]{Float.NaN}));
        SafeTensors.Contents c = SafeTensors.parse(SafeTensors.toBytes(ts, Map.of(nasty, nasty)), "mem");
        assertEquals(List.of(nasty), List.copyOf(c.tensors().keySet()));
        assertEquals(Map.of(nasty, nasty), c.metadata());
        assertTrue(Float.isNaN(c.tensors().get(nasty).data()[0]));
        assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.toBytes(Map.of("__metadata__", new TensorData(new int[]{1}, new float[1])), null));
    }
}
