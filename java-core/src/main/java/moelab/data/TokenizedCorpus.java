package moelab.data;

import java.util.List;

/**
 * Per-domain token streams: for each domain, its training documents encoded and packed one after
 * the other with a separator token after each, and the same for its validation documents. The
 * input of {@link Batcher} and {@link ValidationBatches}. Streams are shared, not copied: treat
 * the arrays as read-only.
 */
public final class TokenizedCorpus {
    private final List<String> domains;
    private final int[][] train, validation;
    private final int vocabSize, separator;
    private final String tokenizerName;
    private final long fingerprint;

    /**
     * @param domains    domain names, index = domain id
     * @param train      training stream per domain
     * @param validation validation stream per domain (may be empty)
     * @param vocabSize  every id must be in [0, vocabSize)
     * @param separator  the id that ends each document (also the padding input of validation windows)
     */
    public TokenizedCorpus(List<String> domains, int[][] train, int[][] validation, int vocabSize, int separator, String tokenizerName) {
        if (domains.isEmpty() || train.length != domains.size() || validation.length != domains.size())
            throw new IllegalArgumentException("TokenizedCorpus: " + domains.size() + " domains but " + train.length + " training and "
                    + validation.length + " validation streams");
        if (separator < 0 || separator >= vocabSize)
            throw new IllegalArgumentException("TokenizedCorpus: separator " + separator + " is outside the vocabulary [0, " + vocabSize + ")");
        long h = SplitMix64.hash(tokenizerName);
        h = SplitMix64.hash(h, vocabSize);
        h = SplitMix64.hash(h, separator);
        for (int d = 0; d < domains.size(); d++) {
            h = SplitMix64.hash(h, SplitMix64.hash(domains.get(d)));
            h = SplitMix64.hash(h, streamHash(train[d], vocabSize, domains.get(d), "training"));
            h = SplitMix64.hash(h, streamHash(validation[d], vocabSize, domains.get(d), "validation"));
        }
        this.domains = List.copyOf(domains);
        this.train = train;
        this.validation = validation;
        this.vocabSize = vocabSize;
        this.separator = separator;
        this.tokenizerName = tokenizerName;
        this.fingerprint = h;
    }

    /** FNV-1a over the ids, checking each is in the vocabulary on the way. */
    private static long streamHash(int[] s, int vocab, String domain, String which) {
        long h = 0xCBF29CE484222325L ^ s.length;
        for (int i = 0; i < s.length; i++) {
            int t = s[i];
            if (t < 0 || t >= vocab)
                throw new IllegalArgumentException("TokenizedCorpus: " + which + " token " + i + " of domain '" + domain + "' is " + t
                        + ", outside the vocabulary [0, " + vocab + ")");
            h = (h ^ t) * 0x100000001B3L;
        }
        return h;
    }

    /** Cuts every stream to the shortest one's length. */
    static void capToShortest(int[][] streams) {
        int min = Integer.MAX_VALUE;
        for (int[] s : streams) min = Math.min(min, s.length);
        for (int d = 0; d < streams.length; d++)
            if (streams[d].length > min) streams[d] = java.util.Arrays.copyOf(streams[d], min);
    }

    public List<String> domains() { return domains; }

    public int domainCount() { return domains.size(); }

    public int vocabSize() { return vocabSize; }

    public int separator() { return separator; }

    public String tokenizerName() { return tokenizerName; }

    /** Training stream of domain d (read-only). */
    public int[] trainTokens(int d) { return train[d]; }

    /** Validation stream of domain d (read-only, may be empty). */
    public int[] validationTokens(int d) { return validation[d]; }

    public long trainTokenCount() {
        long n = 0;
        for (int[] s : train) n += s.length;
        return n;
    }

    public long validationTokenCount() {
        long n = 0;
        for (int[] s : validation) n += s.length;
        return n;
    }

    /** Hash of the tokenizer name, vocabulary, separator, domain names and every stream: what a saved batcher state is checked against. */
    public long fingerprint() { return fingerprint; }

    /**
     * Entropy in nats of the unigram distribution of the training tokens: the loss of a model that
     * predicts token frequencies only. A trained model should end well below it.
     */
    public double unigramEntropy() {
        long[] counts = new long[vocabSize];
        long n = 0;
        for (int[] s : train) { for (int t : s) counts[t]++; n += s.length; }
        double h = 0;
        for (long c : counts) if (c > 0) { double p = (double) c / n; h -= p * Math.log(p); }
        return h;
    }
}
