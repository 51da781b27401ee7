package moelab.train;

import moelab.data.Batch;
import moelab.data.BatchSource;
import moelab.nn.ModelConfig;
import moelab.nn.Transformer;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static moelab.train.TrainerFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

class TrainerTest {

    @Test
    void lossFallsFarBelowChanceAndEvalReportsEveryDomain() {
        TrainConfig tc = train(60, 8, 1);
        List<StepMetrics> steps = new ArrayList<>();
        List<EvalMetrics> evals = new ArrayList<>();
        TrainListener l = new TrainListener() {
            @Override public void onStep(StepMetrics m) { steps.add(m); }
            @Override public void onEval(EvalMetrics m) { evals.add(m); }
        };
        Trainer t = trainer(model(), tc, 11, new PatternSource(11, VOCAB, 8, SEQ), List.of(l));
        EvalMetrics before = t.evaluate();
        t.run(null);

        assertEquals(60, steps.size());
        assertEquals(60, t.stepCount());
        for (int i = 0; i < steps.size(); i++) assertEquals(i + 1, steps.get(i).step(), "steps count updates done, from 1");
        double chance = Math.log(VOCAB);
        assertEquals(chance, before.loss(), 0.5, "an untrained model is near chance");
        EvalMetrics after = evals.get(evals.size() - 1);
        assertEquals(60, after.step());
        // Only the first token of each sequence is unpredictable: 1/12 of the positions cost ln 16.
        assertTrue(after.loss() < 0.5 * chance, "validation loss " + after.loss() + " vs chance " + chance);
        assertEquals(List.of(PatternSource.DOMAINS), new ArrayList<>(after.perDomain().keySet()));
        for (double d : after.perDomain().values()) assertTrue(d < chance, "per-domain loss " + after.perDomain());

        StepMetrics first = steps.get(0), last = steps.get(59);
        assertTrue(last.lmLoss() < 0.5 * first.lmLoss(), "training loss " + first.lmLoss() + " -> " + last.lmLoss());
        assertEquals(first.lmLoss() + first.auxLoss(), first.loss(), 1e-6);
        assertTrue(first.auxLoss() > 0, "LBL and z-loss are on");
        assertEquals(tc.lr() / 3, first.lr(), 1e-9, "warm-up step 1 of 3");
        assertEquals(1, first.routing().size(), "one MoE layer, one micro-batch");
        assertEquals(8 * SEQ, first.routing().get(0).tokens());
        assertTrue(first.gradNorm() > 0 && first.tokensPerSec() > 0);
    }

    /** Eval loss equals the mean of the per-token losses the domains split. */
    @Test
    void evalLossIsTheTokenWeightedMeanOfTheDomainLosses() {
        Trainer t = trainer(model(), train(2, 4, 1));
        t.step();
        EvalMetrics m = t.evaluate();
        long[] counts = new long[PatternSource.DOMAINS.length];
        for (Batch b : validation()) for (int d : b.domains()) counts[d]++;
        double sum = 0;
        long n = 0;
        for (int d = 0; d < counts.length; d++) {
            if (counts[d] == 0) continue;
            sum += m.perDomain().get(PatternSource.DOMAINS[d]) * counts[d];
            n += counts[d];
        }
        assertEquals(m.loss(), sum / n, 1e-9);
        assertEquals(1, m.step());
    }

    @Test
    void sameSeedAndConfigGiveTheSameLossesBitForBit() {
        ModelConfig mc = model(0.01, 1.25);   // with capacity dropping too
        TrainConfig tc = train(6, 4, 2);
        Trainer a = trainer(mc, tc), b = trainer(mc, tc);
        for (int i = 0; i < 6; i++) {
            StepMetrics x = a.step(), y = b.step();
            assertEquals(Double.doubleToRawLongBits(x.loss()), Double.doubleToRawLongBits(y.loss()), "step " + i);
            assertEquals(Double.doubleToRawLongBits(x.gradNorm()), Double.doubleToRawLongBits(y.gradNorm()), "step " + i);
        }
        assertSameWeights(a.model(), b.model());
        assertEquals(Double.doubleToRawLongBits(a.evaluate().loss()), Double.doubleToRawLongBits(b.evaluate().loss()));
    }

