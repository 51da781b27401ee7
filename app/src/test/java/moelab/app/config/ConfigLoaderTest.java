package moelab.app.config;

import moelab.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ConfigLoaderTest {
    static RunConfig yaml(String text, String... overrides) {
        return ConfigLoader.load(new ConfigLoader.Source("test.yaml", text, false), List.of(overrides));
    }

    static ConfigException error(String text, String... overrides) {
        return assertThrows(ConfigException.class, () -> yaml(text, overrides));
    }

    @Test
    void bundledDefaultIsTheSmallMoeExperiment() {
        RunConfig c = ConfigLoader.load(null, List.of());
        assertEquals(4, c.model().layers());
        assertEquals(128, c.model().dModel());
        assertEquals(8, c.model().moe().experts());
        assertEquals(2, c.model().moe().topK());
        assertEquals(256, c.model().moe().dFf());
        assertEquals(128, c.train().seqLen());
        assertEquals(8, c.train().microBatch());
        assertEquals("byte", c.data().tokenizer());
        assertEquals("runs", c.run().outDir());
        assertEquals(3e-3f, c.train().lr());
    }

    @Test
    void benchSmallIsTheIssuesNamedConfig() {
        RunConfig c = ConfigLoader.load(ConfigLoader.source("bench-small"), List.of());
        assertEquals(4, c.model().layers());
        assertEquals(256, c.model().dModel());
        assertEquals(4, c.model().heads());
        assertEquals(256, c.train().seqLen());
        assertEquals(8, c.train().microBatch());
        assertEquals(8, c.model().moe().experts());
        assertEquals(2, c.model().moe().topK());
        assertEquals(512, c.model().moe().dFf());
        assertEquals(4096, c.model().vocabSize());
        assertEquals("bpe", c.data().tokenizer());
        assertEquals(ConfigLoader.source("configs/bench-small.yaml").text(), ConfigLoader.source("bench-small").text());
    }

    @Test
    void userFileOverridesDefaultsKeyByKey() {
        RunConfig c = yaml("""
                train:
                  steps: 50
                model:
                  moe:
                    top_k: 1
                """);
        assertEquals(50, c.train().steps());
        assertEquals(1, c.model().moe().topK());
        assertEquals(8, c.model().moe().experts(), "sibling keys of a changed key keep their defaults");
        assertEquals(8, c.train().microBatch());
        assertEquals(0.01, c.model().moe().auxLossCoef());
    }

    @Test
    void nullSectionMakesTheModelDense() {
        RunConfig c = yaml("model:\n  moe: null\n");
        assertNull(c.model().moe());
        assertFalse(c.model().isMoeLayer(0));
    }

    @Test
    void unknownKeyNamesThePathAndTheAllowedKeys() {
        ConfigException e = error("model:\n  moee:\n    experts: 4\n");
        assertEquals("model.moee", e.key());
        assertTrue(e.getMessage().startsWith("model.moee: unknown key; allowed keys in model: vocab_size, d_model, heads,"), e.getMessage());
        assertTrue(e.getMessage().contains("moe"), e.getMessage());

        ConfigException deep = error("model:\n  moe:\n    topk: 2\n");
        assertEquals("model.moe.topk", deep.key());
        assertTrue(deep.getMessage().contains("top_k"), deep.getMessage());

        ConfigException top = error("optim:\n  lr: 1\n");
        assertTrue(top.getMessage().startsWith("optim: unknown key; allowed keys: model, train, data, run"), top.getMessage());
    }

    @Test
    void badValueNamesTheAllowedValues() {
        ConfigException e = error("data:\n  tokenizer: wordpiece\n");
        assertEquals("data.tokenizer: 'wordpiece' is not allowed; allowed values: byte, bpe", e.getMessage());
        ConfigException p = error("model:\n  moe:\n    drop_policy: random\n");
        assertTrue(p.getMessage().startsWith("model.moe.drop_policy") && p.getMessage().contains("probs, position"), p.getMessage());
        ConfigException k = error("model:\n  moe:\n    top_k: 9\n");
        assertTrue(k.getMessage().startsWith("model.moe.top_k: must be in [1, experts=8]"), k.getMessage());
    }

    @Test
    void wrongTypeNamesTheKeyAndTheExpectedType() {
        assertEquals("train.steps: expected an integer, got the string 'many'", error("train:\n  steps: many\n").getMessage());
        assertEquals("train.steps: expected an integer, got 3.5", error("train:\n  steps: 3.5\n").getMessage());
        assertEquals("train.lr: expected a number, got the string 'fast'", error("train:\n  lr: fast\n").getMessage());
        assertEquals("model.tied_embeddings: expected true or false, got 1", error("model:\n  tied_embeddings: 1\n").getMessage());
        ConfigException s = error("model:\n  moe: 5\n");
        assertTrue(s.getMessage().startsWith("model.moe: expected a section with keys experts, top_k, d_ff"), s.getMessage());
        ConfigException big = error("model:\n  d_model: 99999999999\n");
        assertEquals("model.d_model", big.key());
        ConfigException prim = error("train:\n  seed: null\n");
        assertEquals("train.seed: expected an integer, got null", prim.getMessage());
    }

    @Test
    void missingRequiredKeyIsNamed() {
        var tree = ConfigLoader.defaultsTree();
        ((com.fasterxml.jackson.databind.node.ObjectNode) tree.get("train")).remove("lr");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.bind(tree));
        assertEquals("train.lr: required key is missing (expected a number)", e.getMessage());
    }

    @Test
    void numbersWrittenForAStringKeyBecomeText() {
        assertEquals("2", yaml("model:\n  moe:\n    layers: 2\n").model().moe().layers());
        ConfigException e = error("model:\n  moe:\n    layers: 7\n");
        assertEquals("model.moe.layers", e.key(), "block index out of range is checked at load time");
    }

    @Test
    void crossSectionRulesNameTheKey() {
        ConfigException seq = error("train:\n  seq_len: 256\n");
        assertTrue(seq.getMessage().startsWith("train.seq_len: must be <= model.max_seq_len=128"), seq.getMessage());
        ConfigException vocab = error("data:\n  tokenizer: bpe\n");
        assertTrue(vocab.getMessage().startsWith("model.vocab_size: must be >= the bpe tokenizer's 4096 ids"), vocab.getMessage());
    }

    @Test
    void balanceKeysLoadAndTheirRulesNameTheKey() {
        RunConfig c = yaml("", "model.moe.balance.method=ba", "model.moe.balance.scope=global", "model.moe.balance.group_sequences=2",
                "model.moe.balance.ba_solver=auction", "model.moe.balance.auction_eps=1e-5", "model.moe.router=reference", "model.moe.balance.domains=4",
                "model.moe.balance.reference_gates=uniform");
        assertEquals(new moelab.routing.BalanceConfig(moelab.routing.Balancing.BA, moelab.routing.Scope.GLOBAL, 2, 1e-2, true, 1e-4,
                1.0, 1e-4, 1000, moelab.routing.BaSolver.AUCTION, 1e-5, 4, moelab.routing.ReferenceGates.UNIFORM), c.model().moe().balance());
        assertEquals(moelab.routing.BaSolver.FLOW, yaml("").model().moe().balance().baSolver(), "exact flow by default");
        ConfigException solver = error("", "model.moe.balance.ba_solver=hungarian");
        assertTrue(solver.getMessage().contains("flow, auction"), solver.getMessage());
        ConfigException accum = error("", "model.moe.balance.method=sh", "model.moe.balance.scope=global", "train.grad_accum=2");
        assertEquals("model.moe.balance.scope", accum.key(), accum.getMessage());
        ConfigException dom = error("", "model.moe.router=reference", "model.moe.balance.domains=3");
        assertEquals("model.moe.balance.domains", dom.key(), dom.getMessage());
        ConfigException gates = error("", "model.moe.balance.reference_gates=random");
        assertTrue(gates.getMessage().contains("learned, uniform"), gates.getMessage());
    }

    @Test
    void overridesAreTypedByTheirField() {
        RunConfig c = yaml("", "train.lr=1e-3", "model.moe.top_k=1", "train.seed=12345678901",
                "model.tied_embeddings=true", "model.moe.layers=0,2", "run.name=x");
        assertEquals(1e-3f, c.train().lr());
        assertEquals(1, c.model().moe().topK());
        assertEquals(12345678901L, c.train().seed());
        assertTrue(c.model().tiedEmbeddings());
        assertEquals("0,2", c.model().moe().layers());
        assertTrue(c.model().isMoeLayer(2) && !c.model().isMoeLayer(1));
        assertEquals("x", c.run().name());
    }

    @Test
    void overrideErrorsNameTheKey() {
        assertEquals("train.steps: expected an integer, got 'abc'", error("", "train.steps=abc").getMessage());
        assertEquals("train.lr: expected a number, got '1e-3x'", error("", "train.lr=1e-3x").getMessage());
        assertEquals("model.tied_embeddings: expected true or false, got 'yes'", error("", "model.tied_embeddings=yes").getMessage());
        ConfigException unknown = error("", "train.stepz=3");
        assertEquals("train.stepz", unknown.key());
        assertTrue(unknown.getMessage().contains("allowed keys in train: seed, steps, micro_batch"), unknown.getMessage());
        ConfigException noEq = error("", "train.steps");
        assertTrue(noEq.getMessage().contains("KEY=VALUE"), noEq.getMessage());
        ConfigException section = error("", "model.moe=3");
        assertTrue(section.getMessage().startsWith("model.moe: is a section"), section.getMessage());
        ConfigException leaf = error("", "train.lr.x=1");
        assertTrue(leaf.getMessage().startsWith("train.lr: is a number"), leaf.getMessage());
        ConfigException validated = error("", "model.moe.drop_policy=fifo");
        assertTrue(validated.getMessage().contains("allowed values: probs, position"), validated.getMessage());
    }

    @Test
    void overrideCanDropAndRestoreASection() {
        assertNull(yaml("", "model.moe=null").model().moe());
        RunConfig back = yaml("model:\n  moe: null\n", "model.moe.top_k=1");
        assertEquals(1, back.model().moe().topK());
        assertEquals(8, back.model().moe().experts(), "a section brought back by --set starts from its defaults");
    }

    @Test
    void yamlRoundTripGivesTheSameConfig() {
        for (RunConfig c : List.of(ConfigLoader.load(null, List.of()),
                ConfigLoader.load(ConfigLoader.source("bench-small"), List.of("model.moe.layers=0,2", "train.lr=7e-4", "run.name=007")),
                yaml("model:\n  moe: null\n"))) {
            String text = ConfigLoader.toYaml(c);
            assertEquals(c, ConfigLoader.fromYaml(text), text);
            assertEquals(text, ConfigLoader.toYaml(ConfigLoader.fromYaml(text)), "writing is stable");
        }
        String text = ConfigLoader.toYaml(yaml("", "train.lr=7e-4"));
        assertTrue(text.contains("lr: 7.0E-4") || text.contains("lr: 0.0007"), "floats are written as floats: " + text);
        for (String spelled : List.of("router: topk", "drop_policy: probs", "method: lbl", "scope: micro_batch", "reference_gates: learned"))
            assertTrue(text.contains(spelled), "config enums are written as their YAML names (" + spelled + "): " + text);
    }

    @Test
    void jsonConfigsWork(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.json");
        Files.writeString(f, "{\"train\": {\"steps\": 70}, \"model\": {\"moe\": {\"experts\": 4}}}");
        RunConfig c = ConfigLoader.load(ConfigLoader.source(f.toString()), List.of());
        assertEquals(70, c.train().steps());
        assertEquals(4, c.model().moe().experts());
        Files.writeString(f, "{\"train\": {\"steps\": \"7\"}}");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(ConfigLoader.source(f.toString()), List.of()));
        assertEquals("train.steps: expected an integer, got the string '7'", e.getMessage());
    }

    @Test
    void theMoeLayerListIsCheckedInOnePassWhateverTheLayerCount() {
        assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
                () -> assertEquals(Integer.MAX_VALUE, ConfigLoader.load(null, List.of("model.layers=2147483647")).model().layers()));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("model.layers=4", "model.moe.layers=0,2,7")));
        assertTrue(e.getMessage().contains("block index 7 out of range [0, 4)"), e.getMessage());
        assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("model.moe.layers=every:x")));
    }

    @Test
    void yamlAliasesAreRefusedWhereTheyAre() {
        ConfigException e = error("run:\n  name: &nm abc\n  out_dir: *nm\n");
        assertEquals("test.yaml: YAML alias '*nm' at line 3, column 12 is not supported: write the value out (anchors and aliases are not expanded)",
                e.getMessage());
        assertEquals("abc", yaml("run:\n  name: &nm abc\n").run().name(), "an anchor alone is harmless");
        ConfigException second = error("run:\n  name: a\n---\nrun: {name: : b}\n");
        assertTrue(second.getMessage().startsWith("test.yaml: a second YAML document starts at line 3"), second.getMessage());
    }

    @Test
    void syntaxErrorsAndDuplicatesNameTheSource() {
        ConfigException dup = error("train:\n  steps: 1\n  steps: 2\n");
        assertTrue(dup.getMessage().startsWith("test.yaml: not valid YAML") && dup.getMessage().contains("steps"), dup.getMessage());
        ConfigException syntax = error("train: [1, 2\n");
        assertTrue(syntax.getMessage().startsWith("test.yaml: not valid YAML at line"), syntax.getMessage());
        ConfigException tab = error("run:\n  name: x\n\tout_dir: y\n");
        assertTrue(tab.getMessage().startsWith("test.yaml: not valid YAML at line 3, column 1: found character '\\t(TAB)'"), tab.getMessage());
        assertFalse(tab.getMessage().contains("\n"), "one line: " + tab.getMessage());
        ConfigException list = error("- 1\n- 2\n");
        assertTrue(list.getMessage().contains("top level must be a mapping"), list.getMessage());
        assertEquals(ConfigLoader.load(null, List.of()), yaml(""), "an empty file means all defaults");
        ConfigException missing = assertThrows(ConfigException.class, () -> ConfigLoader.source("no/such/file.yaml"));
        assertTrue(missing.getMessage().contains("bundled configs: default, bench-small"), missing.getMessage());
    }

    @Test
    void unknownKernelBackEndNamesTheAvailableOnes() {
        RunConfig c = yaml("run:\n  kernels: gpu9000\n");
        ConfigException e = assertThrows(ConfigException.class, () -> c.run().applyKernels());
        assertTrue(e.getMessage().startsWith("run.kernels: 'gpu9000' is not allowed here; allowed values: auto, "), e.getMessage());
        assertTrue(e.getMessage().contains("scalar"), e.getMessage());
    }
}
