package moelab.train;

import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.kernels.Profile;
import moelab.kernels.TimedKernels;
import moelab.nn.ModelConfig;
import moelab.nn.MoeConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static moelab.train.TrainerFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** The profile of one real training step: every region seen, nothing double counted, GEMM flops as computed by hand. */
class TrainerProfileTest {
    private final Kernels saved = Backends.get();

    @AfterEach
    void restore() {
        Profile.enable(false);
        Profile.reset();
        Backends.use(saved);
    }

    @Test
    void oneStepIsBrokenDownConsistently() {
        ModelConfig mc = model();   // block 0 dense, block 1 MoE with a shared expert, dropless
        int microBatch = 4;
        Trainer trainer = trainer(mc, train(3, microBatch, 1));
        Backends.use(new TimedKernels(Backends.get()));
        trainer.step();             // warm-up, unprofiled

        Profile.enable(true);
        Profile.reset();
        long w0 = System.nanoTime();
        trainer.step();
        long wall = System.nanoTime() - w0;
        Profile.Snapshot s = Profile.snapshot();
        Profile.enable(false);

        assertEquals(0, Profile.openRegions(), "every region was closed");
        assertTrue(s.attributedNanos() <= wall, "exclusive regions " + s.attributedNanos() + " ns within the wall time " + wall);
        for (int r : new int[]{Profile.GEMM, Profile.ATTENTION, Profile.ROUTING, Profile.EXPERTS, Profile.OPTIMIZER})
            assertTrue(s.nanos(r) > 0, Profile.name(r) + " got time");
        long gemmByCaller = 0;
        for (long g : s.gemmNanosIn()) gemmByCaller += g;
        assertEquals(s.nanos(Profile.GEMM), gemmByCaller, "each GEMM nanosecond has exactly one caller");
        assertTrue(s.gemmNanosIn()[Profile.EXPERTS] > 0 && s.gemmNanosIn()[Profile.ROUTING] > 0 && s.gemmNanosIn()[Profile.NONE] > 0);
        // attention runs its heads as forEachTask tasks: their GEMMs count in the attention region, not one by one
        assertEquals(0, s.gemmNanosIn()[Profile.ATTENTION]);
        assertEquals(0, s.gemmNanosIn()[Profile.OPTIMIZER]);

        // two blocks: attention forward + backward each; one MoE block: router, plan, gather,
        // combine forward, gate/dispatch and scatter backward; experts forward + backward
        assertEquals(2 * mc.layers(), s.calls()[Profile.ATTENTION]);
        assertEquals(6, s.calls()[Profile.ROUTING]);
        assertEquals(2, s.calls()[Profile.EXPERTS]);
        assertEquals(1, s.calls()[Profile.OPTIMIZER]);

        // GEMM flops (2mnk): every MatMul costs 3x its forward (dA and dB); the fused experts the
        // same; the attention heads' GEMMs run inside task sections and are not counted.
        long t = (long) microBatch * SEQ, d = mc.dModel();
        MoeConfig moe = mc.moe();
        long matmul = 0;
        for (int l = 0; l < mc.layers(); l++) {
            matmul += 4 * 2 * t * d * d;                                     // q, k, v, o
            if (mc.isMoeLayer(l)) {
                matmul += 2 * t * d * moe.experts();                         // router
                matmul += 3 * 2 * (t * moe.topK()) * d * moe.dFf();          // routed experts (dropless)
                matmul += 3 * 2 * t * d * ((long) moe.dFf() * moe.sharedExperts());
            } else {
                matmul += 3 * 2 * t * d * mc.dFf();
            }
        }
        matmul += 2 * t * d * mc.vocabSize();                                // LM head
        assertEquals(3 * matmul, s.gemmFlops());
    }
}
