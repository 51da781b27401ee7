package moelab.app.sweep;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

import static moelab.app.sweep.SweepTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** A sweep reruns only into identical runs: every change of what defines a run is caught before anything runs. */
class SweepIdentityTest {
    static final String BASE = """
            model: {d_model: 16, heads: 2, layers: 2, d_ff: 32, max_seq_len: 32, moe: {experts: 4, d_ff: 16, top_k: 2}}
            train: {seq_len: 32, micro_batch: 2, steps: 4, warmup_steps: 1, eval_every: 2, eval_batches: 8, checkpoint_every: 2, lr: 0.001}
            data: {path: DATA, composition: domain_homogeneous}
            run: {threads: 1}
            """;

    static String sweep(String method, String seeds) {
        return "name: id\nconfig: base.yaml\nseeds: " + seeds + "\ngrid:\n  - label: a\n    model.moe.balance.method: [" + method + "]\n";
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    @Test
    void everyChangeOfWhatDefinesARunIsCaughtBeforeAnythingRuns(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data"), out = tmp.resolve("out"), file = tmp.resolve("s.yaml"), base = tmp.resolve("base.yaml");
        copyTree(Path.of("../data/sample"), data);
        Files.writeString(base, BASE.replace("DATA", data.toString()));
        Files.writeString(file, sweep("lbl", "[1]"));
        String[] args = {"sweep", file.toString(), "--out", out.toString()};
        Path runDir = out.resolve("id/runs/a-s1");

        SweepTest.Run first = run(args);
        assertEquals(0, first.exit(), first.err() + first.out());
        RunResult done = RunResult.read(runDir);
        assertEquals("2", done.identity().get("model.moe.top_k"));
        assertTrue(done.identity().get("data.fingerprint").startsWith("sha256:"));
        assertNotNull(done.identity().get("project.version"));
        assertTrue(Files.isRegularFile(runDir.resolve(RunIdentity.FILE)));

        SweepTest.Run same = run(args);
        assertEquals(0, same.exit(), same.err());
        assertTrue(same.out().contains("a-s1: done, skipped"), same.out());

        // a command-line override
        assertRefused(run("sweep", file.toString(), "--out", out.toString(), "--set", "model.moe.top_k=1"),
                "a-s1 (done)", "model.moe.top_k: 2 -> 1");
        // a grid value
        Files.writeString(file, sweep("eb", "[1]"));
        assertRefused(run(args), "model.moe.balance.method: lbl -> eb");
        Files.writeString(file, sweep("lbl", "[1]"));
        // the base config file, edited
        Files.writeString(base, BASE.replace("DATA", data.toString()).replace("lr: 0.001", "lr: 0.002"));
        assertRefused(run(args), "train.lr: 0.001 -> 0.002");
        Files.writeString(base, BASE.replace("DATA", data.toString()));
        // the data: another folder, and the same folder with other contents
        Path data2 = tmp.resolve("data2");
        copyTree(data, data2);
        assertRefused(run("sweep", file.toString(), "--out", out.toString(), "--set", "data.path=" + data2), "data.path: " + data + " -> " + data2);
        Path en = Files.list(data.resolve("en")).filter(p -> p.toString().endsWith(".txt")).sorted().findFirst().orElseThrow();
        byte[] orig = Files.readAllBytes(en);
        Files.writeString(en, "one more line\n", java.nio.file.StandardOpenOption.APPEND);
        assertRefused(run(args), "data.fingerprint: sha256:");
        Files.write(en, orig);
        assertEquals(0, run(args).exit(), "restored data: the run counts again");

        // another seed list: the old seed's run is no run of this sweep and is named as left out of the report
        Files.writeString(file, sweep("lbl", "[2]"));
        SweepTest.Run seeds = run("sweep", file.toString(), "--out", out.toString(), "--report-only");
        assertEquals(0, seeds.exit(), seeds.err());
        assertTrue(seeds.out().contains("no run of this sweep: a-s1"), seeds.out());
        assertTrue(Files.readString(out.resolve("id/results.md")).contains("Note: left out 1 folder(s)"));
        SweepTest.Run list = run("sweep", file.toString(), "--out", out.toString(), "--list");
        assertTrue(list.out().matches("(?s).*a-s2\\s+new.*"), list.out());
        Files.writeString(file, sweep("lbl", "[1]"));

        // an interrupted run resumes only into the identical config
        Files.move(runDir.resolve(RunResult.FILE), tmp.resolve("done.json"));
        assertRefused(run("sweep", file.toString(), "--out", out.toString(), "--set", "train.steps=6"), "a-s1 (unfinished)", "train.steps: 4 -> 6");
        Files.move(tmp.resolve("done.json"), runDir.resolve(RunResult.FILE));

        // --rerun-changed retrains just the changed run and keeps the old folder
        SweepTest.Run re = run("sweep", file.toString(), "--out", out.toString(), "--set", "model.moe.top_k=1", "--rerun-changed");
        assertEquals(0, re.exit(), re.err() + re.out());
        assertTrue(re.out().contains("moved to a-s1.replaced-1"), re.out());
        assertEquals(done.values(), RunResult.read(out.resolve("id/runs/a-s1.replaced-1")).values(), "the old run is kept as it was");
        RunResult redone = RunResult.read(runDir);
        assertEquals("1", redone.identity().get("model.moe.top_k"));
        assertNotEquals(done.get("val_loss"), redone.get("val_loss"));

        // --report-only under the old config: the top_k = 1 run is left out, and the report says so
        SweepTest.Run rep = run("sweep", file.toString(), "--out", out.toString(), "--report-only");
        assertEquals(0, rep.exit(), rep.err());
        assertTrue(rep.out().contains("note: left out a-s1: made with another config (model.moe.top_k: 1 -> 2)"), rep.out());
        String md = Files.readString(out.resolve("id/results.md"));
        assertTrue(md.contains("Note: left out a-s1") && !md.contains("| a | 1 |"), md);
    }

    /** A fine-tuning run's identity covers the run it starts from: retraining the source makes it another run. */
    @Test
    void initFromRunsInheritTheirSourcesIdentity(@TempDir Path tmp) {
        String yaml = """
                name: ft
                seeds: [1]
                grid:
                  - {label: base, model.moe.balance.method: [METHOD]}
                  - {label: ft, init_from: base, train.lr: [0.001]}
                """;
        RunIdentity lbl = ftIdentity(SweepTest.plan(yaml.replace("METHOD", "lbl"), tmp)), eb = ftIdentity(SweepTest.plan(yaml.replace("METHOD", "eb"), tmp));
        List<RunIdentity.Change> ch = eb.changesFrom(lbl);
        assertEquals(1, ch.size(), ch.toString());
        assertEquals("init_from.identity", ch.getFirst().key());
    }

    /** A key the engine gained after a run was recorded is no change at its default, and a change at any other value. */
    @Test
    void aKeyAbsentFromARecordedIdentityCountsOnlyWhenNotAtItsDefault() {
        RunIdentity now = new RunIdentity(java.util.Map.of("model.d_model", "16", "model.domain_tags", "0"));
        RunIdentity recorded = new RunIdentity(java.util.Map.of("model.d_model", "16"));
        assertEquals(List.of(), now.changesFrom(recorded));
        RunIdentity tagged = new RunIdentity(java.util.Map.of("model.d_model", "16", "model.domain_tags", "8"));
        assertEquals(List.of(new RunIdentity.Change("model.domain_tags", null, "8")), tagged.changesFrom(recorded));
        // a key that is gone from the engine is a change, whatever it held
        assertEquals(List.of(new RunIdentity.Change("model.domain_tags", "0", null)), recorded.changesFrom(now));
    }

    static RunIdentity ftIdentity(SweepPlan p) {
        return SweepState.check(p).entries().stream().filter(e -> e.run().id().equals("ft-s1")).findFirst().orElseThrow().identity();
    }

    static void assertRefused(SweepTest.Run r, String... mustSay) {
        assertNotEquals(0, r.exit(), r.out());
        assertTrue(r.err().contains("nothing was run") && r.err().contains("--rerun-changed") && r.err().contains("--out"), r.err());
        for (String s : mustSay) assertTrue(r.err().contains(s), "missing '" + s + "' in: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertTrue(List.of(r.out().split("\n")).stream().noneMatch(l -> l.contains("run folder")), "nothing may train: " + r.out());
    }
}
