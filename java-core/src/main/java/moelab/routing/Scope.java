package moelab.routing;

import moelab.config.ConfigException;

/**
 * Which tokens a balancing method balances over. The tokens of a forward pass are row-major
 * (sequence, position), so every group is a contiguous token range; {@link #groups} returns the
 * boundaries [b0=0, b1, ..., bn=T] (group g = tokens [b_g, b_g+1)).
 * <ul>
 * <li>SEQUENCE: one group per sequence;
 * <li>MICRO_BATCH: one group per emulated micro-batch of {@code group_sequences} sequences (the
 *     last one may be shorter), or the whole forward pass when group_sequences = 0;
 * <li>GLOBAL: the whole forward pass; methods with step state (LBL counts, EB bias) also carry
 *     the counts across the micro-batches of an optimizer step.
 * </ul>
 */
public enum Scope {
    SEQUENCE("sequence"), MICRO_BATCH("micro_batch"), GLOBAL("global");

    private final String configName;

    Scope(String configName) { this.configName = configName; }

    /** The YAML spelling (model.moe.balance.scope). */
    @Override public String toString() { return configName; }

    public static Scope parse(String s) { return ConfigException.named("model.moe.balance.scope", s, Scope.class); }

    /** Group boundaries for T tokens laid out as in {@code info} (null info = one sequence of T tokens). */
    public int[] groups(TokenInfo info, int tokens, int groupSequences) {
        return switch (this) {
            case SEQUENCE -> split(tokens, seqLen(info, tokens));
            case MICRO_BATCH -> microBatches(info, tokens, groupSequences);
            case GLOBAL -> new int[]{0, tokens};
        };
    }

    /** The emulated micro-batches (capacity is applied per micro-batch, whatever the scope). */
    public static int[] microBatches(TokenInfo info, int tokens, int groupSequences) {
        return groupSequences <= 0 ? new int[]{0, tokens} : split(tokens, (long) groupSequences * seqLen(info, tokens));
    }

    private static int seqLen(TokenInfo info, int tokens) {
        if (info == null || info.tokens() != tokens || info.seqLen() == 0) return Math.max(tokens, 1);
        return info.seqLen();
    }

    private static int[] split(int tokens, long size) {
        int n = tokens == 0 ? 1 : (int) ((tokens + size - 1) / size);
        int[] b = new int[n + 1];
        for (int g = 1; g <= n; g++) b[g] = (int) Math.min(tokens, g * size);
        return b;
    }
}
