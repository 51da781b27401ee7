package moelab.routing;

/**
 * What a forward pass knows about its T = batch * seqLen tokens, row-major (sequence, position).
 * Balancing scopes need the sequence of each token; the reference router and the metrics need
 * its domain.
 *
 * @param batch   sequences in this micro-batch
 * @param seqLen  tokens per sequence
 * @param domains domain index of every token (length batch*seqLen), or null when unknown
 */
public record TokenInfo(int batch, int seqLen, int[] domains) {
    public TokenInfo {
        if (batch < 0 || seqLen < 0) throw new IllegalArgumentException("TokenInfo: batch " + batch + " and seqLen " + seqLen + " must be >= 0");
        if (domains != null && domains.length != batch * seqLen)
            throw new IllegalArgumentException("TokenInfo: " + domains.length + " domain labels for " + batch + " x " + seqLen + " tokens");
    }

    public static TokenInfo of(int batch, int seqLen) { return new TokenInfo(batch, seqLen, null); }

    public int tokens() { return batch * seqLen; }

    /** Sequence index of token t. */
    public int sequenceOf(int t) { return t / seqLen; }
}
