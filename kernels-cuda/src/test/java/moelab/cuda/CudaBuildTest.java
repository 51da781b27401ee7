package moelab.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import moelab.kernels.Backends;
import moelab.kernels.KernelsProvider;
import org.junit.jupiter.api.Test;

/**
 * Checks that need no GPU: the fatbin is on the class path exactly when the build found nvcc, it
 * holds sm_80 and sm_90 machine code and compute_90 PTX with every kernel, and the back end
 * reports itself unavailable (with the reason) instead of failing where there is no GPU.
 */
class CudaBuildTest {

    /** One entry of a fatbin container: kind 1 = PTX, 2 = ELF (cubin); arch e.g. 80 for sm_80. */
    record Entry(int kind, int arch, int offset, int size) {}

    /**
     * The fatbin container layout, as nvcc 13 writes it (read off the files it produces): a 16-byte
     * header (magic 0xBA55ED50, u16 version, u16 header size, u64 payload size), then entries of
     * u16 kind, u16 version, u32 entry header size, u64 payload size, ..., u32 arch at +28.
     */
    static List<Entry> entries(byte[] fat) {
        ByteBuffer b = ByteBuffer.wrap(fat).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xBA55ED50, b.getInt(0), "fatbin magic");
        int headerSize = Short.toUnsignedInt(b.getShort(6));
        long payload = b.getLong(8);
        assertEquals(fat.length, headerSize + payload, "fatbin size in its header");
        List<Entry> list = new ArrayList<>();
        long o = headerSize;
        while (o < headerSize + payload) {
            int at = Math.toIntExact(o);
            int kind = Short.toUnsignedInt(b.getShort(at)), ehs = b.getInt(at + 4), arch = b.getInt(at + 28);
            long size = b.getLong(at + 8);
            list.add(new Entry(kind, arch, at + ehs, Math.toIntExact(size)));
            o += ehs + size;
        }
        return list;
    }

    static int count(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) n++;
        return n;
    }

    @Test
    void fatbinIsPresentExactlyWhenNvccWas() {
        Properties info = Cuda.buildInfo();
        String nvcc = info.getProperty("nvcc");
        assertNotNull(nvcc, "build-info.properties missing: kernels-cuda/src/main/cuda/build.sh did not run in the build");
        byte[] fat = Cuda.fatbin();
        if (nvcc.equals("absent")) {
            assertNull(fat, "no nvcc at build time, yet a fatbin is on the class path (left from an earlier build? mvn clean)");
            assertTrue(Cuda.unavailableReason().startsWith("no fatbin"), Cuda.unavailableReason());
            return;
        }
        assertEquals("present", nvcc);
        assertNotNull(fat, "nvcc was present at build time but " + Cuda.FATBIN + " is not on the class path");
        List<Entry> entries = entries(fat);
        List<String> kinds = new ArrayList<>();
        for (Entry e : entries) kinds.add((e.kind() == 1 ? "ptx_" : e.kind() == 2 ? "sm_" : "kind" + e.kind() + "_") + e.arch());
        assertTrue(kinds.containsAll(List.of("sm_80", "sm_90", "ptx_90")), "fatbin entries " + kinds + ", want sm_80, sm_90 and ptx_90");
        for (Entry e : entries) {
            String body = new String(fat, e.offset(), e.size(), StandardCharsets.ISO_8859_1);
            for (String k : CudaContext.KERNELS) {
                String mark = e.kind() == 1 ? ".entry " + k + "(" : ".text." + k + "\0";
                assertTrue(body.contains(mark), "kernel " + k + " missing from the " + (e.kind() == 1 ? "PTX" : "sm_" + e.arch()) + " entry");
            }
        }
    }

    @Test
    void providerIsRegisteredAndSaysWhyItCannotRun() {
        KernelsProvider cuda = null;
        for (KernelsProvider p : Backends.providers()) if (p.name().equals("cuda")) cuda = p;
        assertNotNull(cuda, "the cuda provider is not registered in META-INF/services");
        if (cuda.isAvailable()) {
            assertNull(cuda.unavailableReason());
            return;
        }
        String why = cuda.unavailableReason();
        assertTrue(why.startsWith("no fatbin") || why.startsWith("no libcuda") || why.startsWith("no device")
                || why.startsWith("no usable driver"), "reason should name what is missing: " + why);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.create("cuda", 1));
        assertTrue(e.getMessage().contains(why), e.getMessage());
        assertFalse(Backends.availableNames().contains("cuda"));
        assertTrue(Backends.availableNames().contains("scalar"), "the other back ends stay available");
    }
}
