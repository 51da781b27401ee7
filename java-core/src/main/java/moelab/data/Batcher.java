package moelab.data;

import java.nio.ByteBuffer;

/**
 * Endless seeded training micro-batches over a {@link TokenizedCorpus}.
 *
 * <h2>Sequences</h2>
 * Every sequence is a window of seqLen + 1 consecutive tokens of ONE domain's training stream
 * (documents of that domain packed with separators), so every token has one domain label:
 * inputs = window[0, seqLen), targets = window[1, seqLen]. Windows of an epoch do not overlap;
 * they start at offset o_d + w * seqLen, where o_d in [0, seqLen) is drawn per domain and epoch,
 * so the cut points move from epoch to epoch.
 *
 * <h2>Composition</h2>
 * <ul>
 *   <li>random: all windows of all domains are shuffled together and taken microBatch at a time,
 *       so a micro-batch mixes domains at random (in proportion to their windows);</li>
 *   <li>domain_homogeneous: each domain's windows are shuffled and grouped microBatch at a time,
 *       and these single-domain micro-batches are shuffled; domains come in proportion to their
 *       data (equal shares when balanced), sampled without replacement within an epoch.</li>
 *   <li>stratified: the domains take turns: round r holds the r-th (shuffled) window of every
 *       domain, in a shuffled domain order, and the rounds are cut microBatch sequences at a time.
 *       When microBatch is a multiple of the number of domains, every micro-batch holds exactly
 *       microBatch / domains sequences of each domain (a micro-batch is a miniature of the whole
 *       mix: the control under which a balancing scope should stop mattering). An epoch has as
 *       many rounds as the smallest domain has windows; larger domains' extra windows wait for
 *       a later epoch.</li>
 * </ul>
 * Windows that do not fill a last micro-batch are left out of that epoch (they change every epoch).
 *
 * <h2>State</h2>
 * An epoch's plan is a pure function of (seed, epoch): its random generator is derived from both,
 * so the position (epoch, micro-batch index) is the whole state. {@link #saveState()} stores it
 * with the settings and the corpus fingerprint; {@link #restoreState} refuses a state from another
 * corpus, tokenizer or setting and says which one differs.
 */
public final class Batcher implements BatchSource {
    private static final int MAGIC = 0x4D4C4231; // "MLB1"
    private static final int VERSION = 1;
    private static final long SALT_EPOCH = 0xE90C;
    private static final java.util.List<String> COMPOSITIONS = DataConfig.COMPOSITIONS; // index = the code a state stores
    private static final int RANDOM = 0, HOMOGENEOUS = 1, STRATIFIED = 2;

    private final TokenizedCorpus corpus;
    private final int microBatch, seqLen;
    private final int composition;  // COMPOSITIONS index: 0 random, 1 domain_homogeneous, 2 stratified
    private final long seed;
    private final boolean[] trainDomains; // null = all

    private long epoch;
    private int cursor;            // next micro-batch of the epoch
    private int batchesInEpoch;
    private int[] planDomain, planStart; // per sequence of the epoch, microBatch per micro-batch

    /**
     * @param composition {@link DataConfig#RANDOM}, {@link DataConfig#DOMAIN_HOMOGENEOUS} or {@link DataConfig#STRATIFIED}
     * @throws IllegalArgumentException naming the domain when one is too short for a sequence (or,
     *         homogeneous, for a micro-batch of sequences)
     */
    public Batcher(TokenizedCorpus corpus, int microBatch, int seqLen, String composition, long seed) {
        this(corpus, microBatch, seqLen, composition, seed, null);
    }

