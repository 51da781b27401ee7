package moelab.train;

import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import moelab.nn.Transformer;
import moelab.ops.Elementwise;
import moelab.routing.Router;
import moelab.routing.Routing;
import moelab.routing.RoutingInput;
import moelab.routing.TopKRouter;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static moelab.train.TrainerFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** The checkpoint file: corruption, mismatches and failed writes give clear errors and load nothing. */
class CheckpointTest {
    static final String CONFIG = "model:\n  d_model: 16\ntrain:\n  lr: 0.01\n";
    @TempDir Path dir;
    Path good;
    byte[] goodBytes;

    @BeforeEach
    void saveTwoSteps() throws IOException {
        Trainer t = trainer(model(), train(4, 2, 1));
        t.step();
        t.step();
        good = dir.resolve("good.ckpt");
        t.saveCheckpoint(good, CONFIG);
        goodBytes = Files.readAllBytes(good);
    }

    /** Loading file into a fresh trainer fails with a message holding every fragment, and changes nothing. */
    private CheckpointException refused(Path file, String config, String... fragments) {
        PatternSource src = new PatternSource(1, VOCAB, 2, SEQ);
        src.next();
        Trainer fresh = trainer(model(), train(4, 2, 1), 42, src, List.of());
        float[] before = snapshot(fresh.model());
        byte[] dataBefore = src.saveState();
        CheckpointException e = assertThrows(CheckpointException.class, () -> fresh.loadCheckpoint(file, config));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
        assertSameBits(before, snapshot(fresh.model()), "weights after a refused load");
        assertEquals(0, fresh.stepCount());
        assertEquals(0, fresh.optimizer().stepCount());
        assertArrayEquals(dataBefore, src.saveState(), "data position after a refused load");
        for (float[] m : fresh.optimizer().firstMoments()) for (float x : m) assertEquals(0f, x);
        return e;
    }

