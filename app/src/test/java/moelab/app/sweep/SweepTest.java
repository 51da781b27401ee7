package moelab.app.sweep;

import moelab.app.Main;
import picocli.CommandLine;
import moelab.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SweepTest {
    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        java.io.StringWriter out = new java.io.StringWriter(), err = new java.io.StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    static SweepPlan plan(String yaml, Path out) {
        return SweepPlan.expand(SweepFile.parse("test.yaml", yaml), null, List.of(), out);
    }

    @Test
    void gridIsTheUnionOfCartesianProductsTimesSeeds(@TempDir Path tmp) {
        SweepPlan p = plan("""
                name: g
                seeds: [3, 5]
                set: {train.steps: 700}
                grid:
                  - model.moe.balance.method: [lbl, none]
                    model.moe.balance.scope: [sequence, global]
                  - label: "cf{model.moe.capacity_factor}"
                    model.moe.capacity_factor: [1.0, 2]
                """, tmp);
        assertEquals(List.of("lbl-sequence", "lbl-global", "none-sequence", "none-global", "cf1.0", "cf2"), p.labels());
        assertEquals(12, p.runs().size());
        SweepPlan.Run r = p.runs().get(1);
        assertEquals("lbl-sequence-s5", r.id());
        assertEquals(5, r.config().train().seed());
        assertEquals(700, r.config().train().steps());
        assertEquals("sequence", r.config().model().moe().balance().scope().toString());
        assertEquals("lbl-sequence-s5", r.config().run().name());
        assertEquals(2.0, p.runs().get(11).config().model().moe().capacityFactor(), 0);
        assertEquals(tmp.resolve("g/runs/cf2-s5"), p.runs().get(11).dir(p.root()));
    }

    @Test
    void validationNamesGroupKeyAndValueBeforeRunningAnything(@TempDir Path tmp) {
        ConfigException e = assertThrows(ConfigException.class, () -> plan("""
                name: v
                seeds: [1]
                grid:
                  - model.moe.balance.method: [lbl]
                  - label: "x-{model.moe.balance.method}"
                    model.moe.balance.method: [lbl, bogus]
                  - model.moe.no_such_key: [1]
                """, tmp));
        String m = e.getMessage();
        assertTrue(m.contains("grid group 2") && m.contains("model.moe.balance.method=bogus"), m);
        assertTrue(m.contains("grid group 3") && m.contains("model.moe.no_such_key"), m);
        assertFalse(Files.exists(tmp.resolve("v")), "nothing may be written before validation passes");
        ConfigException dup = assertThrows(ConfigException.class, () -> plan("""
                name: v
                seeds: [1]
                grid:
                  - {label: a, train.steps: [1]}
                  - {label: a, train.steps: [2]}
                """, tmp));
        assertTrue(dup.getMessage().contains("label 'a'"), dup.getMessage());
        ConfigException seeds = assertThrows(ConfigException.class, () -> SweepFile.parse("s.yaml", "name: x\nseeds: [1.5]\ngrid: [{train.steps: 1}]"));
        // YAML syntax errors and aliases: one line with the file and the position the parser names
        ConfigException tab = assertThrows(ConfigException.class, () -> SweepFile.parse("t.yaml", "name: x\nseeds: [1]\n\tgrid: []"));
        assertTrue(tab.getMessage().startsWith("t.yaml") && tab.getMessage().contains("line 3") && !tab.getMessage().contains("\n"),
                tab.getMessage());
        ConfigException alias = assertThrows(ConfigException.class,
                () -> SweepFile.parse("a.yaml", "name: &n x\nseeds: [1]\nconfig: *n\ngrid: [{train.steps: 1}]"));
        assertTrue(alias.getMessage().contains("alias"), alias.getMessage());
        assertTrue(seeds.getMessage().contains("seeds"), seeds.getMessage());
    }

    @Test
    void initFromRunsComeAfterTheirSourceWithTheSameSeed(@TempDir Path tmp) {
        SweepPlan p = plan("""
                name: ft
                seeds: [1, 2]
                grid:
                  - label: "ft-{model.moe.balance.method}"
                    init_from: "base-{model.moe.balance.method}"
                    model.moe.balance.method: [lbl, none]
                  - label: "base-{model.moe.balance.method}"
                    model.moe.balance.method: [lbl, none]
                """, tmp);
        assertEquals(List.of("base-lbl", "base-none", "ft-lbl", "ft-none"), p.labels());
        SweepPlan.Run ft = p.runs().stream().filter(r -> r.id().equals("ft-none-s2")).findFirst().orElseThrow();
        assertEquals("base-none-s2", ft.initFrom());
        assertEquals(tmp.resolve("ft/runs/base-none-s2").toString(), ft.config().run().initFrom());
        ConfigException cyc = assertThrows(ConfigException.class, () -> plan("""
                name: c
                seeds: [1]
                grid:
                  - {label: a, init_from: b, train.steps: [1]}
                  - {label: b, init_from: a, train.steps: [2]}
                """, tmp));
        assertTrue(cyc.getMessage().contains("cycle"), cyc.getMessage());
        ConfigException unknown = assertThrows(ConfigException.class, () -> plan("""
                name: c
                seeds: [1]
                grid: [{label: a, init_from: zz, train.steps: [1]}]
                """, tmp));
        assertTrue(unknown.getMessage().contains("init_from 'zz'"), unknown.getMessage());
    }

    @Test
    void bundledTestbedSweepsHaveTheStudysGridShape(@TempDir Path tmp) {
        SweepFile f = SweepFile.parse("testbed-full", SweepCommand.resource("/sweeps/testbed-full.yaml"));
        int configs = 0;
        for (SweepFile.Group g : f.groups()) configs += SweepPlan.product(g.values()).size();
        assertEquals(12 + 1 + 1 + 4, configs);                // 4 methods x 3 scopes, none, reference, cf=1 x 2 scopes x {lbl, eb}
        assertEquals(List.of(1L, 2L), f.seeds());
        // the main job keeps the headline comparison: LBL micro-batch vs global, none, reference, strict capacity at both scopes
        SweepPlan main = SweepPlan.expand(SweepFile.parse("testbed", SweepCommand.resource("/sweeps/testbed.yaml")), null, List.of(), tmp);
        assertEquals(List.of("lbl-micro_batch", "lbl-global", "none", "reference", "lbl-micro_batch-cf1", "lbl-global-cf1"), main.labels());
        assertEquals(12, main.runs().size());
        assertTrue(main.isReference(main.runs().get(6)) && !main.isReference(main.runs().get(0)));
        assertEquals(2, SweepCommand.defaultJobs(main, 2), "one run per core on 2 cores");
        assertEquals(1.0, main.runs().get(10).config().model().moe().capacityFactor(), 0);
        assertEquals("global", main.runs().get(10).config().model().moe().balance().scope().toString());
        assertEquals(Map.of("model.moe.router", "reference"), f.reference());
        var cfg = moelab.app.config.ConfigLoader.load(moelab.app.config.ConfigLoader.source("testbed"), List.of());
        assertEquals(32, cfg.model().moe().experts());
        assertEquals(4, cfg.model().moe().topK());
        assertEquals("domain_homogeneous", cfg.data().composition());
    }

    /** Two configurations x 2 seeds with hand-made done.json files: mean ± sample std in results.csv. */
    @Test
    void reportOnSyntheticRunFolders(@TempDir Path tmp) throws Exception {
        SweepPlan p = plan("""
                name: syn
                seeds: [1, 2]
                reference: {model.moe.balance.method: none}
                columns: [extra]
                grid:
                  - model.moe.balance.method: [lbl, none]
                """, tmp);
        double[][] loss = {{2.0, 3.0}, {1.0, 1.0}}, pur = {{0.2, 0.4}, {0.9, 1.0}};
        int i = 0;
        for (SweepPlan.Run r : p.runs()) {
            int c = i / 2, s = i % 2;
            i++;
            Path dir = r.dir(p.root());
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.yaml"), "");
            String routing = "[{\"layer\":0,\"domains\":[\"a\",\"b\"],\"counts\":[[5,1],[1,5]]},{\"layer\":3,\"domains\":[\"a\",\"b\"],\"counts\":[[3,3],[3,3]]}]";
            Files.writeString(dir.resolve("eval.jsonl"), "{\"step\":4,\"loss\":" + loss[c][s] + ",\"per_domain\":{},\"routing\":" + routing
                    + ",\"scalars\":{\"purity\":" + pur[c][s] + "}}\n");
            Map<String, Double> v = new LinkedHashMap<>();
            v.put("val_loss", loss[c][s]);
            v.put("purity_norm", pur[c][s]);
            v.put("utilization", 0.95);
            v.put("extra", 10.0 * c + s);
            new RunResult(r.id(), r.label(), r.seed(), 4, 1.0, v, RunIdentity.of(r).keys()).write(dir);
        }
        SweepReport.Result res = SweepReport.generate(p, SweepState.check(p));
        assertEquals(2, res.rows().size());
        SweepReport.Row lbl = res.rows().get(0), none = res.rows().get(1);
        assertFalse(lbl.reference());
        assertTrue(none.reference());
        assertEquals(2.5, lbl.stats().get("val_loss")[0], 1e-12);
        assertEquals(Math.sqrt(0.5), lbl.stats().get("val_loss")[1], 1e-12);    // sample std of {2, 3}
        assertEquals(0.0, none.stats().get("val_loss")[1], 1e-12);
        assertEquals(10.5, none.stats().get("extra")[0], 1e-12);
        assertTrue(Double.isNaN(lbl.stats().get("nmi")[0]));
        // purity_norm {0.2, 0.4, 0.9, 1.0} vs loss {2, 3, 1, 1}: ranks (1,2,3,4) vs (3,4,1.5,1.5)
        assertEquals(Stats.spearman(new double[]{1, 2, 3, 4}, new double[]{3, 4, 1.5, 1.5}), res.spearmanAll(), 1e-12);
        assertTrue(res.spearmanAll() < 0);
        assertEquals(4, res.nHighU());
        String csv = Files.readString(p.root().resolve("results.csv"));
        assertTrue(csv.startsWith("config,reference,runs,val_loss_mean,val_loss_std"), csv);
        assertTrue(csv.contains("lbl,false,2,2.5," + Math.sqrt(0.5)), csv);
        String md = Files.readString(p.root().resolve("results.md"));
        assertTrue(md.contains("| lbl | 2 | 2.5000 ± 0.7071"), md);
        for (String f : new String[]{"index.html", "plots/scatter_purity_loss.png", "plots/scatter_utilization_loss.png", "plots/purity_over_training.png"})
            assertTrue(Files.size(p.root().resolve(f)) > 0, f);
        // heatmaps of every configuration, seed and layer, titled with all three; a seed selector
        String html = Files.readString(p.root().resolve("index.html"));
        for (String label : List.of("lbl", "none"))
            for (int seed : new int[]{1, 2})
                for (int layer : new int[]{0, 3}) {
                    String name = "heatmap_" + label + "_s" + seed + "_l" + layer + ".png";
                    assertTrue(Files.size(p.root().resolve("plots").resolve(name)) > 0, name);
                    assertTrue(html.contains("src=\"plots/" + name + "\" alt=\"" + label + " · layer " + layer + " · seed " + seed + "\""), name + " in " + html);
                }
        assertTrue(html.contains("<select id=\"seed\"") && html.contains("<option>2</option>"), html);
        assertTrue(html.contains("data-seed=\"2\" hidden>"), "only the first seed shows without script");
        // lbl and none differ in one key: paired differences none - lbl per seed {1 - 2, 1 - 3}: mean -1.5, std 0.7071,
        // 95% interval -1.5 ± 12.706 · 0.7071 / sqrt 2; seed stds 0.7071 (lbl) and 0 (none) pool to 0.5, so 3.0 sd
        assertTrue(md.contains("| none - lbl | model.moe.balance.method: lbl -> none | 2 | -1.5000 [-7.8530, +4.8530] 3.0 sd |"), md);
        assertTrue(Files.readString(p.root().resolve("pairs.csv")).contains("lbl,none,false,\"model.moe.balance.method: lbl -> none\",val_loss,2,-1.5,"));
        assertTrue(html.contains("Paired-seed differences"), html);
    }

    @Test
    void scatterLabelsEveryPointAndItsLegendListsOnlyWhatIsPlotted() {
        Map<String, List<RunResult>> byLabel = new LinkedHashMap<>();
        byLabel.put("lbl", List.of(result("lbl", 1, 2.0, 0.3), result("lbl", 2, 2.1, 0.4)));
        byLabel.put("reference", List.of(result("reference", 1, Double.NaN, Double.NaN)));      // nothing to plot
        var chart = SweepReport.scatter(byLabel, Map.of("lbl", false, "reference", true), "purity_norm", "normalised purity");
        var legend = chart.getXYPlot().getLegendItems();
        assertEquals(1, legend.getItemCount());
        assertEquals("lbl", legend.get(0).getLabel());
        var gen = chart.getXYPlot().getRenderer().getDefaultItemLabelGenerator();
        assertEquals("lbl s2", gen.generateLabel(chart.getXYPlot().getDataset(), 0, 1));
        assertTrue(chart.getXYPlot().getRenderer().getDefaultItemLabelsVisible());
    }

    private static RunResult result(String label, long seed, double loss, double purityNorm) {
        Map<String, Double> v = new LinkedHashMap<>();
        v.put("val_loss", loss);
        v.put("purity_norm", purityNorm);
        return new RunResult(label + "-s" + seed, label, seed, 4, 1.0, v, Map.of());
    }

    @Test
    void spearmanHandlesTiesAndNaN() {
        assertEquals(1.0, Stats.spearman(new double[]{1, 2, 3, Double.NaN}, new double[]{10, 20, 30, 1}), 1e-12);
        assertEquals(-1.0, Stats.spearman(new double[]{1, 2, 3}, new double[]{3, 2, 1}), 1e-12);
        assertTrue(Double.isNaN(Stats.spearman(new double[]{1, 2}, new double[]{1, 2})));
        assertArrayEquals(new double[]{1.5, 1.5, 3}, Stats.ranks(new double[]{5, 5, 7}));
    }

    /** The bundled smoke sweep end to end on the committed sample, then a rerun after "killing" the second run. */
    @Test
    void tinySweepEndToEndAndResume(@TempDir Path tmp) throws Exception {
        String[] args = {"sweep", "--named", "smoke", "--out", tmp.toString(), "--set", "data.path=../data/sample", "--jobs", "1"};
        long t0 = System.nanoTime();
        Run a = run(args);
        double sec = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, a.exit(), a.err() + a.out());
        System.out.printf("tiny sweep (2 configs x 1 seed, 4 steps) took %.1f s%n", sec);
        Path root = tmp.resolve("smoke"), first = root.resolve("runs/lbl-micro_batch-s1"), second = root.resolve("runs/lbl-sequence-s1");
        for (Path run : List.of(first, second))
            for (String f : new String[]{"config.yaml", "metrics.jsonl", "eval.jsonl", "index.html", "done.json", "checkpoints/step-00000004.ckpt"})
                assertTrue(Files.exists(run.resolve(f)), run.getFileName() + "/" + f + " missing");
        for (String f : new String[]{"index.html", "results.md", "results.csv", "plots/heatmap_lbl-sequence_s1_l0.png", "plots/heatmap_lbl-sequence_s1_l1.png", "plots/purity_over_training.png"})
            assertTrue(Files.exists(root.resolve(f)), f + " missing");
        RunResult done = RunResult.read(second);
        assertEquals(4, done.step());
        double pur = done.get("purity");
        assertTrue(pur >= 1.0 / 8 && pur <= 1, "purity " + pur);
        assertTrue(done.get("utilization") > 0 && done.get("utilization") <= 1);
        assertEquals(0.0, done.get("train_drop_rate"));                                 // dropless
        assertTrue(Files.readString(root.resolve("results.md")).contains("layer0.purity"));

        // interrupted second run: no done.json, last checkpoint at step 2
        Files.delete(second.resolve("done.json"));
        Files.delete(second.resolve("checkpoints/step-00000004.ckpt"));
        Run b = run(args);
        assertEquals(0, b.exit(), b.err() + b.out());
        assertTrue(b.out().contains("[1/2] lbl-micro_batch-s1: done, skipped"), b.out());
        assertTrue(b.out().contains("resuming from step-00000002.ckpt"), b.out());
        RunResult again = RunResult.read(second);
        assertEquals(done.get("val_loss"), again.get("val_loss"), "resumed run must end where the straight run ended (bit-exact resume)");
        assertEquals(done.get("purity"), again.get("purity"));

        Run rep = run("sweep", "--named", "smoke", "--out", tmp.toString(), "--set", "data.path=../data/sample", "--report-only");
        assertEquals(0, rep.exit(), rep.err());
        assertTrue(rep.out().contains("Spearman"), rep.out());
    }
}
