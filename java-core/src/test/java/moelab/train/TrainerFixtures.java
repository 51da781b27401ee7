package moelab.train;

import moelab.data.Batch;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import moelab.nn.Transformer;
import moelab.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A tiny MoE transformer and the pattern language, shared by the trainer and checkpoint tests. */
final class TrainerFixtures {
    private TrainerFixtures() {}

    static final int VOCAB = 16, SEQ = 12;

    /** 2 blocks: block 0 dense, block 1 MoE (E=4, k=2) with a shared expert. */
    static ModelConfig model(double lbl, double capacityFactor) {
        return new ModelConfig(VOCAB, 16, 2, 2, 24, SEQ, false, 10000, 1e-5f, 0.1,
                MoeConfig.defaults(4, 2, 12).withSharedExperts(1).withLayers("1").withCapacityFactor(capacityFactor)
                        .withAuxLossCoef(lbl).withZLossCoef(1e-3));
    }

    static ModelConfig model() { return model(0.01, 0.0); }

    static TrainConfig train(int steps, int microBatch, int gradAccum) {
        return new TrainConfig(11, steps, microBatch, gradAccum, SEQ, 1e-2f, 1e-3f, Math.min(3, steps), 0.01f,
                0.9f, 0.95f, 1.0f, 0, 2, 0, 1);
    }

    static List<Batch> validation() {
        PatternSource v = new PatternSource(999, VOCAB, 8, SEQ);
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < 2; i++) out.add(v.next());
        return out;
    }

    static Trainer trainer(ModelConfig mc, TrainConfig tc, long modelSeed, PatternSource src, List<TrainListener> ls) {
        return new Trainer(new Transformer(mc, modelSeed), tc, src, validation(), List.of(PatternSource.DOMAINS), ls);
    }

    static Trainer trainer(ModelConfig mc, TrainConfig tc) {
        return trainer(mc, tc, tc.seed(), new PatternSource(tc.seed(), VOCAB, tc.microBatch(), SEQ), List.of());
    }

    /** Every parameter of a and b equal bit for bit (NaN payloads included). */
    static void assertSameWeights(Transformer a, Transformer b) {
        Map<String, Tensor> pa = a.parameters().asMap(), pb = b.parameters().asMap();
        assertEquals(pa.keySet(), pb.keySet());
        for (String n : pa.keySet()) assertSameBits(pa.get(n).toArray(), pb.get(n).toArray(), n);
    }

    static void assertSameBits(float[] x, float[] y, String what) {
        assertEquals(x.length, y.length, what + " length");
        for (int i = 0; i < x.length; i++)
            if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i]))
                fail(what + "[" + i + "]: " + x[i] + " vs " + y[i]);
    }

    static float[] snapshot(Transformer m) {
        int n = (int) m.parameters().count(), at = 0;
        float[] all = new float[n];
        for (Tensor t : m.parameters().asMap().values()) {
            float[] v = t.toArray();
            System.arraycopy(v, 0, all, at, v.length);
            at += v.length;
        }
        return all;
    }
}