    private Path withBytes(String name, byte[] b) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, b);
        return p;
    }

    private Path rewritten(String name, Checkpoint c) {
        Path p = dir.resolve(name);
        Checkpoint.write(p, c);
        return p;
    }

    @Test
    void goodCheckpointLoadsAndHoldsWhatWasSaved() {
        Checkpoint c = Checkpoint.read(good);
        assertEquals(CONFIG, c.configText());
        assertEquals(2, c.step());
        assertEquals(2, c.optimizerStep());
        assertEquals(new Transformer(model(), 1).parameters().asMap().keySet(), c.parameters().keySet());
        assertEquals(16, c.dataState().length);
        assertEquals(1, c.routers().size());
        assertEquals("topk", c.routers().get(0).name());
        Trainer t = trainer(model(), train(4, 2, 1), 42, new PatternSource(1, VOCAB, 2, SEQ), List.of());
        t.loadCheckpoint(good, CONFIG);
        assertEquals(2, t.stepCount());
        t.loadCheckpoint(good, null); // null: config not checked
    }

    @Test
    void flippedByteIsACrcErrorNamingTheFile() throws IOException {
        for (int at : new int[]{Checkpoint.HEADER_BYTES + 3, goodBytes.length / 2, goodBytes.length - 5}) {
            byte[] b = goodBytes.clone();
            b[at] ^= 0x10;
            Path p = withBytes("flip" + at + ".ckpt", b);
            refused(p, CONFIG, p.toString(), "CRC32 mismatch", "corrupt");
        }
        byte[] b = goodBytes.clone();
        b[b.length - 1] ^= 1; // the stored CRC itself
        refused(withBytes("crc.ckpt", b), CONFIG, "CRC32 mismatch");
    }

    @Test
    void truncatedAndForeignFilesAreRefused() throws IOException {
        Path half = withBytes("half.ckpt", Arrays.copyOf(goodBytes, goodBytes.length / 2));
        refused(half, CONFIG, half.toString(), "truncated", "says " + goodBytes.length + " bytes", "has " + goodBytes.length / 2);
        refused(withBytes("tiny.ckpt", Arrays.copyOf(goodBytes, 10)), CONFIG, "truncated", "10 bytes");
        refused(withBytes("empty.ckpt", new byte[0]), CONFIG, "truncated");
        byte[] longer = Arrays.copyOf(goodBytes, goodBytes.length + 3);
        refused(withBytes("long.ckpt", longer), CONFIG, "3 unexpected bytes after the CRC");

        byte[] foreign = goodBytes.clone();
        foreign[0] = 'P';
        refused(withBytes("foreign.ckpt", foreign), CONFIG, "not a moe-routing-lab checkpoint", "504f45434b505400");

        byte[] v2 = goodBytes.clone();
        ByteBuffer.wrap(v2).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 2);
        refused(withBytes("v2.ckpt", v2), CONFIG, "format version 2", "reads version 1");

        refused(dir.resolve("absent.ckpt"), CONFIG, "absent.ckpt", "no such file");
    }

    /** A well-formed body whose internal counts lie is still caught by the bounds checks (CRC recomputed). */
    @Test
    void inconsistentBodyWithValidCrcNamesTheOffset() throws IOException {
        byte[] b = goodBytes.clone();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int paramCountAt = Checkpoint.HEADER_BYTES + 4 + CONFIG.length() + 8;
        bb.putInt(paramCountAt, 1_000_000);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b, 0, b.length - 4);
        bb.putInt(b.length - 4, (int) crc.getValue());
        refused(withBytes("lying.ckpt", b), CONFIG, "parameter count is 1000000", "at offset " + paramCountAt);
    }

    @Test
    void configMismatchNamesBothValues() {
        String other = CONFIG.replace("lr: 0.01", "lr: 0.02");
        refused(good, other, good.toString(), "config differs", "line 4", "'  lr: 0.01'", "'  lr: 0.02'");
    }

    @Test
    void wrongShapeMissingAndExtraParametersAreNamed() {
        Checkpoint c = Checkpoint.read(good);
        Map<String, TensorData> ps = new LinkedHashMap<>(c.parameters());
        ps.put("layers.1.moe.router", new TensorData(new int[]{16, 5}, new float[80]));
        Path p = rewritten("shape.ckpt", withParams(c, ps));
        refused(p, CONFIG, p.toString(), "parameter 'layers.1.moe.router' has shape [16, 5]", "expects [16, 4]");

        ps = new LinkedHashMap<>(c.parameters());
        ps.remove("final_norm");
        refused(rewritten("missing.ckpt", withParams(c, ps)), CONFIG, "parameter 'final_norm' (shape [16]) is missing");

        ps = new LinkedHashMap<>(c.parameters());
        ps.put("bogus.w", new TensorData(new int[]{2}, new float[2]));
        refused(rewritten("extra.ckpt", withParams(c, ps)), CONFIG, "parameter 'bogus.w' (shape [2]) that the model does not have");
    }

    @Test
    void checkpointOfAnotherModelIsRefused() throws IOException {
        ModelConfig wider = new ModelConfig(VOCAB, 8, 2, 2, 24, SEQ, false, 10000, 1e-5f, 0.1,
                MoeConfig.defaults(4, 2, 12).withSharedExperts(1).withLayers("1").withZLossCoef(1e-3));
        Trainer t = trainer(wider, train(4, 2, 1));
        Path p = dir.resolve("wider.ckpt");
        t.saveCheckpoint(p, CONFIG);
        refused(p, CONFIG, "parameter 'tok_emb' has shape [16, 8], the model expects [16, 16]");
    }

    @Test
    void optimizerRouterAndDataStateMismatchesAreRefused() {
        Checkpoint c = Checkpoint.read(good);
        List<Checkpoint.Moments> ms = new ArrayList<>(c.moments());
        Checkpoint.Moments m0 = ms.get(0);
        ms.set(0, new Checkpoint.Moments(m0.name(), new float[3], new float[3]));
        refused(rewritten("moments.ckpt", new Checkpoint(c.configText(), c.step(), c.parameters(), c.optimizerStep(), ms, c.dataState(), c.routers())),
                CONFIG, "optimizer moments of 'tok_emb' hold 3 values, expected 256");

        refused(rewritten("routers.ckpt", new Checkpoint(c.configText(), c.step(), c.parameters(), c.optimizerStep(), c.moments(), c.dataState(), List.of())),
                CONFIG, "state for 0 routers, the model has 1 MoE layers");
        refused(rewritten("rname.ckpt", new Checkpoint(c.configText(), c.step(), c.parameters(), c.optimizerStep(), c.moments(), c.dataState(),
                List.of(new Checkpoint.RouterState("balanced", Map.of())))), CONFIG, "router #0 is 'balanced', the model's is 'topk'");

        // The data source refuses its state: nothing else was touched (refused() checks weights and data position).
        refused(rewritten("data.ckpt", new Checkpoint(c.configText(), c.step(), c.parameters(), c.optimizerStep(), c.moments(), new byte[5], c.routers())),
                CONFIG, "data loader state does not fit", "16 bytes, got 5");
    }

    private static Checkpoint withParams(Checkpoint c, Map<String, TensorData> ps) {
        return new Checkpoint(c.configText(), c.step(), ps, c.optimizerStep(), c.moments(), c.dataState(), c.routers());
    }

    /** A stream that fails after some bytes, like a full disk. */
    static final class FailingStream extends FilterOutputStream {
        private long left;

        FailingStream(OutputStream out, long after) { super(out); left = after; }

        @Override public void write(int b) throws IOException { write(new byte[]{(byte) b}, 0, 1); }

        @Override public void write(byte[] b, int off, int len) throws IOException {
            if (len > left) {
                out.write(b, off, (int) left);
                left = 0;
                throw new IOException("No space left on device (simulated)");
            }
            out.write(b, off, len);
            left -= len;
        }
    }

    /** A write killed between creating and renaming its temporary file leaves it behind; the next run and every prune remove it. */
    @Test
    void temporaryFilesOfInterruptedWritesAreRemovedAtStartAndPrune() throws IOException {
        Path ckpts = Files.createDirectories(dir.resolve("ckpts"));
        Path stale = Files.writeString(ckpts.resolve(".step-00000002.ckpt.8812731.tmp"), "half");
        Path mine = Files.writeString(ckpts.resolve("notes.tmp"), "not ours");
        List<Boolean> staleAtFirstCheckpoint = new ArrayList<>();
        Path later = ckpts.resolve(".step-00000004.ckpt.99.tmp");
        TrainListener l = new TrainListener() {
            @Override public void onCheckpoint(Path f, long step) {
                if (step == 2) {
                    staleAtFirstCheckpoint.add(Files.exists(stale));
                    try { Files.writeString(later, "killed mid-write"); } catch (IOException e) { throw new UncheckedIOException(e); }
                }
            }
        };
        TrainConfig every2 = new TrainConfig(11, 4, 2, 1, SEQ, 1e-2f, 1e-3f, 3, 0.01f, 0.9f, 0.95f, 1f, 0, 2, 2, 1);
        Trainer t = trainer(model(), every2, 1, new PatternSource(1, VOCAB, 2, SEQ), List.of(l));
        t.run(ckpts);
        assertEquals(List.of(false), staleAtFirstCheckpoint, "removed when the run starts");
        assertFalse(Files.exists(later), "removed at the next checkpoint's prune");
        assertTrue(Files.exists(mine), "other files are left alone");
        assertEquals(0, Checkpoint.removeTemporaries(ckpts));
    }

    @Test
    void failedWriteLeavesThePreviousCheckpointIntactAndNoTempFile() throws IOException {
        Trainer t = trainer(model(), train(4, 2, 1), 11, new PatternSource(11, VOCAB, 2, SEQ), List.of());
        t.loadCheckpoint(good, CONFIG);
        t.step();
        Checkpoint newer = Checkpoint.read(good);
        newer = new Checkpoint(newer.configText(), 3, newer.parameters(), 3, newer.moments(), newer.dataState(), newer.routers());
        Checkpoint toWrite = newer;
        var e = assertThrows(UncheckedIOException.class,
                () -> Checkpoint.write(good, toWrite, out -> new FailingStream(out, goodBytes.length / 2)));
        assertTrue(e.getMessage().contains(good.toString()) && e.getMessage().contains("unchanged"), e.getMessage());
        assertArrayEquals(goodBytes, Files.readAllBytes(good), "old checkpoint untouched");
        assertEquals(2, Checkpoint.read(good).step());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(good), s.toList(), "no temporary file left behind");
        }
        // A failure inside the serializer (not the disk) is handled the same way.
        assertThrows(RuntimeException.class, () -> AtomicFile.write(good, out -> {
            out.write(new byte[100]);
            throw new IllegalStateException("boom");
        }));
        assertArrayEquals(goodBytes, Files.readAllBytes(good));
        // And a successful rewrite replaces it.
        Checkpoint.write(good, newer);
        assertEquals(3, Checkpoint.read(good).step());
    }

    @Test
    void savingTheSameStateTwiceGivesTheSameBytes() throws IOException {
        Trainer t = trainer(model(), train(4, 2, 1), 11, new PatternSource(11, VOCAB, 2, SEQ), List.of());
        t.loadCheckpoint(good, CONFIG);
        Path again = dir.resolve("again.ckpt");
        t.saveCheckpoint(again, CONFIG);
        assertArrayEquals(goodBytes, Files.readAllBytes(again));
    }

    /**
     * A router with state that changes the numerics (a per-expert logit bias nudged toward
     * balance after each step, in the style of loss-free balancing): resume must restore it.
     */
    static final class BiasedRouter implements Router {
        final TopKRouter inner = new TopKRouter(false, 0.0, 0.0);
        float[] bias, load;

        BiasedRouter(int experts) { bias = new float[experts]; load = new float[experts]; }

        @Override public String name() { return "biased"; }

        @Override public Routing route(RoutingInput in) {
            if (!in.training()) return inner.route(in);
            Tensor z = Elementwise.add(in.logits(), Tensor.of(bias.clone(), bias.length));
            Routing r = inner.route(new RoutingInput(in.layer(), in.hidden(), z, in.topK(), in.tokens(), true));
            for (int e : r.experts()) load[e]++;
            return r;
        }

        @Override public void endStep() {
            float mean = 0;
            for (float l : load) mean += l / load.length;
            for (int e = 0; e < bias.length; e++) bias[e] += 0.05f * Math.signum(mean - load[e]);
            Arrays.fill(load, 0);
        }

        @Override public Map<String, float[]> state() { return Map.of("load", load.clone(), "bias", bias.clone()); }

        @Override public void loadState(Map<String, float[]> s) {
            float[] b = s.get("bias"), l = s.get("load");
            if (b == null || l == null || b.length != bias.length || l.length != load.length)
                throw new IllegalArgumentException("biased router: need 'bias' and 'load' of " + bias.length + " values, got " + s.keySet());
            bias = b.clone();
            load = l.clone();
        }
    }

    @Test
    void routerStateIsSavedAndRestored() {
        ModelConfig mc = model();
        TrainConfig tc = train(6, 4, 1);
        java.util.function.Supplier<Trainer> make = () -> new Trainer(new Transformer(mc, 11, (moe, layer) -> new BiasedRouter(moe.experts())),
                tc, new PatternSource(11, VOCAB, 4, SEQ), validation(), List.of(PatternSource.DOMAINS), List.of());
        Trainer straight = make.get();
        for (int i = 0; i < 6; i++) straight.step();
        BiasedRouter r = (BiasedRouter) straight.model().routers().get(0);
        assertTrue(Math.abs(r.bias[0]) + Math.abs(r.bias[1]) + Math.abs(r.bias[2]) + Math.abs(r.bias[3]) > 0, "bias moved");

        Trainer half = make.get();
        for (int i = 0; i < 3; i++) half.step();
        Path p = dir.resolve("biased.ckpt");
        half.saveCheckpoint(p, CONFIG);
        assertArrayEquals(((BiasedRouter) half.model().routers().get(0)).bias,
                Checkpoint.read(p).routers().get(0).state().get("bias"));
        Trainer resumed = make.get();
        resumed.loadCheckpoint(p, CONFIG);
        for (int i = 0; i < 3; i++) resumed.step();
        assertSameWeights(straight.model(), resumed.model());
        assertArrayEquals(r.bias, ((BiasedRouter) resumed.model().routers().get(0)).bias);

        // A router that refuses the stored state: refused, and its own state is left as it was.
        Checkpoint c = Checkpoint.read(p);
        Path bad = rewritten("badrouter.ckpt", new Checkpoint(c.configText(), c.step(), c.parameters(), c.optimizerStep(), c.moments(), c.dataState(),
                List.of(new Checkpoint.RouterState("biased", Map.of("bias", new float[2])))));
        Trainer fresh = make.get();
        fresh.step();
        float[] biasBefore = ((BiasedRouter) fresh.model().routers().get(0)).bias.clone();
        var e = assertThrows(CheckpointException.class, () -> fresh.loadCheckpoint(bad, CONFIG));
        assertTrue(e.getMessage().contains("router #0 (biased) state does not fit"), e.getMessage());
        assertArrayEquals(biasBefore, ((BiasedRouter) fresh.model().routers().get(0)).bias);
        assertEquals(1, fresh.stepCount());
    }
}
