package moelab.data;

import moelab.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** data.domains: training batches from a subset of the domains, indices unchanged. */
class TrainDomainsTest {
    static DataConfig cfg(List<String> domains) {
        return new DataConfig("d", "byte", 4096, 0, 0.05, "random", true, 0, domains);
    }

    @Test
    void maskFollowsTheNamesAndUnknownNamesAreConfigErrors() {
        List<String> corpus = List.of("de", "en", "fr");
        assertNull(cfg(List.of()).trainDomainMask(corpus), "empty = all");
        assertNull(cfg(null).trainDomainMask(corpus), "null = all");
        assertArrayEquals(new boolean[]{false, false, true}, cfg(List.of("fr")).trainDomainMask(corpus));
        ConfigException e = assertThrows(ConfigException.class, () -> cfg(List.of("xx")).trainDomainMask(corpus));
        assertEquals("data.domains", e.key());
        assertTrue(e.getMessage().contains("de, en, fr"), e.getMessage());
        assertEquals("data.domains", assertThrows(ConfigException.class, () -> cfg(List.of(" "))).key());
    }

    @Test
    void batchesComeOnlyFromTheSelectedDomainsWithTheirOwnIndex() {
        TokenizedCorpus c = BatcherTest.corpus(2000, 3000, 1500);
        for (String comp : new String[]{"random", "domain_homogeneous"}) {
            Batcher bt = new Batcher(c, BatcherTest.B, BatcherTest.S, comp, 7, new boolean[]{false, true, false});
            for (int i = 0; i < 300; i++) {
                Batch b = bt.next();
                for (int[] seq : BatcherTest.check(b)) assertEquals(1, seq[0], comp);
            }
        }
        // with every domain selected the batches are those of the unrestricted batcher
        Batcher all = new Batcher(c, BatcherTest.B, BatcherTest.S, "random", 7);
        Batcher masked = new Batcher(c, BatcherTest.B, BatcherTest.S, "random", 7, new boolean[]{true, true, true});
        for (int i = 0; i < 50; i++) assertArrayEquals(all.next().inputs(), masked.next().inputs());
    }

    @Test
    void aStateFromAnotherSelectionIsRefused() {
        TokenizedCorpus c = BatcherTest.corpus(2000, 3000, 1500);
        byte[] state = new Batcher(c, BatcherTest.B, BatcherTest.S, "random", 7, new boolean[]{true, false, false}).saveState();
        Batcher other = new Batcher(c, BatcherTest.B, BatcherTest.S, "random", 7, new boolean[]{false, true, false});
        assertTrue(assertThrows(IllegalArgumentException.class, () -> other.restoreState(state)).getMessage().contains("data.domains"));
        assertThrows(IllegalArgumentException.class, () -> new Batcher(c, 4, 16, "random", 7, new boolean[3]));
    }
}
