package moelab.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The fixed validation micro-batches: per domain, consecutive windows over its validation stream,
 * window i = tokens [i*seqLen, i*seqLen + seqLen] (inputs the first seqLen, targets shifted by
 * one), covering every validation token once. The last window is padded: inputs with the
 * separator, targets with {@link moelab.ops.CrossEntropy#IGNORE} (-1). Each micro-batch holds
 * windows of one domain only, domains in index order, so the loss of a batch is a loss of that
 * domain. Losses are means over counted (non-ignored) targets, so weight a batch by its counted
 * targets when averaging. No randomness: the same corpus gives the same batches in every run.
 */
public final class ValidationBatches {
    private ValidationBatches() {}

    /**
     * @param maxSequencesPerDomain at most this many windows per domain, spread evenly over its
     *                              stream (0 = all); bounds the cost of an evaluation
     * @return batches of at most batchSize sequences; empty when there is no validation text.
     *         Domains with fewer than 2 validation tokens get no batch.
     */
    public static List<Batch> build(TokenizedCorpus corpus, int seqLen, int batchSize, int maxSequencesPerDomain) {
        if (seqLen < 1 || batchSize < 1 || maxSequencesPerDomain < 0)
            throw new IllegalArgumentException("ValidationBatches: seqLen " + seqLen + " and batchSize " + batchSize
                    + " must be >= 1 and maxSequencesPerDomain " + maxSequencesPerDomain + " >= 0");
        List<Batch> out = new ArrayList<>();
        int pad = corpus.separator();
        for (int d = 0; d < corpus.domainCount(); d++) {
            int[] v = corpus.validationTokens(d);
            if (v.length < 2) continue;
            int n = (v.length - 2) / seqLen + 1; // windows needed so every target position is covered
            int keep = maxSequencesPerDomain == 0 ? n : Math.min(n, maxSequencesPerDomain);
            for (int first = 0; first < keep; first += batchSize) {
                int b = Math.min(batchSize, keep - first);
                int[] in = new int[b * seqLen], tg = new int[b * seqLen], dm = new int[b * seqLen];
                Arrays.fill(in, pad);
                Arrays.fill(tg, moelab.ops.CrossEntropy.IGNORE);
                Arrays.fill(dm, d);
                for (int j = 0; j < b; j++) {
                    int w = (int) ((long) (first + j) * n / keep); // evenly spread when subsampling
                    int s = w * seqLen;
                    int m = Math.min(seqLen, v.length - 1 - s); // targets available
                    System.arraycopy(v, s, in, j * seqLen, m);
                    System.arraycopy(v, s + 1, tg, j * seqLen, m);
                }
                out.add(new Batch(in, tg, b, seqLen, dm));
            }
        }
        return out;
    }
}
