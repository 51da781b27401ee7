package moelab.app.lm;

import moelab.tensor.NoGrad;
import moelab.nn.Transformer;
import moelab.routing.TokenInfo;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class GeneratorTest {
    @Test
    void greedyTakesTheArgmaxAndSlidesTheWindow() {
        Transformer m = new Transformer(InspectorTest.tiny(false, "all"), 5);
        Generator.Result r = Generator.generate(m, InspectorTest.BYTES, "hello", 10, 0, 0, 1);
        assertEquals(15, r.ids().length, "5 prompt tokens + 10 new, beyond max_seq_len 12");
        assertEquals(5, r.promptLength());
        assertEquals(10, r.text().length());
        // check two positions by hand: the first new token and the last one (context = last 12 tokens)
        for (int n : new int[]{5, 14}) {
            int[] ctx = Arrays.copyOfRange(r.ids(), Math.max(0, n - 12), n);
            float[] logits;
            try (var _ = NoGrad.enter()) {
                logits = m.forward(ctx, TokenInfo.of(1, ctx.length), false).logits().toArray();
            }
            int best = 0, off = (ctx.length - 1) * 256;
            for (int i = 1; i < 256; i++) if (logits[off + i] > logits[off + best]) best = i;
            assertEquals(best, r.ids()[n], "token " + n);
        }
    }

    @Test
    void samplingIsSeeded() {
        Transformer m = new Transformer(InspectorTest.tiny(false, "all"), 5);
        Generator.Result a = Generator.generate(m, InspectorTest.BYTES, "x", 8, 1.0, 0, 42);
        Generator.Result b = Generator.generate(m, InspectorTest.BYTES, "x", 8, 1.0, 0, 42);
        assertArrayEquals(a.ids(), b.ids());
        boolean differs = false;
        for (long seed = 1; seed < 6 && !differs; seed++)
            differs = !Arrays.equals(a.ids(), Generator.generate(m, InspectorTest.BYTES, "x", 8, 1.0, 0, seed).ids());
        assertTrue(differs, "an untrained model at temperature 1 samples different texts for different seeds");
    }

    @Test
    void topKRestrictsTheChoice() {
        float[] logits = {0f, 5f, 4.9f, -1f, 3f};
        Random rng = new Random(1);
        int[] seen = new int[5];
        for (int i = 0; i < 2000; i++) seen[Generator.sample(logits, 0, 5, 1.0, 2, rng)]++;
        assertEquals(0, seen[0] + seen[3] + seen[4]);
        assertTrue(seen[1] > 800 && seen[2] > 800, Arrays.toString(seen));
        assertEquals(1, Generator.sample(logits, 0, 5, 0, 0, rng));
        // at a low temperature the largest logit wins almost always
        int top = 0;
        for (int i = 0; i < 200; i++) if (Generator.sample(logits, 0, 5, 0.01, 0, rng) == 1) top++;
        assertTrue(top >= 199, "top " + top);
    }

    @Test
    void badArgumentsAreNamed() {
        Transformer m = new Transformer(InspectorTest.tiny(false, "all"), 5);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Generator.generate(m, InspectorTest.BYTES, "", 3, 1, 0, 1))
                .getMessage().contains("--prompt"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Generator.generate(m, InspectorTest.BYTES, "a", 3, -1, 0, 1))
                .getMessage().contains("--temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Generator.generate(m, InspectorTest.BYTES, "a", -3, 1, 0, 1))
                .getMessage().contains("--tokens"));
    }
}
