package moelab.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The header is the source of truth: every prototype in moelab_kernels.h must have a binding in
 * {@link moelab_kernels_h} whose FunctionDescriptor has the same return and parameter types, and
 * every binding must have a prototype. Needs no library (descriptors only).
 */
class MoelabKernelsHeaderTest {
    static final Path HEADER = Path.of("src/main/c/moelab_kernels.h");
    /** `ret name(params);` on one line, for the library's functions */
    private static final Pattern PROTOTYPE = Pattern.compile("^\\s*([A-Za-z_][\\w\\s]*?[\\s*]+)(moelab_\\w+)\\s*\\(([^)]*)\\)\\s*;", Pattern.MULTILINE);

    /** The C type of a return value or parameter (name removed) as an FFM layout; null for void. */
    static MemoryLayout layoutOf(String cType, String context) {
        String t = cType.replace("const", " ").replaceAll("\\s+", " ").trim();
        if (t.contains("*")) return ValueLayout.ADDRESS;
        return switch (t) {
            case "void" -> null;
            case "int" -> ValueLayout.JAVA_INT;
            case "float" -> ValueLayout.JAVA_FLOAT;
            case "long long", "int64_t" -> ValueLayout.JAVA_LONG;
            default -> throw new AssertionError(context + ": C type '" + cType + "' has no mapping in this test");
        };
    }

    /** Strips the parameter name: "const float *a" -> "const float *". */
    static String typeOfParam(String param) {
        String p = param.trim();
        Matcher m = Pattern.compile("^(.*?[\\s*])([A-Za-z_]\\w*)$").matcher(p);
        return m.matches() ? m.group(1) : p;
    }

    static Map<String, FunctionDescriptor> parseHeader(String text) {
        Map<String, FunctionDescriptor> out = new LinkedHashMap<>();
        Matcher m = PROTOTYPE.matcher(text);
        while (m.find()) {
            String name = m.group(2), params = m.group(3).trim();
            MemoryLayout ret = layoutOf(m.group(1), name + " return");
            List<MemoryLayout> args = new ArrayList<>();
            if (!params.isEmpty() && !params.equals("void"))
                for (String p : params.split(",")) args.add(layoutOf(typeOfParam(p), name + " parameter '" + p.trim() + "'"));
            MemoryLayout[] a = args.toArray(MemoryLayout[]::new);
            out.put(name, ret == null ? FunctionDescriptor.ofVoid(a) : FunctionDescriptor.of(ret, a));
        }
        return out;
    }

    @Test
    void everyHeaderPrototypeMatchesItsJavaDescriptor() throws Exception {
        Map<String, FunctionDescriptor> header = parseHeader(Files.readString(HEADER));
        assertTrue(header.size() >= 9, "parsed only " + header.keySet() + " from " + HEADER.toAbsolutePath());
        for (Map.Entry<String, FunctionDescriptor> e : header.entrySet()) {
            Method m;
            try {
                m = moelab_kernels_h.class.getMethod(e.getKey() + "$descriptor");
            } catch (NoSuchMethodException ex) {
                fail("header declares " + e.getKey() + " but moelab_kernels_h has no binding for it");
                return;
            }
            FunctionDescriptor java = (FunctionDescriptor) m.invoke(null);
            assertEquals(e.getValue().returnLayout(), java.returnLayout(), e.getKey() + ": return type");
            assertEquals(e.getValue().argumentLayouts(), java.argumentLayouts(), e.getKey() + ": parameter types (header vs Java)");
        }
        TreeSet<String> bound = new TreeSet<>();
        for (Method m : moelab_kernels_h.class.getMethods())
            if (m.getName().endsWith("$descriptor")) bound.add(m.getName().substring(0, m.getName().length() - "$descriptor".length()));
        assertEquals(new TreeSet<>(header.keySet()), bound, "functions bound in Java vs declared in " + HEADER);
    }

    /** Every kernel of the header is in the library once per ISA copy (name_avx2, name_avx512); the ISA-independent ones once, unsuffixed. */
    @Test
    void theLibraryExportsEveryKernelForEachIsa() throws Exception {
        NativeLibrary.Loaded lib = NativeLibrary.moelab();
        org.junit.jupiter.api.Assumptions.assumeTrue(lib.ok(), () -> "libmoelab.so not loaded: " + lib.unavailableReason());
        Map<String, FunctionDescriptor> header = parseHeader(Files.readString(HEADER));
        boolean has512 = moelab_kernels_h.hasCopy(NativeIsa.AVX512);
        assertTrue(has512, "this gcc builds the AVX-512 copy: it must be in the library");
        for (String name : header.keySet()) {
            if (moelab_kernels_h.UNSUFFIXED.contains(name)) {
                assertTrue(lib.lookup().find(name).isPresent(), name + " missing from the library");
                continue;
            }
            assertFalse(lib.lookup().find(name).isPresent(), name + " is exported without an ISA suffix: isa.h lacks its #define");
            for (NativeIsa isa : NativeIsa.values())
                assertTrue(lib.lookup().find(name + isa.suffix).isPresent(), name + isa.suffix + " missing from the library");
        }
    }

    @Test
    void theParserSeesTypesItCanMisread() {
        Map<String, FunctionDescriptor> d = parseHeader("""
                /* comment: moelab_nothing(int x); is not at a line start */
                void moelab_a(const unsigned char *flags, float*y, int n);
                int moelab_b(void);
                """);
        assertEquals(FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), d.get("moelab_a"));
        assertEquals(FunctionDescriptor.of(ValueLayout.JAVA_INT), d.get("moelab_b"));
        assertFalse(d.containsKey("moelab_nothing"));
        assertEquals(2, d.size());
    }

    @Test
    void headerIsReadable() throws IOException {
        assertTrue(Files.readString(HEADER).contains("#ifndef MOELAB_KERNELS_H"));
    }
}
