package moelab.app.config;

import moelab.config.ConfigException;

/**
 * The data section of a run config (YAML section {@code data}). A stand-in that the data
 * pipeline's own config record (moelab.data.DataConfig) replaces once it lands.
 *
 * @param path        text corpus: a file or a folder of files (one domain per sub-folder)
 * @param tokenizer   "byte" (256 ids, no training) or "bpe" (byte-level BPE trained on the data)
 * @param bpeVocab    BPE vocabulary size, bytes included (used when tokenizer = bpe)
 * @param valFraction share of the documents held out for validation
 * @param composition how micro-batches are drawn: "random" or "domain_homogeneous" (one domain per micro-batch)
 */
public record DataSettings(String path, String tokenizer, int bpeVocab, double valFraction, String composition) {
    public DataSettings {
        ConfigException.require(path != null && !path.isBlank(), "data.path", "must name a text file or folder");
        ConfigException.oneOf("data.tokenizer", tokenizer, "byte", "bpe");
        ConfigException.require(bpeVocab >= 257 && bpeVocab <= 65536, "data.bpe_vocab", "must be in [257, 65536], got " + bpeVocab);
        ConfigException.require(valFraction > 0 && valFraction < 1, "data.val_fraction", "must be in (0, 1), got " + valFraction);
        ConfigException.oneOf("data.composition", composition, "random", "domain_homogeneous");
    }

    /** Token ids the tokenizer can produce. */
    public int tokenizerVocab() { return tokenizer.equals("byte") ? 256 : bpeVocab; }
}
