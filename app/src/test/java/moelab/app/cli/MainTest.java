package moelab.app.cli;

import moelab.app.Main;
import moelab.app.config.ConfigLoader;
import moelab.app.config.RunConfig;
import moelab.app.report.MetricsWriter;
import moelab.app.report.RunFolder;
import moelab.app.report.Synthetic;
import moelab.train.EvalMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class MainTest {
    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void helpListsTheSubcommands() {
        Run r = run("--help");
        assertEquals(0, r.exit());
        for (String c : List.of("train", "eval", "generate", "inspect", "report", "demo", "backends"))
            assertTrue(r.out().contains("  " + c + " ") || r.out().contains("  " + c + "\n"), c + " in\n" + r.out());
    }

    @Test
    void printConfigShowsTheResolvedConfig() {
        Run r = run("train", "--config", "bench-small", "--set", "train.steps=42", "--set", "model.moe.top_k=1", "--print-config");
        assertEquals(0, r.exit(), r.err());
        RunConfig c = ConfigLoader.fromYaml(r.out());
        assertEquals(42, c.train().steps());
        assertEquals(1, c.model().moe().topK());
        assertEquals(256, c.model().dModel());
    }

    @Test
    void configErrorsAreOneClearLine() {
        Run bad = run("train", "--set", "train.steps=abc", "--print-config");
        assertEquals(Main.EXIT_USAGE, bad.exit());
        assertEquals("config error: train.steps: expected an integer, got 'abc'", bad.err().strip());
        Run unknown = run("train", "--set", "model.moe.topk=2", "--print-config");
        assertEquals(Main.EXIT_USAGE, unknown.exit());
        assertTrue(unknown.err().strip().startsWith("config error: model.moe.topk: unknown key; allowed keys in model.moe: experts, top_k,"), unknown.err());
        Run missing = run("train", "--config", "nope.yaml", "--print-config");
        assertEquals(Main.EXIT_USAGE, missing.exit());
        assertTrue(missing.err().contains("bundled configs: default, bench-small"), missing.err());
        Run usage = run("eval");
        assertEquals(Main.EXIT_USAGE, usage.exit());
        assertTrue(usage.err().contains("--checkpoint"), usage.err());
    }

    @Test
    void configFileErrorsNameTheKey(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("x.yaml");
        Files.writeString(f, "model:\n  moe:\n    router: magic\n");
        Run r = run("train", "--config", f.toString(), "--print-config");
        assertEquals(Main.EXIT_USAGE, r.exit());
        assertEquals("config error: model.moe.router: 'magic' is not allowed; allowed values: topk, reference", r.err().strip());
    }

    @Test
    void reportRegeneratesFromARunFolder(@TempDir Path tmp) throws Exception {
        RunFolder f = RunFolder.create("t", tmp, tmp.resolve("run"), Clock.systemUTC());
        f.writeConfig(ConfigLoader.toYaml(ConfigLoader.load(null, List.of())));
        try (MetricsWriter w = new MetricsWriter(f, Synthetic.DOMAINS)) {
            Synthetic.run(w, 40, 20, 2);
        }
        Run r = run("report", f.dir().toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("index.html"), r.out());
        assertTrue(Files.size(f.indexHtml()) > 1000);
        assertTrue(Files.exists(f.plotsDir().resolve("expert_load.png")));

        Run none = run("report", tmp.resolve("nothing").toString());
        assertEquals(Main.EXIT_USAGE, none.exit());
        assertTrue(none.err().contains("no run folder"), none.err());
    }

    @Test
    void aCorruptCheckpointIsNamedAndAMissingOneToo(@TempDir Path tmp) throws Exception {
        Path ckpt = Files.writeString(tmp.resolve("model.ckpt"), "not a checkpoint");
        Run r = run("inspect", "--checkpoint", ckpt.toString(), "--text", "hi");
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains(ckpt.toString()), r.err());
        Run gone = run("generate", "--checkpoint", tmp.resolve("gone.ckpt").toString(), "--prompt", "a");
        assertTrue(gone.err().contains("no checkpoint file"), gone.err());
    }

    @Test
    void trainRefusesAFolderThatHoldsARun(@TempDir Path tmp) {
        RunFolder f = RunFolder.create("t", tmp, tmp.resolve("run"), Clock.systemUTC());
        f.writeConfig(ConfigLoader.toYaml(ConfigLoader.load(null, List.of())));
        Run r = run("train", "--run-dir", f.dir().toString(), "--set", "run.kernels=scalar", "--set", "run.threads=1");
        assertEquals(Main.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("already holds a run") && r.err().contains("--resume"), r.err());
    }

    @Test
    void evalOutputHasOverallAndPerDomainLoss() {
        Map<String, Double> per = new LinkedHashMap<>();
        per.put("code", 1.5);
        per.put("prose", 2.0);
        EvalMetrics m = Synthetic.eval(new Random(1), 300, 300);
        String s = EvalCommand.format(new EvalMetrics(300, Math.log(4), per, m.routing()));
        String[] lines = s.split("\n");
        assertEquals("validation after 300 steps: loss 1.3863 nats/token (2.0000 bits/token, perplexity 4.00)", lines[0]);
        assertEquals("  domain      loss  perplexity", lines[1]);
        assertEquals("  code      1.5000        4.48", lines[2]);
        assertTrue(lines[4].startsWith("  layer 1 routing: MaxVio "), lines[4]);
        assertTrue(lines[5].startsWith("  layer 3 routing: MaxVio "), lines[5]);
    }

    @Test
    void configHelpListsEveryBundledConfig() throws Exception {
        Run r = run("train", "--help");
        String help = r.out().replaceAll("\\s+", " ");
        for (String name : moelab.app.config.ConfigLoader.BUNDLED) {
            assertTrue(help.contains(name), name + " in\n" + r.out());
            assertNotNull(MainTest.class.getResource("/configs/" + name + ".yaml"), name);
        }
        try (var files = java.nio.file.Files.list(java.nio.file.Path.of("src/main/resources/configs"))) {
            assertEquals(moelab.app.config.ConfigLoader.BUNDLED.size(), files.count(), "every bundled config file is listed");
        }
    }
}
