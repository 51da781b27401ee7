package moelab.data;

import moelab.config.ConfigException;

/**
 * Data settings (YAML section {@code data}, snake_case keys). The seed is {@code train.seed}.
 *
 * @param path              corpus folder laid out as {@code <path>/<domain>/**}{@code /*.txt}, see {@link DomainCorpus}
 * @param tokenizer         "byte" (vocabulary 256, the default) or "bpe" (trained on the training split)
 * @param bpeVocab          BPE vocabulary size including the 256 bytes, in [257, 65536]; the testbed
 *                          spec recommends 8192. Training stops earlier when no pair occurs twice
 *                          any more.
 * @param bpeSampleBytes    training text for BPE per domain in UTF-8 bytes, equal for every domain
 *                          (capped at the smallest domain's training text); 0 = all of the smallest
 * @param valFraction       share of each domain's bytes held out for validation, in [0, 0.5]; not
 *                          used when {@code <path>/split.txt} exists (that file decides)
 * @param composition       micro-batch composition: "random" (sequences of random domains),
 *                          "domain_homogeneous" (all sequences of a micro-batch from one domain) or
 *                          "stratified" (the domains in turn: every domain equally in each micro-batch)
 * @param balance           cap every domain's training tokens (and validation tokens) at the
 *                          smallest domain's, so each domain has the same token share
 * @param maxBytesPerDomain read at most this many bytes of training text per domain (0 = all); a
 *                          quick way to run on a slice of a big corpus, applied before tokenizing
 * @param domains           training batches come only from these domains (empty = all); validation
 *                          and the domain indices stay those of the whole corpus (fine-tuning on one domain)
 */
public record DataConfig(String path, String tokenizer, int bpeVocab, long bpeSampleBytes, double valFraction,
                         String composition, boolean balance, long maxBytesPerDomain, java.util.List<String> domains) {
    public static final String BYTE = "byte", BPE = "bpe";
    public static final String RANDOM = "random", DOMAIN_HOMOGENEOUS = "domain_homogeneous", STRATIFIED = "stratified";
    /** The compositions; a saved {@link Batcher} state stores the index (0 and 1 as written before stratified existed). */
    public static final java.util.List<String> COMPOSITIONS = java.util.List.of(RANDOM, DOMAIN_HOMOGENEOUS, STRATIFIED);

    public DataConfig {
        ConfigException.require(path != null && !path.isBlank(), "data.path", "must name the corpus folder (<path>/<domain>/*.txt)");
        ConfigException.oneOf("data.tokenizer", tokenizer, BYTE, BPE);
        ConfigException.require(bpeVocab >= 257 && bpeVocab <= BpeTokenizer.MAX_VOCAB, "data.bpe_vocab",
                "must be in [257, " + BpeTokenizer.MAX_VOCAB + "] (4096..8192 recommended), got " + bpeVocab);
        ConfigException.require(bpeSampleBytes >= 0, "data.bpe_sample_bytes", "must be >= 0 (0 = all of the smallest domain), got " + bpeSampleBytes);
        ConfigException.require(valFraction >= 0 && valFraction <= 0.5, "data.val_fraction", "must be in [0, 0.5], got " + valFraction);
        ConfigException.oneOf("data.composition", composition, COMPOSITIONS.toArray(String[]::new));
        ConfigException.require(maxBytesPerDomain >= 0, "data.max_bytes_per_domain", "must be >= 0 (0 = all), got " + maxBytesPerDomain);
        domains = domains == null ? java.util.List.of() : java.util.List.copyOf(domains);
        for (String d : domains)
            ConfigException.require(!d.isBlank(), "data.domains", "domain names must not be blank, got " + domains);
    }

    /** All domains train. */
    public DataConfig(String path, String tokenizer, int bpeVocab, long bpeSampleBytes, double valFraction,
                      String composition, boolean balance, long maxBytesPerDomain) {
        this(path, tokenizer, bpeVocab, bpeSampleBytes, valFraction, composition, balance, maxBytesPerDomain, java.util.List.of());
    }

    /**
     * Which of the corpus's domains (index order) training batches may come from, or null for all;
     * a name the corpus lacks is a config error naming data.domains and the corpus's domains.
     */
    public boolean[] trainDomainMask(java.util.List<String> corpusDomains) {
        if (domains.isEmpty()) return null;
        boolean[] mask = new boolean[corpusDomains.size()];
        for (String d : domains) {
            int i = corpusDomains.indexOf(d);
            if (i < 0) throw new ConfigException("data.domains", "'" + d + "' is not a domain of the corpus; its domains: " + String.join(", ", corpusDomains));
            mask[i] = true;
        }
        return mask;
    }

    /** Byte tokenizer, 5% validation, random composition, balanced, everything read; BPE settings 8192 / 2 MB for when tokenizer is switched to bpe. */
    public static DataConfig defaults(String path) {
        return new DataConfig(path, BYTE, 8192, 2_000_000L, 0.05, RANDOM, true, 0L);
    }

    public boolean domainHomogeneous() { return composition.equals(DOMAIN_HOMOGENEOUS); }

    /** The largest number of token ids the configured tokenizer can produce. */
    public int tokenizerVocab() { return tokenizer.equals(BYTE) ? 256 : bpeVocab; }
}
