package moelab;

import moelab.data.ByteTokenizer;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import moelab.nn.Transformer;
import moelab.ops.CrossEntropy;
import moelab.ops.Elementwise;
import moelab.routing.RoutingRecord;
import moelab.routing.TokenInfo;
import moelab.tensor.Tensor;
import moelab.train.AdamW;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** The README's embedding example, verbatim between the markers, so it keeps compiling and working. */
class ReadmeExampleTest {
    @Test
    void readmeExampleTrainsAStepAndExposesRouting() {
        // --- README example start ---
        ModelConfig cfg = new ModelConfig(256, 64, 4, 2, 256, 64, false, 10000, 1e-5f, 0.02,
                MoeConfig.defaults(8, 2, 128));                       // vocab, d, heads, layers, d_ff, max seq, ...
        Transformer model = new Transformer(cfg, 42);
        AdamW opt = new AdamW(model.parameters(), 0.9f, 0.95f, 1e-8f, 0.1f);
        int[] tokens = new ByteTokenizer().encode("the quick brown fox jumps over the lazy dog");
        int n = tokens.length - 1;
        Transformer.Output out = model.forward(Arrays.copyOf(tokens, n), TokenInfo.of(1, n), true);
        Tensor loss = Elementwise.add(CrossEntropy.crossEntropy(out.logits(), Arrays.copyOfRange(tokens, 1, n + 1)),
                out.auxLoss());
        model.parameters().zeroGrad();
        loss.backward();
        opt.step(1e-3f);
        RoutingRecord layer0 = out.routing().get(0);                   // experts chosen per token, kept routes, probabilities
        // --- README example end ---
        assertEquals(n * 2, layer0.selected().length);
        assertEquals(2, out.routing().size());
        assertTrue(loss.item() > 5 && loss.item() < 6, "about ln 256 at init: " + loss.item());
        float before = loss.item();
        Transformer.Output again = model.forward(Arrays.copyOf(tokens, n), TokenInfo.of(1, n), true);
        assertTrue(CrossEntropy.crossEntropy(again.logits(), Arrays.copyOfRange(tokens, 1, n + 1)).item() < before);
    }

    /** The README shows exactly the lines between the markers above (indentation aside). */
    @Test
    void readmeShowsThisExample() throws Exception {
        String test = Files.readString(Path.of("src/test/java/moelab/ReadmeExampleTest.java"));
        String readme = Files.readString(Path.of("../README.md"));
        String body = test.substring(test.indexOf("// --- README example start ---") + 31, test.indexOf("// --- README example end ---"));
        int from = readme.indexOf("```java");
        String shown = readme.substring(from, readme.indexOf("```", from + 7));
        for (String line : body.strip().split("\n"))
            assertTrue(shown.contains(line.strip()), "README example lacks the line: " + line.strip());
    }
}