    /**
     * trainDomains[d] = whether domain d's windows are used ({@link DataConfig#trainDomainMask}); null = all.
     * Left-out domains keep their index (Batch.domains) and draw their offsets as before.
     */
    public Batcher(TokenizedCorpus corpus, int microBatch, int seqLen, String composition, long seed, boolean[] trainDomains) {
        if (trainDomains != null && trainDomains.length != corpus.domainCount())
            throw new IllegalArgumentException("Batcher: " + trainDomains.length + " domain flags for " + corpus.domainCount() + " domains");
        boolean anyDomain = trainDomains == null;
        if (trainDomains != null) for (boolean b : trainDomains) anyDomain |= b;
        if (!anyDomain) throw new IllegalArgumentException("Batcher: no training domain selected");
        this.trainDomains = trainDomains == null ? null : trainDomains.clone();
        if (microBatch < 1 || seqLen < 1)
            throw new IllegalArgumentException("Batcher: microBatch " + microBatch + " and seqLen " + seqLen + " must be >= 1");
        moelab.config.ConfigException.oneOf("data.composition", composition, COMPOSITIONS.toArray(String[]::new));
        this.corpus = corpus;
        this.microBatch = microBatch;
        this.seqLen = seqLen;
        this.composition = COMPOSITIONS.indexOf(composition);
        this.seed = seed;
        boolean homogeneous = this.composition == HOMOGENEOUS;
        long total = 0, fewestRounds = Long.MAX_VALUE;
        int used = 0;
        for (int d = 0; d < corpus.domainCount(); d++) {
            if (!uses(d)) continue;
            int len = corpus.trainTokens(d).length;
            String name = corpus.domains().get(d);
            if (len < seqLen + 1)
                throw new IllegalArgumentException("Batcher: domain '" + name + "' has " + len + " training tokens, fewer than seq_len + 1 = " + (seqLen + 1));
            int fewest = windows(len, maxOffset(len)); // fewest windows any epoch can give it
            if (homogeneous && fewest < microBatch)
                throw new IllegalArgumentException("Batcher: domain '" + name + "' has " + len + " training tokens, only " + fewest
                        + " sequences of seq_len " + seqLen + ", fewer than micro_batch " + microBatch + " (domain_homogeneous needs a full micro-batch per domain)");
            total += fewest;
            fewestRounds = Math.min(fewestRounds, fewest);
            used++;
        }
        if (total < microBatch)
            throw new IllegalArgumentException("Batcher: the corpus gives only " + total + " sequences of seq_len " + seqLen + ", fewer than micro_batch " + microBatch);
        if (this.composition == STRATIFIED && fewestRounds * used < microBatch)
            throw new IllegalArgumentException("Batcher: stratified composition takes one sequence of every domain per round; the smallest domain gives only "
                    + fewestRounds + " rounds of " + used + " sequences, fewer than micro_batch " + microBatch);
        plan(0);
    }

    private boolean uses(int d) { return trainDomains == null || trainDomains[d]; }

    /** The corpus fingerprint, mixed with the domain selection when there is one (old states stay valid). */
    private long fingerprint() {
        long h = corpus.fingerprint();
        if (trainDomains != null)
            for (int d = 0; d < trainDomains.length; d++) if (trainDomains[d]) h = SplitMix64.derive(h, 0xD0L + d);
        return h;
    }

    private int maxOffset(int len) { return Math.min(seqLen, len - seqLen) - 1; }

    private int windows(int len, int offset) { return (len - 1 - offset) / seqLen; }

    /** Builds the plan of epoch e: window order and micro-batch grouping, from (seed, e) only. */
    private void plan(long e) {
        SplitMix64 rng = new SplitMix64(SplitMix64.derive(SplitMix64.derive(seed, SALT_EPOCH), e));
        int nd = corpus.domainCount();
        int[] offset = new int[nd], count = new int[nd];
        long total = 0;
        for (int d = 0; d < nd; d++) {
            int len = corpus.trainTokens(d).length;
            offset[d] = len < seqLen + 1 ? 0 : rng.nextInt(maxOffset(len) + 1);
            count[d] = uses(d) ? windows(len, offset[d]) : 0;
            total += count[d];
        }
        if (total > Integer.MAX_VALUE - 8) throw new IllegalStateException("Batcher: " + total + " sequences per epoch is too many");
        int[] dom = new int[(int) total], start = new int[(int) total];
        int n = 0;
        if (composition == STRATIFIED) {
            int[][] window = new int[nd][]; // each used domain's windows in shuffled order
            int rounds = Integer.MAX_VALUE, used = 0;
            for (int d = 0; d < nd; d++) {
                if (count[d] == 0) continue;
                window[d] = new int[count[d]];
                for (int i = 0; i < count[d]; i++) window[d][i] = i;
                rng.shuffle(window[d], 0, count[d]);
                rounds = Math.min(rounds, count[d]);
                used++;
            }
            int[] turn = new int[used];
            for (int d = 0, u = 0; d < nd; d++) if (count[d] > 0) turn[u++] = d;
            batchesInEpoch = (int) ((long) rounds * used / microBatch);
            n = batchesInEpoch * microBatch;
            planDomain = new int[n];
            planStart = new int[n];
            for (int r = 0, k = 0; k < n; r++) {
                rng.shuffle(turn, 0, used);
                for (int u = 0; u < used && k < n; u++, k++) {
                    planDomain[k] = turn[u];
                    planStart[k] = offset[turn[u]] + window[turn[u]][r] * seqLen;
                }
            }
        } else if (composition == RANDOM) {
            int[] order = new int[(int) total];
            for (int d = 0, k = 0; d < nd; d++)
                for (int w = 0; w < count[d]; w++, k++) { dom[k] = d; start[k] = offset[d] + w * seqLen; order[k] = k; }
            rng.shuffle(order, 0, order.length);
            batchesInEpoch = (int) (total / microBatch);
            n = batchesInEpoch * microBatch;
            planDomain = new int[n];
            planStart = new int[n];
            for (int i = 0; i < n; i++) { planDomain[i] = dom[order[i]]; planStart[i] = start[order[i]]; }
        } else {
            int groups = 0;
            for (int d = 0; d < nd; d++) groups += count[d] / microBatch;
            int[] groupDomain = new int[groups], groupFirst = new int[groups]; // first sequence index in dom/start
            int k = 0, g = 0;
            for (int d = 0; d < nd; d++) {
                int[] w = new int[count[d]];
                for (int i = 0; i < w.length; i++) w[i] = i;
                rng.shuffle(w, 0, w.length);
                int full = count[d] / microBatch * microBatch;
                for (int i = 0; i < full; i++) {
                    if (i % microBatch == 0) { groupDomain[g] = d; groupFirst[g] = k; g++; }
                    dom[k] = d;
                    start[k] = offset[d] + w[i] * seqLen;
                    k++;
                }
            }
            int[] order = new int[groups];
            for (int i = 0; i < groups; i++) order[i] = i;
            rng.shuffle(order, 0, groups);
            batchesInEpoch = groups;
            n = groups * microBatch;
            planDomain = new int[n];
            planStart = new int[n];
            for (int i = 0; i < groups; i++)
                for (int j = 0; j < microBatch; j++) {
                    planDomain[i * microBatch + j] = groupDomain[order[i]];
                    planStart[i * microBatch + j] = start[groupFirst[order[i]] + j];
                }
        }
        epoch = e;
        cursor = 0;
    }

