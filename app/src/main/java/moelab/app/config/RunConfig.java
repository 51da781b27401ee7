package moelab.app.config;

import moelab.config.ConfigException;
import moelab.nn.ModelConfig;
import moelab.nn.Routers;
import moelab.train.TrainConfig;

/**
 * A whole experiment: the YAML/JSON file's four sections. Each section validates its own keys;
 * this record checks the rules that span sections.
 */
public record RunConfig(ModelConfig model, TrainConfig train, moelab.data.DataConfig data, RunSettings run) {
    public RunConfig {
        ConfigException.require(model != null, "model", "section is required");
        ConfigException.require(train != null, "train", "section is required");
        ConfigException.require(data != null, "data", "section is required");
        ConfigException.require(run != null, "run", "section is required");
        ConfigException.require(train.seqLen() <= model.maxSeqLen(), "train.seq_len",
                "must be <= model.max_seq_len=" + model.maxSeqLen() + ", got " + train.seqLen());
        ConfigException.require(model.vocabSize() >= data.tokenizerVocab(), "model.vocab_size",
                "must be >= the " + data.tokenizer() + " tokenizer's " + data.tokenizerVocab() + " ids, got " + model.vocabSize());
        if (model.moe() != null) {                                    // fail at load time, not when the model is built:
            model.isMoeLayer(-1);   // every:N and index lists: block -1 matches no index, so every one is checked (in one pass, whatever model.layers is)
            Routers.create(model.moe(), 0);                               // the router name
            Routers.checkGradAccum(model.moe(), train.gradAccum());      // SH/BA global scope needs one pass
        }
    }

    /** Tokens seen per optimizer step. */
    public long tokensPerStep() { return (long) train.microBatch() * train.gradAccum() * train.seqLen(); }
}
