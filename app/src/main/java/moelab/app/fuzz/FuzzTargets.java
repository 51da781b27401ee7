package moelab.app.fuzz;

import moelab.app.config.ConfigLoader;
import moelab.app.config.RunConfig;
import moelab.config.ConfigException;
import moelab.data.Batch;
import moelab.data.BatchSource;
import moelab.fuzz.Fuzzer;
import moelab.fuzz.Mutator;
import moelab.nn.Transformer;
import moelab.train.Checkpoint;
import moelab.train.CheckpointException;
import moelab.train.SafeDType;
import moelab.train.SafeTensor;
import moelab.train.SafeTensors;
import moelab.train.Trainer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32;

/**
 * The three readers of user files under the fuzzer, each with its seed inputs (valid files of a
 * tiny model) and its own error type: safetensors (SafeTensorsException), checkpoints
 * (CheckpointException) and run configs, YAML and JSON (ConfigException).
 */
public final class FuzzTargets {
    private FuzzTargets() {}

    public static final List<String> NAMES = List.of("safetensors", "checkpoint", "config");

    /** A tiny model's config: small seed files, so mutations often reach the interesting parts. */
    static RunConfig tiny() {
        return ConfigLoader.load(null, List.of("model.d_model=8", "model.heads=2", "model.layers=2", "model.d_ff=8",
                "model.moe.d_ff=4", "model.moe.experts=2", "model.moe.top_k=1",
                "model.max_seq_len=8", "train.seq_len=8"));
    }

    /** Runs one target for count inputs. */
    public static Fuzzer.Report run(String name, long seed, long count, long timeoutMs) {
        return switch (name) {
            case "safetensors" -> Fuzzer.run(name, FuzzTargets::readSafeTensors, List.of(SafeTensors.SafeTensorsException.class),
                    new Mutator(seed, safeTensorsSeeds()), UnaryOperator.identity(), count, timeoutMs);
            case "checkpoint" -> Fuzzer.run(name, b -> Checkpoint.parse(b, "fuzz.ckpt"), List.of(CheckpointException.class),
                    new Mutator(seed, List.of(checkpointSeed())), crcFixer(seed), count, timeoutMs);
            case "config" -> Fuzzer.run(name, FuzzTargets::readConfig, List.of(ConfigException.class),
                    new Mutator(seed, configSeeds()), UnaryOperator.identity(), count, timeoutMs);
            default -> throw new ConfigException("--target", "'" + name + "' is not a fuzz target; targets: " + String.join(", ", NAMES));
        };
    }

    /** Parses, then converts every tensor (widening and non-finite counts read every value). */
    private static void readSafeTensors(byte[] b) {
        for (SafeTensor t : SafeTensors.parse(b, "fuzz.safetensors").tensors().values()) {
            if (t.dtype().isFloat) { t.data(); t.nonFinite(); } else t.longs();
        }
    }

    /** YAML when the input's first byte is even, JSON when odd (the same bytes exercise both readers). */
    private static void readConfig(byte[] b) {
        boolean json = b.length > 0 && (b[0] & 1) == 1;
        ConfigLoader.load(new ConfigLoader.Source(json ? "fuzz.json" : "fuzz.yaml", new String(b, StandardCharsets.UTF_8), json), List.of());
    }

    static List<byte[]> safeTensorsSeeds() {
        Transformer m = new Transformer(tiny().model(), 1);
        Map<String, SafeTensor> mixed = new LinkedHashMap<>();
        mixed.put("h", SafeTensor.ofFloats(new int[]{2}, new float[]{1.5f, Float.NaN}, SafeDType.F16));
        mixed.put("b", SafeTensor.ofFloats(new int[]{1, 2}, new float[]{-2f, 0.1f}, SafeDType.BF16));
        mixed.put("d", SafeTensor.ofFloats(new int[]{1}, new float[]{3f}, SafeDType.F64));
        mixed.put("ids", SafeTensor.ofLongs(new int[]{2}, new long[]{7, -1}, SafeDType.I64));
        mixed.put("i", SafeTensor.ofLongs(new int[]{1}, new long[]{5}, SafeDType.I32));
        mixed.put("u", SafeTensor.ofLongs(new int[]{3}, new long[]{0, 1, 255}, SafeDType.U8));
        mixed.put("m", SafeTensor.ofLongs(new int[]{0, 4}, new long[0], SafeDType.BOOL));
        Map<String, SafeTensor> params = new LinkedHashMap<>();
        m.parameters().asMap().forEach((k, v) -> params.put(k, SafeTensor.ofFloats(v.shape(), v.toArray(), SafeDType.BF16)));
        return List.of(SafeTensors.encode(mixed, Map.of("format", "pt")), SafeTensors.encode(params, null));
    }

    static byte[] checkpointSeed() {
        RunConfig cfg = tiny();
        try {
            Path f = Files.createTempFile("fuzz-seed", ".ckpt");
            try {
                new Trainer(new Transformer(cfg.model(), 1), cfg.train(), new NoData(), List.of(), List.of(), List.of())
                        .saveCheckpoint(f, ConfigLoader.toYaml(cfg));
                return Files.readAllBytes(f);
            } finally {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("fuzz: cannot make the seed checkpoint: " + e.getMessage(), e);
        }
    }

    static List<byte[]> configSeeds() {
        RunConfig cfg = tiny();
        String yaml = ConfigLoader.toYaml(cfg);
        String json = ConfigLoader.toTree(cfg).toString();
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        byte[] y = yaml.getBytes(StandardCharsets.UTF_8);
        // readConfig picks JSON by an odd first byte: '{' is odd, YAML seeds start with an even byte
        byte[] smallYaml = "train:\n  steps: 10\n  lr: 1e-3\nmodel:\n  moe: {top_k: 1, experts: 4}\nrun: {name: x}\n".getBytes(StandardCharsets.UTF_8);
        return List.of(y, j, smallYaml);
    }

    /**
     * Three inputs in four get a correct body length and CRC, so the body parser sees them
     * (otherwise nearly every mutation stops at the CRC check).
     */
    static UnaryOperator<byte[]> crcFixer(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5eed);
        return b -> {
            if (b.length < 20 + 4 || rnd.nextInt(4) == 0) return b;            // header 20 bytes, CRC 4
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            bb.putLong(12, b.length - 20L - 4);
            CRC32 crc = new CRC32();
            crc.update(b, 0, b.length - 4);
            bb.putInt(b.length - 4, (int) crc.getValue());
            return b;
        };
    }

    private static final class NoData implements BatchSource {
        @Override public Batch next() { throw new IllegalStateException("no data"); }
        @Override public byte[] saveState() { return new byte[0]; }
        @Override public void restoreState(byte[] state) { }
    }
}