    /** N steps straight == N/2 steps, save, a fresh trainer and model, load, N/2 steps. */
    @Test
    void aStopRequestEndsRunAfterTheStepWithACheckpointAndResumeTellsListeners(@TempDir Path dir) {
        ModelConfig mc = model(0.01, 1.25);
        TrainConfig tc = train(8, 4, 2);
        List<Long> resumedAt = new ArrayList<>();
        long[] seen = {0};
        TrainListener l = new TrainListener() {
            @Override public void onStep(StepMetrics m) { seen[0] = m.step(); }
            @Override public void onResume(long step) { resumedAt.add(step); }
        };
        Trainer t = trainer(mc, tc, 11, new PatternSource(11, VOCAB, 4, SEQ), List.of(l));
        t.setStopRequested(() -> seen[0] >= 3);
        t.run(dir);
        assertTrue(t.stopped());
        assertEquals(3, t.stepCount(), "the step in progress finished, no more");
        assertEquals(List.of(dir.resolve(Checkpoint.fileName(3))), Checkpoint.list(dir), "the finished step is checkpointed");
        Trainer again = trainer(mc, tc, 11, new PatternSource(11, VOCAB, 4, SEQ), List.of(l));
        again.loadCheckpoint(dir.resolve(Checkpoint.fileName(3)), null);
        assertEquals(List.of(3L), resumedAt);
        again.run(dir);
        assertFalse(again.stopped());
        assertEquals(8, again.stepCount());
    }

    @Test
    void resumeIsBitExact(@TempDir Path dir) {
        ModelConfig mc = model(0.01, 1.25);
        TrainConfig tc = train(8, 4, 2);
        String config = "the config\nsteps: 8\n";

        Trainer straight = trainer(mc, tc);
        List<StepMetrics> all = new ArrayList<>();
        for (int i = 0; i < 8; i++) all.add(straight.step());

        Trainer firstHalf = trainer(mc, tc);
        for (int i = 0; i < 4; i++)
            assertEquals(Double.doubleToRawLongBits(all.get(i).loss()), Double.doubleToRawLongBits(firstHalf.step().loss()));
        Path file = dir.resolve("half.ckpt");
        firstHalf.saveCheckpoint(file, config);

        // Different init seed and data seed: everything must come from the checkpoint.
        PatternSource freshData = new PatternSource(12345, VOCAB, 4, SEQ);
        Trainer resumed = trainer(mc, tc, 777, freshData, List.of());
        resumed.loadCheckpoint(file, config);
        assertEquals(4, resumed.stepCount());
        assertEquals(4, resumed.optimizer().stepCount());
        assertEquals(8, freshData.batchesServed(), "data position restored: 4 steps x 2 micro-batches");
        assertSameWeights(firstHalf.model(), resumed.model());
        for (int i = 4; i < 8; i++) {
            StepMetrics r = resumed.step();
            assertEquals(i + 1, r.step());
            assertEquals(Double.doubleToRawLongBits(all.get(i).loss()), Double.doubleToRawLongBits(r.loss()), "loss of step " + i);
            assertEquals(Double.doubleToRawLongBits(all.get(i).lr()), Double.doubleToRawLongBits(r.lr()), "lr of step " + i);
        }
        assertSameWeights(straight.model(), resumed.model());
        for (int i = 0; i < straight.optimizer().firstMoments().size(); i++) {
            assertSameBits(straight.optimizer().firstMoments().get(i), resumed.optimizer().firstMoments().get(i), "m" + i);
            assertSameBits(straight.optimizer().secondMoments().get(i), resumed.optimizer().secondMoments().get(i), "v" + i);
        }
    }

    @Test
    void runEvaluatesAndCheckpointsOnScheduleAndResumesFromTheLatest(@TempDir Path dir) throws Exception {
        TrainConfig tc = new TrainConfig(3, 7, 2, 1, SEQ, 1e-2f, 1e-3f, 2, 0.01f, 0.9f, 0.95f, 1f,
                3, 1, 2, 1);
        List<Long> evals = new ArrayList<>(), ckpts = new ArrayList<>();
        TrainListener l = new TrainListener() {
            @Override public void onEval(EvalMetrics m) { evals.add(m.step()); }
            @Override public void onCheckpoint(Path f, long step) {
                assertTrue(Files.exists(f), "listener sees a finished file");
                ckpts.add(step);
            }
        };
        Trainer t = trainer(model(), tc, 3, new PatternSource(3, VOCAB, 2, SEQ), List.of(l)).setKeepCheckpoints(2);
        t.setConfigText("yaml\n");
        t.run(dir);
        assertEquals(List.of(3L, 6L, 7L), evals, "every 3 steps and at the end");
        assertEquals(List.of(2L, 4L, 6L, 7L), ckpts, "every 2 steps and at the end");
        assertEquals(List.of(dir.resolve("step-00000006.ckpt"), dir.resolve("step-00000007.ckpt")), Checkpoint.list(dir), "newest 2 kept");
        assertEquals(dir.resolve("step-00000007.ckpt"), Checkpoint.latest(dir).orElseThrow());
        assertEquals("yaml\n", Checkpoint.readConfigText(Checkpoint.latest(dir).orElseThrow()));

        // Resume from step 6 and run to the end: same weights as the straight run.
        Trainer r = trainer(model(), tc, 3, new PatternSource(3, VOCAB, 2, SEQ), List.of());
        r.loadCheckpoint(dir.resolve("step-00000006.ckpt"), "yaml\n");
        r.run(null);
        assertEquals(7, r.stepCount());
        assertSameWeights(t.model(), r.model());
    }

