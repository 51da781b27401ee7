package moelab.train;

import moelab.nn.Transformer;
import moelab.tensor.Tensor;
import moelab.train.SafeTensors.SafeTensorsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static moelab.train.TrainerFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** The dtypes real checkpoints use, checks that do not depend on them, strict UTF-8 and the validating import. */
class SafeTensorsDTypeTest {
    @TempDir Path dir;

    /** u64 LE header length, header bytes, then the data bytes as given. */
    private static byte[] file(byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static byte[] file(String header, byte[] data) { return file(header.getBytes(StandardCharsets.UTF_8), data); }

    private static byte[] le16(int... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putShort((short) x);
        return b.array();
    }

    private static String one(String dtype, String shape, long begin, long end) {
        return "{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}}";
    }

    private static SafeTensor only(byte[] file) { return SafeTensors.parse(file, "t").tensors().get("w"); }

    @Test
    void f16BitPatternsWidenExactly() {
        int[] bits = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x0400, 0x8000, 0x3555, 0x7C00, 0xFC00};
        float[] want = {1f, -2f, 65504f, 0x1p-24f, 0x1p-14f, -0f, 0.333251953125f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        float[] got = only(file(one("F16", "[9]", 0, 18), le16(bits))).data();
        for (int i = 0; i < want.length; i++)
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), "F16 0x" + Integer.toHexString(bits[i]));
        assertTrue(Float.isNaN(only(file(one("F16", "[1]", 0, 2), le16(0x7E00))).data()[0]));
    }

    @Test
    void bf16BitPatternsWidenExactly() {
        int[] bits = {0x3F80, 0xC000, 0x3EAB, 0x7F7F, 0x0001, 0x8000, 0x7F80};
        float[] want = {1f, -2f, 0.333984375f, 3.3895314e38f, Float.intBitsToFloat(0x00010000), -0f, Float.POSITIVE_INFINITY};
        float[] got = only(file(one("BF16", "[7]", 0, 14), le16(bits))).data();
        for (int i = 0; i < want.length; i++)
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), "BF16 0x" + Integer.toHexString(bits[i]));
    }

    @Test
    void writingF16AndBf16RoundsToNearestEven() {
        float[] in = {1f / 3, Float.intBitsToFloat(0x3F808000), Float.intBitsToFloat(0x3F818000), 65520f, 1e-8f, Float.NaN};
        SafeTensor bf = SafeTensor.ofFloats(new int[]{6}, in, SafeDType.BF16), h = SafeTensor.ofFloats(new int[]{6}, in, SafeDType.F16);
        int[] bfBits = {0x3EAB, 0x3F80, 0x3F82, 0x4780, 0x322C};
        int[] hBits = {0x3555, 0x3C04, 0x3C0C, 0x7C00, 0x0000};   // 65520 rounds up to infinity, 1e-8 underflows to 0
        for (int i = 0; i < bfBits.length; i++) {
            assertEquals(bfBits[i], bf.bytes().getShort(2 * i) & 0xffff, "BF16 of " + in[i]);
            assertEquals(hBits[i], h.bytes().getShort(2 * i) & 0xffff, "F16 of " + in[i]);
        }
        assertTrue(Float.isNaN(bf.data()[5]) && Float.isNaN(h.data()[5]), "NaN stays NaN");

        Map<String, SafeTensor> ts = new LinkedHashMap<>();
        ts.put("h", h);
        ts.put("b", bf);
        ts.put("ids", SafeTensor.ofLongs(new int[]{2, 2}, new long[]{-1, 0, 1L << 40, Long.MAX_VALUE}, SafeDType.I64));
        ts.put("f", SafeTensor.ofFloats(new int[]{1}, new float[]{0.1f}, SafeDType.F32));
        Path p = dir.resolve("mixed.safetensors");
        SafeTensors.writeTensors(p, ts, Map.of("k", "v"));
        SafeTensors.Contents c = SafeTensors.read(p);
        assertEquals(SafeDType.F16, c.tensors().get("h").dtype());
        assertEquals(SafeDType.BF16, c.tensors().get("b").dtype());
        assertArrayEquals(h.data(), c.tensors().get("h").data());
        assertArrayEquals(new long[]{-1, 0, 1L << 40, Long.MAX_VALUE}, c.tensors().get("ids").longs());
        assertArrayEquals(new int[]{2, 2}, c.tensors().get("ids").shape());
        assertArrayEquals(new float[]{0.1f}, c.tensors().get("f").data());
    }

    @Test
    void readsF64AndTheIntegerTypes() {
        ByteBuffer d = ByteBuffer.allocate(8 + 8 + 4 + 2 + 2).order(ByteOrder.LITTLE_ENDIAN);
        d.putDouble(0.1).putLong(-5).putInt(70000).put((byte) 200).put((byte) 7).put((byte) 1).put((byte) 0);
        String h = "{\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"l\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[16,20]},"
                + "\"u\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[20,22]},"
                + "\"m\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[22,24]}}";
        Map<String, SafeTensor> t = SafeTensors.parse(file(h, d.array()), "t").tensors();
        assertArrayEquals(new float[]{0.1f}, t.get("d").data());
        assertArrayEquals(new long[]{-5}, t.get("l").longs());
        assertArrayEquals(new long[]{70000}, t.get("i").longs());
        assertArrayEquals(new long[]{200, 7}, t.get("u").longs());
        assertArrayEquals(new long[]{1, 0}, t.get("m").longs());
        assertThrows(IllegalStateException.class, () -> t.get("l").data(), "integers are not floats");
    }

    private static void bad(byte[] file, String... fragments) {
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.parse(file, "x.safetensors"));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
    }

    @Test
    void structuralChecksComeBeforeTheDtype() {
        for (String dtype : new String[]{"F16", "BF16", "F64", "I64", "U8", "Q4"}) {
            bad(file(one(dtype, "[4]", 0, 64), new byte[8]), "data_offsets [0, 64] are out of range: the data buffer has 8 bytes");
            var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.parse(file(one(dtype, "[1]", 0, 1), new byte[16]), "x"));
            assertFalse(e.getMessage().contains("not supported"), dtype + ": " + e.getMessage());
        }
        bad(file(one("Q4", "[8]", 0, 4), new byte[9]), "the tensors cover 4 of the 9 data bytes");
        bad(file(one("BF16", "[4]", 0, 8), new byte[9]), "the tensors cover 8 of the 9 data bytes");
        bad(file(one("Q4", "[8]", 0, 4), new byte[4]), "dtype 'Q4' is not supported");
    }

    @Test
    void theHeaderMustBeUtf8() {
        byte[] h = one("F32", "[1]", 0, 4).getBytes(StandardCharsets.UTF_8);
        h[2] = (byte) 0xff;                                            // the name "w"
        bad(file(h, new byte[4]), "bad header: not UTF-8 at file offset 10", "0xff");
    }

    @Test
    void importListsEveryMismatchAtOnce() {
        Transformer m = new Transformer(model(), 1);
        Map<String, SafeTensor> ts = new LinkedHashMap<>();
        for (var e : m.parameters().asMap().entrySet())
            ts.put(e.getKey(), SafeTensor.ofFloats(e.getValue().shape(), new float[e.getValue().numel()], SafeDType.BF16));
        ts.remove("lm_head");
        ts.put("extra.w", SafeTensor.ofFloats(new int[]{1}, new float[1], SafeDType.F32));
        ts.put("final_norm", SafeTensor.ofLongs(new int[]{3}, new long[3], SafeDType.I64));
        ts.put("layers.1.moe.router", SafeTensor.ofFloats(new int[]{4, 16}, new float[64], SafeDType.F16));
        Path p = dir.resolve("wrong.safetensors");
        SafeTensors.writeTensors(p, ts, null);
        float[] before = snapshot(m);
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.importInto(m.parameters(), p));
        for (String f : new String[]{"not found in the file: [lm_head]", "in the file but not in the model: [extra.w]",
                "tensor 'final_norm' is I64", "'final_norm' has shape [3], the model expects [16]", "'layers.1.moe.router' has shape [4, 16]"})
            assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
        assertSameBits(before, snapshot(m), "nothing copied");
    }

    @Test
    void importRefusesNonFiniteValuesNamingEachTensorAndItsCount() {
        Transformer m = new Transformer(model(), 1);
        Map<String, SafeTensor> ts = new LinkedHashMap<>();
        for (var e : m.parameters().asMap().entrySet()) {
            float[] v = e.getValue().toArray();
            if (e.getKey().equals("tok_emb")) { v[0] = Float.NaN; v[5] = Float.POSITIVE_INFINITY; }
            if (e.getKey().equals("final_norm")) v[3] = Float.NEGATIVE_INFINITY;
            ts.put(e.getKey(), SafeTensor.ofFloats(e.getValue().shape(), v, SafeDType.F32));
        }
        Path p = dir.resolve("nan.safetensors");
        SafeTensors.writeTensors(p, ts, null);
        Transformer fresh = new Transformer(model(), 2);
        float[] before = snapshot(fresh);
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.importInto(fresh.parameters(), p));
        int embed = m.parameters().asMap().get("tok_emb").numel();
        assertTrue(e.getMessage().contains("in 2 tensor(s)") && e.getMessage().contains("'tok_emb' 2 of " + embed)
                && e.getMessage().contains("'final_norm' 1 of 16"), e.getMessage());
        assertSameBits(before, snapshot(fresh), "nothing copied");
    }

    @Test
    void aBf16ExportImportsAsTheRoundedWeights() {
        Transformer a = new Transformer(model(), 1), b = new Transformer(model(), 2);
        Path p = dir.resolve("bf16.safetensors");
        SafeTensors.export(a.parameters(), p, null, SafeDType.BF16);
        SafeTensors.importInto(b.parameters(), p);
        for (var e : a.parameters().asMap().entrySet()) {
            Tensor got = b.parameters().asMap().get(e.getKey());
            float[] want = e.getValue().toArray(), have = got.toArray();
            for (int i = 0; i < want.length; i++) {
                float rounded = Float.intBitsToFloat((SafeDType.toBf16(want[i]) & 0xffff) << 16);
                assertEquals(rounded, have[i], e.getKey() + "[" + i + "]");
                assertEquals(want[i], have[i], Math.abs(want[i]) / 128, "within bf16 precision");
            }
        }
    }
}
