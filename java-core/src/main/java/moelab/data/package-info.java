/**
 * Text in, micro-batches out: tokenizers, the domain-labelled corpus and the batcher.
 *
 * <pre>{@code
 * DataConfig data = ...;                      // YAML section "data"
 * DomainCorpus corpus = DomainCorpus.load(data, train.seed());        // <path>/<domain>/**.txt, split
 * Tokenizer tok = corpus.buildTokenizer(data);                         // byte, or BPE trained on a balanced sample
 * if (tok instanceof BpeTokenizer bpe) bpe.save(runDir.resolve("tokenizer.bpe"));   // resume: BpeTokenizer.load
 * TokenizedCorpus tokens = corpus.tokenize(tok, data.balance());       // per-domain streams, balanced by tokens
 * BatchSource batches = new Batcher(tokens, train.microBatch(), train.seqLen(), data.composition(), train.seed());
 * List<Batch> val = ValidationBatches.build(tokens, train.seqLen(), train.microBatch(), maxSequencesPerDomain);
 * }</pre>
 *
 * Document boundaries are the token {@link moelab.data.ByteTokenizer#DOC_SEPARATOR} (255, the
 * byte 0xFF that UTF-8 text never contains). Every choice that looks random is derived from the
 * seed with {@link moelab.data.SplitMix64}, so the same seed and corpus give the same split, the
 * same tokenizer and the same batches.
 */
package moelab.data;