    /**
     * gradAccum=2 over micro-batches of m equals gradAccum=1 over one batch of 2m (the same
     * sequences) when the loss is a mean over tokens and every micro-batch has as many targets:
     * cross-entropy and z-loss qualify; LBL (per micro-batch f_i * P_i) and capacity do not, so
     * both are off here. Equal up to float summation order.
     */
    @Test
    void gradientAccumulationMatchesOneBigBatch() {
        ModelConfig mc = model(0.0, 0.0);
        TrainConfig accum = new TrainConfig(5, 3, 2, 2, SEQ, 1e-2f, 1e-3f, 1, 0.01f, 0.9f, 0.95f, 0f, 0, 1, 0, 1);
        TrainConfig big = new TrainConfig(5, 3, 4, 1, SEQ, 1e-2f, 1e-3f, 1, 0.01f, 0.9f, 0.95f, 0f, 0, 1, 0, 1);
        // Same stream of sequences: the source draws sequence by sequence from one seed.
        Trainer a = trainer(mc, accum, 5, new PatternSource(5, VOCAB, 2, SEQ), List.of());
        Trainer b = trainer(mc, big, 5, new PatternSource(5, VOCAB, 4, SEQ), List.of());
        StepMetrics x = a.step(), y = b.step();
        assertEquals(y.loss(), x.loss(), 1e-6 * y.loss());
        assertEquals(y.gradNorm(), x.gradNorm(), 1e-5 * y.gradNorm());
        double diff = 0, norm = 0;
        Map<String, Tensor> pa = a.model().parameters().asMap(), pb = b.model().parameters().asMap();
        for (String n : pa.keySet()) {
            float[] ga = pa.get(n).grad(), gb = pb.get(n).grad();
            for (int i = 0; i < ga.length; i++) { diff += Math.pow(ga[i] - gb[i], 2); norm += Math.pow(gb[i], 2); }
        }
        assertTrue(Math.sqrt(diff / norm) < 1e-5, "relative gradient difference " + Math.sqrt(diff / norm));
        // The AdamW update itself: the first step moves each weight by about lr * sign(g), so it can
        // only differ where |g| is at rounding level; check the weights agree to a small fraction of lr.
        float[] wa = snapshot(a.model()), wb = snapshot(b.model());
        double maxDiff = 0;
        for (int i = 0; i < wa.length; i++) maxDiff = Math.max(maxDiff, Math.abs(wa[i] - wb[i]));
        assertTrue(maxDiff < 1e-2 * accum.lr(), "max weight difference after one step " + maxDiff);
        for (int s = 1; s < 3; s++) assertEquals(b.step().loss(), a.step().loss(), 1e-4);
    }

    @Test
    void nonFiniteLossStopsBeforeTheUpdate() {
        BatchSource bad = new BatchSource() {
            @Override public Batch next() {
                int n = 2 * SEQ;
                return new Batch(new int[n], new int[n], 2, SEQ, null);
            }
            @Override public byte[] saveState() { return new byte[0]; }
            @Override public void restoreState(byte[] s) {}
        };
        Transformer m = new Transformer(model(), 1);
        m.parameters().get("final_norm").data()[0] = Float.NaN;
        float[] before = snapshot(m);
        Trainer t = new Trainer(m, train(2, 2, 1), bad, List.of(), List.of(), List.of());
        var e = assertThrows(moelab.tensor.NonFiniteException.class, t::step);
        assertTrue(e.getMessage().contains("step 1,") && e.getMessage().contains("NaN"), e.getMessage());
        assertSameBits(before, snapshot(m), "weights");
        assertEquals(0, t.stepCount());
    }
}
