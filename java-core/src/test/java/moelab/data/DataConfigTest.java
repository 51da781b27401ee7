package moelab.data;

import moelab.config.ConfigException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class DataConfigTest {
    @Test
    void defaultsAreValid() {
        DataConfig c = DataConfig.defaults("data/testbed");
        assertEquals("byte", c.tokenizer());
        assertFalse(c.domainHomogeneous());
    }

    private static ConfigException bad(String path, String tok, int vocab, long sample, double val, String comp, long maxBytes) {
        return assertThrows(ConfigException.class, () -> new DataConfig(path, tok, vocab, sample, val, comp, true, maxBytes));
    }

    @Test
    void errorsNameTheKeyAndTheAllowedValues() {
        ConfigException e = bad("d", "wordpiece", 8192, 0, 0.05, "random", 0);
        assertEquals("data.tokenizer", e.key());
        assertTrue(e.getMessage().contains("byte, bpe"), e.getMessage());
        e = bad("d", "bpe", 8192, 0, 0.05, "mixed", 0);
        assertEquals("data.composition", e.key());
        assertTrue(e.getMessage().contains("random, domain_homogeneous"), e.getMessage());
        assertEquals("data.bpe_vocab", bad("d", "bpe", 256, 0, 0.05, "random", 0).key());
        assertEquals("data.bpe_vocab", bad("d", "bpe", 70000, 0, 0.05, "random", 0).key());
        assertEquals("data.val_fraction", bad("d", "bpe", 4096, 0, 0.6, "random", 0).key());
        assertEquals("data.val_fraction", bad("d", "bpe", 4096, 0, -0.1, "random", 0).key());
        assertEquals("data.path", bad(" ", "bpe", 4096, 0, 0.05, "random", 0).key());
        assertEquals("data.bpe_sample_bytes", bad("d", "bpe", 4096, -1, 0.05, "random", 0).key());
        assertEquals("data.max_bytes_per_domain", bad("d", "bpe", 4096, 0, 0.05, "random", -5).key());
    }
}
