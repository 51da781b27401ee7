package moelab.data;

/**
 * One micro-batch of next-token examples, row-major (sequence, position).
 *
 * @param inputs  token ids [batch*seqLen]
 * @param targets next token ids [batch*seqLen] (-1 = ignored position)
 * @param batch   sequences
 * @param seqLen  tokens per sequence
 * @param domains domain index per token [batch*seqLen], or null
 */
public record Batch(int[] inputs, int[] targets, int batch, int seqLen, int[] domains) {
    public Batch {
        int n = batch * seqLen;
        if (inputs.length != n || targets.length != n || (domains != null && domains.length != n))
            throw new IllegalArgumentException("Batch: arrays must hold batch*seqLen = " + n + " values (inputs "
                    + inputs.length + ", targets " + targets.length + ", domains " + (domains == null ? "null" : domains.length) + ")");
    }

    public moelab.routing.TokenInfo tokenInfo() { return new moelab.routing.TokenInfo(batch, seqLen, domains); }
}
