package moelab.app.cli;

import moelab.app.config.RunConfig;
import moelab.app.report.RunFolder;
import moelab.data.Batch;
import moelab.data.BatchSource;
import moelab.data.Tokenizer;
import moelab.nn.Transformer;
import moelab.train.EvalMetrics;
import moelab.train.TrainListener;

import java.nio.file.Path;
import java.util.List;

/**
 * The command line's calls into the trainer, checkpoints and the data pipeline. Those land on
 * other branches; until they are wired here, each method fails with a message saying so. Every
 * method names exactly what to call.
 */
final class Wiring {
    private Wiring() {}

    /**
     * What training and evaluation read.
     *
     * @param validation  the fixed validation micro-batches (train.eval_batches of them)
     * @param domainNames domain index -> name, as in Batch.domains
     */
    record Data(Tokenizer tokenizer, BatchSource train, List<Batch> validation, List<String> domainNames) {}

    /**
     * Loads the corpus, builds (or, for BPE, trains and saves into the run folder) the tokenizer,
     * splits train/validation and makes the batch source.
     *
     * @param runDir the run folder (where a trained BPE vocabulary is saved / found), or null
     */
    static Data loadData(RunConfig cfg, Path runDir) {
        // TODO(lead): wire the data pipeline (moelab.data):
        //   corpus    = DomainCorpus.load(Path.of(cfg.data().path()))            -> documents with domain labels
        //   tokenizer = tokenizer(cfg, runDir) for "byte"; for "bpe" train it on the TRAIN documents
        //               (BpeTokenizer.train(..., cfg.data().bpeVocab())) and save it into runDir when not there yet
        //   split     = corpus.split(cfg.data().valFraction(), cfg.train().seed())
        //   train     = new Batcher(split.train, tokenizer, cfg.train().microBatch(), cfg.train().seqLen(),
        //                           cfg.data().composition(), cfg.train().seed())  (a BatchSource)
        //   validation= the first cfg.train().evalBatches() batches of a Batcher over split.validation
        //   return new Data(tokenizer, train, validation, corpus.domainNames());
        //   (once moelab.data.DataConfig lands, swap RunConfig.data's type for it and drop DataSettings)
        throw notWired("loading data", "moelab.data.DomainCorpus / Batcher / ByteTokenizer / BpeTokenizer");
    }

    /** The tokenizer of a run, for generate and inspect: byte, or the BPE vocabulary saved in the run folder. */
    static Tokenizer tokenizer(RunConfig cfg, Path runDir) {
        // TODO(lead): return cfg.data().tokenizer().equals("byte") ? new ByteTokenizer()
        //                    : BpeTokenizer.load(runDir.resolve(<the file loadData saves>));
        throw notWired("the " + cfg.data().tokenizer() + " tokenizer", "moelab.data.ByteTokenizer / BpeTokenizer");
    }

    /** Trains the model to cfg.train().steps(), checkpointing into the run folder; resume continues from a checkpoint. */
    static void train(Transformer model, RunConfig cfg, Data data, List<TrainListener> listeners, RunFolder folder,
                      Path resume, String configText) {
        // TODO(lead): wire moelab.train.Trainer:
        //   Trainer t = new Trainer(model, cfg.train(), data.train(), data.validation(), data.domainNames(), listeners);
        //   if (resume != null) t.loadCheckpoint(resume, configText);   // refuses a checkpoint of another config
        //   t.run(folder.checkpointsDir());                               // checkpoints must carry configText (saveCheckpoint(path, configText))
        throw notWired("training", "moelab.train.Trainer");
    }

    /** Validation loss overall and per domain of a checkpoint. */
    static EvalMetrics evaluate(Transformer model, RunConfig cfg, Data data, Path checkpoint, String configText) {
        // TODO(lead):
        //   Trainer t = new Trainer(model, cfg.train(), data.train(), data.validation(), data.domainNames(), List.of());
        //   t.loadCheckpoint(checkpoint, configText);
        //   return t.evaluate();
        throw notWired("evaluation", "moelab.train.Trainer");
    }

    /** Loads a checkpoint's weights (and router state) into model, refusing a checkpoint of another config. */
    static void loadWeights(Transformer model, Path checkpoint, String configText) {
        // TODO(lead): the checkpoint reader, weights and Router.loadState only (no optimizer or data state needed), e.g.
        //   Checkpoint.loadModel(checkpoint, model, configText)
        //   or new Trainer(model, cfg.train(), <a BatchSource that is never read>, List.of(), List.of(), List.of())
        //        .loadCheckpoint(checkpoint, configText)
        throw notWired("loading checkpoints", "moelab.train.Trainer.loadCheckpoint / checkpoint reader");
    }

    /** The config text stored in a checkpoint, or null when the checkpoint reader is not wired. */
    static String configInCheckpoint(Path checkpoint) {
        // TODO(lead): return the config text saveCheckpoint(path, configText) stored (lets eval/generate/inspect
        //   run on a checkpoint that was moved out of its run folder, without --config)
        return null;
    }

    private static IllegalStateException notWired(String what, String needs) {
        return new IllegalStateException(what + " is not wired into the command line yet (needs " + needs
                + "; see moelab.app.cli.Wiring)");
    }
}
