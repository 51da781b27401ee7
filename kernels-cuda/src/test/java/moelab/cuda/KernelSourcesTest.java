package moelab.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Java side and kernels-cuda/src/main/cuda agree on the kernel names (no GPU needed): every kernel the
 * context looks up is defined extern "C" in moelab_kernels.cu and documented in moelab_cuda.h, and
 * no kernel is defined that the context does not know.
 */
class KernelSourcesTest {
    private static final Path DIR = Path.of("src", "main", "cuda");

    @Test
    void contextKnowsExactlyTheKernelsOfTheSource() throws IOException {
        String cu = Files.readString(DIR.resolve("moelab_kernels.cu"));
        TreeSet<String> defined = new TreeSet<>();
        Matcher m = Pattern.compile("extern \"C\" __global__ void(?: __launch_bounds__\\([^)]*\\))?\\s+(moe_\\w+)\\(").matcher(cu);
        while (m.find()) defined.add(m.group(1));
        Matcher macro = Pattern.compile("SGEMM_KERNEL\\((moe_\\w+),").matcher(cu);
        while (macro.find()) defined.add(macro.group(1));
        assertEquals(new TreeSet<>(CudaContext.KERNELS), defined, "kernels in moelab_kernels.cu vs CudaContext.KERNELS");
    }

    @Test
    void headerDocumentsEveryKernel() throws IOException {
        String h = Files.readString(DIR.resolve("moelab_cuda.h"));
        List<String> missing = new ArrayList<>();
        for (String k : CudaContext.KERNELS) {
            String doc = k.startsWith("moe_sgemm_") ? "moe_sgemm_{nn,nt,tn,tt}" : k + "(";
            if (!h.contains(doc)) missing.add(k);
        }
        assertTrue(missing.isEmpty(), "moelab_cuda.h does not document " + missing);
    }
}
