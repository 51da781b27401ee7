package moelab.app.sweep;

import moelab.app.Main;
import moelab.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** A sweep's extra columns are checked against what its runs report before anything runs. */
class SweepColumnsTest {
    @Test
    void theBundledSweepsColumnsAreAllReported(@TempDir Path tmp) {
        for (String name : SweepCommand.NAMED) {
            SweepFile f = SweepFile.parse(name, SweepCommand.resource("/sweeps/" + name + ".yaml"));
            assertDoesNotThrow(() -> SweepColumns.check(SweepPlan.expand(f, null, List.of(), tmp)), name);
        }
    }

    @Test
    void aTypoIsRefusedNamingTheColumnAndWhatIsReported(@TempDir Path tmp) throws Exception {
        String yaml = """
                name: typo
                set: {model.d_model: 16, model.heads: 2, model.layers: 2, model.moe.experts: 4, model.moe.d_ff: 8}
                seeds: [1]
                columns: [layer0.purity, layer0.purty]
                grid:
                  - model.moe.top_k: [1]
                """;
        SweepPlan plan = SweepPlan.expand(SweepFile.parse("typo.yaml", yaml), null, List.of(), tmp);
        ConfigException e = assertThrows(ConfigException.class, () -> SweepColumns.check(plan));
        assertTrue(e.getMessage().startsWith("sweep typo: columns: 'layer0.purty' is not reported by any run of this sweep"), e.getMessage());
        assertTrue(e.getMessage().contains("layer0.purity, "), e.getMessage());
        assertFalse(e.getMessage().contains("'layer0.purity'"), "a good column is not named: " + e.getMessage());

        Path file = Files.writeString(tmp.resolve("typo.yaml"), yaml);
        SweepTest.Run r = SweepTest.run("sweep", file.toString(), "--out", tmp.resolve("out").toString());
        assertEquals(Main.EXIT_USAGE, r.exit(), r.err());
        assertTrue(r.err().contains("'layer0.purty' is not reported"), r.err());
        assertFalse(Files.exists(tmp.resolve("out/typo/runs")), "nothing ran");
    }
}
