package moelab.train;

import moelab.data.Batch;
import moelab.dist.Collective;
import moelab.routing.RoutingRecord;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A rank's share of a global micro-batch, and the routing records of the whole batch back from
 * the shares. Rank r of N takes the contiguous sequences [r*B/N, (r+1)*B/N), so the shares in rank
 * order are the batch in its own order (B divisible by N, checked by the trainer).
 */
final class BatchShard {
    private BatchShard() {}

    // global batch [B, S] -> rank's shard [B/N, S]
    static Batch of(Batch global, int rank, int ranks) {
        if (ranks == 1) return global;
        int per = global.batch() / ranks, s = global.seqLen(), from = rank * per * s, to = from + per * s;
        return new Batch(Arrays.copyOfRange(global.inputs(), from, to), Arrays.copyOfRange(global.targets(), from, to), per, s,
                global.domains() == null ? null : Arrays.copyOfRange(global.domains(), from, to));
    }

    /**
     * Each rank's records (one per MoE layer per micro-batch, in the same order on every rank) joined
     * over the ranks: record i of the result covers the tokens of record i on every rank, in rank order.
     */
    static List<RoutingRecord> gather(List<RoutingRecord> mine, Collective ranks) {
        List<RoutingRecord> out = new ArrayList<>(mine.size());
        for (RoutingRecord r : mine) {
            int[] kept = new int[r.kept().length];
            for (int i = 0; i < kept.length; i++) kept[i] = r.kept()[i] ? 1 : 0;
            int[] keptAll = ranks.gather(kept);
            boolean[] keptGlobal = new boolean[keptAll.length];
            for (int i = 0; i < keptAll.length; i++) keptGlobal[i] = keptAll[i] != 0;
            out.add(new RoutingRecord(r.layer(), r.tokens() * ranks.size(), r.experts(), r.topK(), ranks.gather(r.selected()), keptGlobal,
                    r.probs() == null ? null : ranks.gather(r.probs()), r.domains() == null ? null : ranks.gather(r.domains())));
        }
        return out;
    }
}
