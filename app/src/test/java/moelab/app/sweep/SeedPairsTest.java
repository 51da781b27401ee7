package moelab.app.sweep;

import moelab.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SeedPairsTest {

    @Test
    void pairedDifferenceHasStudentTIntervalAndSeedStdMultiple() {
        // b - a per seed: {1, 2, 3}: mean 2, std 1, half-width t(0.975, 2) = 4.303 · 1 / sqrt 3
        SeedPairs.Diff d = SeedPairs.diff(new double[]{10, 20, 30}, new double[]{11, 22, 33});
        assertEquals(3, d.n());
        assertEquals(2.0, d.mean(), 1e-12);
        assertEquals(1.0, d.std(), 1e-12);
        assertEquals(2.0 - 4.303 / Math.sqrt(3), d.ciLow(), 1e-12);
        assertEquals(2.0 + 4.303 / Math.sqrt(3), d.ciHigh(), 1e-12);
        assertEquals(Math.sqrt((100 + 121) / 2.0), d.seedStd(), 1e-12);        // sd {10,20,30} = 10, sd {11,22,33} = 11
        assertEquals(2.0 / Math.sqrt(110.5), d.inSeedStds(), 1e-12);
        // a pair whose seeds move together: tiny paired std, interval excluding 0, although the seed std is large
        SeedPairs.Diff tight = SeedPairs.diff(new double[]{1.0, 2.0, 3.0, 4.0}, new double[]{1.1, 2.1, 3.11, 4.09});
        assertTrue(tight.ciLow() > 0, tight.text());
        assertTrue(tight.inSeedStds() < 0.1, tight.text());
    }

    @Test
    void nonFiniteSeedsAreLeftOutAndOneSeedHasNoInterval() {
        SeedPairs.Diff d = SeedPairs.diff(new double[]{1, Double.NaN}, new double[]{3, 5});
        assertEquals(1, d.n());
        assertEquals(2.0, d.mean(), 0);
        assertTrue(Double.isNaN(d.ciLow()) && Double.isNaN(d.seedStd()));
        assertEquals("+2.0000", d.text());
        assertNull(SeedPairs.diff(new double[]{Double.NaN}, new double[]{1}));
    }

    @Test
    void tQuantilesMatchTablesAndTheExpansionBeyondThem() {
        assertEquals(12.706, Stats.tQuantile975(1), 0);
        assertEquals(2.776, Stats.tQuantile975(4), 0);
        assertEquals(2.042, Stats.tQuantile975(30), 0);
        assertEquals(2.0395, Stats.tQuantile975(31), 5e-4);                     // table value 2.0395
        assertEquals(2.0086, Stats.tQuantile975(50), 5e-4);
        assertEquals(1.9840, Stats.tQuantile975(100), 5e-4);
        assertThrows(IllegalArgumentException.class, () -> Stats.tQuantile975(0));
    }

    @Test
    void namedPairsComeFirstAndListEveryKeyTheyDifferIn() {
        Map<String, List<RunResult>> byLabel = new LinkedHashMap<>();
        byLabel.put("lbl", List.of(run("lbl", 1, 2.0, Map.of("m", "lbl", "e", "32")), run("lbl", 2, 2.2, Map.of("m", "lbl", "e", "32"))));
        byLabel.put("none", List.of(run("none", 1, 2.1, Map.of("m", "none", "e", "32")), run("none", 2, 2.4, Map.of("m", "none", "e", "32"))));
        byLabel.put("dense", List.of(run("dense", 2, 2.5, Map.of("m", "none", "e", "0"))));
        List<SeedPairs.Pair> pairs = SeedPairs.of(byLabel, List.of(List.of("lbl", "dense"), List.of("none", "missing")));
        assertEquals(3, pairs.size());
        SeedPairs.Pair named = pairs.getFirst();
        assertTrue(named.named());
        assertEquals("dense", named.b());
        assertEquals(List.of(2L), named.seeds());                                // only seed 2 ran both
        assertEquals("e: 32 -> 0; m: lbl -> none", named.differs());
        assertEquals(0.3, named.diffs().get("val_loss").mean(), 1e-12);
        // then the one-key pairs: none - lbl (m) and dense - none (e)
        assertEquals(List.of("lbl:none", "none:dense"), pairs.subList(1, 3).stream().map(p -> p.a() + ":" + p.b()).toList());
        assertEquals(0.15, pairs.get(1).diffs().get("val_loss").mean(), 1e-12);
    }

    @Test
    void settingsOfASwitchedOffFeatureShowAsOff() {
        Map<String, String> lbl = Map.of("mar.enabled", "false", "mar.alpha", "0.5", "mar.entry", "token", "lr", "1");
        Map<String, String> mar = Map.of("mar.enabled", "true", "mar.alpha", "0.05", "mar.entry", "step_mean", "lr", "1");
        Map<String, String> lblOtherAlpha = Map.of("mar.enabled", "false", "mar.alpha", "0.25", "mar.entry", "token", "lr", "2");
        Map<String, List<RunResult>> byLabel = new LinkedHashMap<>();
        byLabel.put("lbl", List.of(run("lbl", 1, 2.0, lbl)));
        byLabel.put("mar", List.of(run("mar", 1, 2.1, mar)));
        byLabel.put("lbl2", List.of(run("lbl2", 1, 2.2, lblOtherAlpha)));
        List<SeedPairs.Pair> pairs = SeedPairs.of(byLabel, List.of(List.of("lbl", "mar"), List.of("lbl", "lbl2")));
        assertEquals("mar.alpha: (off) -> 0.05; mar.enabled: false -> true; mar.entry: (off) -> step_mean", pairs.get(0).differs());
        assertEquals("lr: 1 -> 2", pairs.get(1).differs(), "an unused setting that differs is not a difference");
        assertEquals("0.5", SeedPairs.effective(Map.of("mar.enabled", "true", "mar.alpha", "0.5"), "mar.alpha"));
        assertEquals("false", SeedPairs.effective(lbl, "mar.enabled"));
    }

    @Test
    void aConfigKeyARunPredatesReadsAsItsDefault() {
        // the older run's identity lacks ba_solver (the engine gained the key later); its bundled default is flow
        Map<String, String> old = Map.of("model.moe.balance.method", "lbl");
        Map<String, String> flow = Map.of("model.moe.balance.method", "ba", "model.moe.balance.ba_solver", "flow");
        Map<String, String> auction = Map.of("model.moe.balance.method", "ba", "model.moe.balance.ba_solver", "auction");
        Map<String, List<RunResult>> byLabel = new LinkedHashMap<>();
        byLabel.put("lbl", List.of(run("lbl", 1, 2.0, old)));
        byLabel.put("flow", List.of(run("flow", 1, 2.1, flow)));
        byLabel.put("auction", List.of(run("auction", 1, 2.2, auction)));
        List<SeedPairs.Pair> pairs = SeedPairs.of(byLabel, List.of(List.of("lbl", "flow"), List.of("lbl", "auction")));
        assertEquals("model.moe.balance.method: lbl -> ba", pairs.get(0).differs());
        assertEquals("model.moe.balance.ba_solver: flow -> auction; model.moe.balance.method: lbl -> ba", pairs.get(1).differs());
    }

    @Test
    void compareMustNameTwoLabelsOfTheSweep(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
        String base = "name: s\nconfig: default\nseeds: [1]\ngrid:\n  - model.moe.balance.method: [lbl, none]\n";
        ConfigException e = assertThrows(ConfigException.class, () -> SweepFile.parse("s.yaml", base + "compare: [[lbl]]\n"));
        assertTrue(e.getMessage().contains("compare[0]") && e.getMessage().contains("pair of configuration labels"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> SweepFile.parse("s.yaml", base + "compare: [[lbl, lbl]]\n"));
        assertTrue(e.getMessage().contains("with itself"), e.getMessage());
        assertEquals(List.of(List.of("lbl", "none")), SweepFile.parse("s.yaml", base + "compare: [[lbl, none]]\n").compare());
        e = assertThrows(ConfigException.class, () -> SweepTest.plan(base + "compare: [[lbl, global]]\n", tmp));
        assertTrue(e.getMessage().contains("compare[0]: 'global' is not a configuration label of this sweep; labels: lbl, none"), e.getMessage());
    }

    private static RunResult run(String label, long seed, double loss, Map<String, String> identity) {
        Map<String, Double> v = new LinkedHashMap<>();
        v.put("val_loss", loss);
        return new RunResult(label + "-s" + seed, label, seed, 4, 1.0, v, identity);
    }
}
