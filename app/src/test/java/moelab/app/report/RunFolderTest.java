package moelab.app.report;

import moelab.app.config.ConfigLoader;
import moelab.app.config.RunConfig;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import moelab.nn.Transformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class RunFolderTest {
    @Test
    void namedByRunNameAndTimeWithASuffixWhenTaken(@TempDir Path tmp) {
        Clock clock = Clock.fixed(Instant.parse("2025-03-04T05:06:07Z"), ZoneOffset.UTC);
        RunFolder a = RunFolder.create("exp", tmp, null, clock);
        RunFolder b = RunFolder.create("exp", tmp, null, clock);
        assertEquals(tmp.resolve("exp-20250304-050607"), a.dir());
        assertEquals(tmp.resolve("exp-20250304-050607-2"), b.dir());
        assertTrue(Files.isDirectory(a.dir()));
    }

    @Test
    void configIsWrittenAndAnExistingRunIsNotOverwritten(@TempDir Path tmp) {
        RunConfig cfg = ConfigLoader.load(null, List.of("train.steps=77"));
        RunFolder f = RunFolder.create("x", tmp, tmp.resolve("mine"), Clock.systemUTC());
        f.writeConfig(ConfigLoader.toYaml(cfg));
        assertEquals(cfg, ConfigLoader.fromYaml(RunFolder.open(f.dir()).readConfig()));
        assertFalse(Files.exists(f.dir().resolve("config.yaml.tmp")));
        var e = assertThrows(IllegalArgumentException.class, () -> RunFolder.create("x", tmp, tmp.resolve("mine"), Clock.systemUTC()));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RunFolder.open(tmp));
    }

    @Test
    void checkpointsKnowTheirRunFolder(@TempDir Path tmp) throws Exception {
        RunFolder f = RunFolder.create("x", tmp, tmp.resolve("r"), Clock.systemUTC());
        f.writeConfig("run: {}\n");
        Path ckpt = f.checkpointsDir().resolve("step-100.ckpt");
        Files.writeString(ckpt, "x");
        assertEquals(f.dir().toAbsolutePath(), RunFolder.ofCheckpoint(ckpt));
        assertNull(RunFolder.ofCheckpoint(tmp.resolve("elsewhere.ckpt")));
    }

    @Test
    void parameterCountMatchesTheModel() {
        List<ModelConfig> configs = List.of(
                ConfigLoader.load(null, List.of()).model(),
                new ModelConfig(17, 8, 2, 3, 12, 16, true, 1e4, 1e-5f, 0.1, MoeConfig.defaults(4, 2, 6).withSharedExperts(1).withLayers("every:2")),
                new ModelConfig(17, 8, 2, 2, 12, 16, false, 1e4, 1e-5f, 0.1, null));
        for (ModelConfig c : configs) {
            Transformer m = new Transformer(c, 1);
            ParamCount pc = ParamCount.of(c);
            assertEquals(m.parameters().count(), pc.total(), c.toString());
            long experts = 0;
            for (var e : m.parameters().asMap().entrySet())
                if (e.getKey().matches("layers\\.\\d+\\.moe\\.w[123]")) experts += e.getValue().numel();
            long perExpertTotal = c.moe() == null ? 0 : experts / c.moe().experts();
            long expected = c.moe() == null ? pc.total() : pc.total() - experts + perExpertTotal * c.moe().topK();
            assertEquals(expected, pc.activePerToken(), c.toString());
        }
    }
}