    @Override
    public Batch next() {
        int n = microBatch * seqLen;
        int[] in = new int[n], tg = new int[n], dm = new int[n];
        for (int b = 0; b < microBatch; b++) {
            int i = cursor * microBatch + b, d = planDomain[i], s = planStart[i];
            int[] stream = corpus.trainTokens(d);
            System.arraycopy(stream, s, in, b * seqLen, seqLen);
            System.arraycopy(stream, s + 1, tg, b * seqLen, seqLen);
            java.util.Arrays.fill(dm, b * seqLen, (b + 1) * seqLen, d);
        }
        if (++cursor == batchesInEpoch) plan(epoch + 1); // roll over now, so epoch() and saveState() name the next batch
        return new Batch(in, tg, microBatch, seqLen, dm);
    }

    /** The epoch the next micro-batch comes from: 0 during the first pass over the data. */
    public long epoch() { return epoch; }

    /** Micro-batches already taken from the current epoch (the index of the next one). */
    public int cursor() { return cursor; }

    /** Micro-batches in the current epoch (varies a little between epochs with the window offsets). */
    public int batchesInEpoch() { return batchesInEpoch; }

    public TokenizedCorpus corpus() { return corpus; }

    @Override
    public byte[] saveState() {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 + 4 + 4 + 1 + 8 + 8 + 8 + 4);
        b.putInt(MAGIC).putInt(VERSION).putInt(seqLen).putInt(microBatch).put((byte) composition)
                .putLong(seed).putLong(fingerprint()).putLong(epoch).putInt(cursor);
        return b.array();
    }

    @Override
    public void restoreState(byte[] state) {
        String what = "Batcher.restoreState: ";
        if (state == null || state.length != 45)
            throw new IllegalArgumentException(what + "expected a 45-byte batcher state, got " + (state == null ? "null" : state.length + " bytes"));
        ByteBuffer b = ByteBuffer.wrap(state);
        if (b.getInt() != MAGIC) throw new IllegalArgumentException(what + "not a batcher state (bad magic)");
        int v = b.getInt();
        if (v != VERSION) throw new IllegalArgumentException(what + "state version " + v + " is not supported (this build writes " + VERSION + ")");
        int s = b.getInt(), mb = b.getInt();
        int h = b.get();
        long sd = b.getLong(), fp = b.getLong(), e = b.getLong();
        int c = b.getInt();
        if (s != seqLen) throw new IllegalArgumentException(what + "saved with seq_len " + s + ", this run has " + seqLen);
        if (mb != microBatch) throw new IllegalArgumentException(what + "saved with micro_batch " + mb + ", this run has " + microBatch);
        if (h < 0 || h >= COMPOSITIONS.size()) throw new IllegalArgumentException(what + "composition code " + h + " is unknown (corrupt state)");
        if (h != composition) throw new IllegalArgumentException(what + "saved with composition " + COMPOSITIONS.get(h) + ", this run has " + COMPOSITIONS.get(composition));
        if (sd != seed) throw new IllegalArgumentException(what + "saved with seed " + sd + ", this run has " + seed);
        if (fp != fingerprint())
            throw new IllegalArgumentException(what + "saved for a different corpus or tokenizer (fingerprint " + Long.toHexString(fp)
                    + ", this run's " + Long.toHexString(fingerprint()) + "): data.path, its files, the tokenizer, data.balance and data.domains must match");
        if (e < 0) throw new IllegalArgumentException(what + "epoch " + e + " is negative (corrupt state)");
        plan(e);
        if (c < 0 || c >= batchesInEpoch)
            throw new IllegalArgumentException(what + "position " + c + " is outside epoch " + e + "'s " + batchesInEpoch + " micro-batches (corrupt state)");
        cursor = c;
    }
}
