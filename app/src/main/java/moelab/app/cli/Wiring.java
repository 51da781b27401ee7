package moelab.app.cli;

import moelab.app.config.RunConfig;
import moelab.app.report.RunFolder;
import moelab.data.Batch;
import moelab.data.BatchSource;
import moelab.data.Batcher;
import moelab.data.BpeTokenizer;
import moelab.data.ByteTokenizer;
import moelab.data.DataConfig;
import moelab.data.DomainCorpus;
import moelab.data.TokenizedCorpus;
import moelab.data.Tokenizer;
import moelab.data.ValidationBatches;
import moelab.nn.Transformer;
import moelab.config.ConfigException;
import moelab.tensor.Shape;
import moelab.train.Checkpoint;
import moelab.train.CheckpointException;
import moelab.train.SafeTensors;
import moelab.train.EvalMetrics;
import moelab.train.EvalProbe;
import moelab.train.TrainListener;
import moelab.train.Trainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The command line's calls into the data pipeline, the trainer and checkpoints. */
final class Wiring {
    private Wiring() {}

    /** File name of a run's trained BPE vocabulary inside its run folder. */
    static final String BPE_FILE = "tokenizer.bpe";

    /**
     * What training and evaluation read.
     *
     * @param validation  the fixed validation micro-batches (train.eval_batches of them, domains interleaved)
     * @param domainNames domain index -> name, as in Batch.domains
     */
    record Data(Tokenizer tokenizer, BatchSource train, List<Batch> validation, List<String> domainNames,
                double unigramEntropy) {}

    /**
     * Loads the corpus, builds the tokenizer (BPE: loaded from the run folder when it is there,
     * else trained on the training split and saved there), tokenizes and makes the batch source.
     *
     * @param runDir the run folder, or null (then a BPE vocabulary is trained and not saved)
     */
    static Data loadData(RunConfig cfg, Path runDir) {
        DataConfig dc = cfg.data();
        DomainCorpus corpus = DomainCorpus.load(dc, cfg.train().seed());
        Tokenizer tok;
        Path bpeFile = runDir == null ? null : runDir.resolve(BPE_FILE);
        if (dc.tokenizer().equals(DataConfig.BPE) && bpeFile != null && Files.exists(bpeFile)) {
            tok = BpeTokenizer.load(bpeFile);
        } else {
            tok = corpus.buildTokenizer(dc);
            if (tok instanceof BpeTokenizer bpe && bpeFile != null) bpe.save(bpeFile);
        }
        if (tok.vocabSize() > cfg.model().vocabSize())
            throw new moelab.config.ConfigException("model.vocab_size", "the " + tok.name() + " tokenizer produces "
                    + tok.vocabSize() + " ids but the model has " + cfg.model().vocabSize());
        int tags = cfg.model().domainTags();
        if (tags > 0 && tags < corpus.domainCount())
            throw new moelab.config.ConfigException("model.domain_tags", tags + " tags for the " + corpus.domainCount()
                    + " domains of " + dc.path() + " (" + String.join(", ", corpus.domains()) + "); needs >= " + corpus.domainCount());
        TokenizedCorpus tokens = corpus.tokenize(tok, dc.balance());
        int seq = cfg.train().seqLen(), mb = cfg.train().microBatch(), evalBatches = cfg.train().evalBatches();
        BatchSource train = trainSource(cfg, tokens, dc.trainDomainMask(corpus.domains()));
        int d = corpus.domainCount();
        int perDomain = (evalBatches + d - 1) / d;
        List<Batch> all = ValidationBatches.build(tokens, seq, mb, perDomain * mb);
        return new Data(tok, train, interleaveByDomain(all, d, evalBatches), corpus.domains(), tokens.unigramEntropy());
    }

    /**
     * The training stream. With model.moe.balance.group_sequences = g in (0, micro_batch), a step's
     * forward pass is micro_batch/g emulated micro-batches: the composition (random or
     * domain_homogeneous) applies to each group of g sequences, which the pass then joins.
     */
    static BatchSource trainSource(RunConfig cfg, TokenizedCorpus tokens, boolean[] domainMask) {
        int seq = cfg.train().seqLen(), mb = cfg.train().microBatch();
        int g = cfg.model().moe() == null ? 0 : cfg.model().moe().balance().groupSequences();
        if (g <= 0 || g >= mb) return new Batcher(tokens, mb, seq, cfg.data().composition(), cfg.train().seed(), domainMask);
        if (mb % g != 0)
            throw new moelab.config.ConfigException("model.moe.balance.group_sequences", "must divide train.micro_batch = " + mb + ", got " + g);
        return new moelab.data.ConcatBatches(new Batcher(tokens, g, seq, cfg.data().composition(), cfg.train().seed(), domainMask), mb / g);
    }

    /** Validation batches are one domain each, domain after domain: take them round-robin so any prefix covers every domain. */
    static List<Batch> interleaveByDomain(List<Batch> batches, int domains, int limit) {
        List<List<Batch>> byDomain = new ArrayList<>();
        for (int i = 0; i < domains; i++) byDomain.add(new ArrayList<>());
        for (Batch b : batches) byDomain.get(b.domains() == null ? 0 : b.domains()[0]).add(b);
        List<Batch> out = new ArrayList<>();
        for (int round = 0; out.size() < limit; round++) {
            boolean any = false;
            for (List<Batch> list : byDomain)
                if (round < list.size() && out.size() < limit) { out.add(list.get(round)); any = true; }
            if (!any) break;
        }
        return out;
    }

    /** The tokenizer of a run, for generate and inspect: byte, or the BPE vocabulary saved in the run folder. */
    static Tokenizer tokenizer(RunConfig cfg, Path runDir) {
        if (cfg.data().tokenizer().equals(DataConfig.BYTE)) return new ByteTokenizer();
        if (runDir == null)
            throw new IllegalStateException("the run uses a BPE tokenizer, whose vocabulary lives in its run folder ("
                    + BPE_FILE + "); give a checkpoint inside its run folder");
        return BpeTokenizer.load(runDir.resolve(BPE_FILE));
    }

    /** The routing-stability probe of a run (a batch with train.probe_sequences of every domain), or null when off or unlabelled. */
    static moelab.eval.RoutingStability stabilityProbe(RunConfig cfg, Data data) {
        if (cfg.model().moe() == null || cfg.train().probeEvery() == 0 || data.domainNames().isEmpty()) return null;
        boolean labelled = data.validation().stream().anyMatch(b -> b.domains() != null);
        if (!labelled) return null;
        return new moelab.eval.RoutingStability(moelab.eval.RoutingStability.probeBatch(data.validation(), data.domainNames().size(),
                cfg.train().probeSequences()));
    }

    /** Trains the model to cfg.train().steps() in one process, checkpointing into the run folder; resume continues from a checkpoint. */
    static void train(Transformer model, RunConfig cfg, Data data, List<TrainListener> listeners, RunFolder folder,
                      Path resume, String configText) {
        train(model, cfg, data, listeners, folder, resume, configText, moelab.dist.Collective.single(), () -> false);
    }

    /**
     * The same over data-parallel ranks (folder is null on every rank but 0, which alone writes).
     * Returns false when stop said so after some step (then that step is checkpointed and
     * training ends early).
     */
    static boolean train(Transformer model, RunConfig cfg, Data data, List<TrainListener> listeners, RunFolder folder,
                         Path resume, String configText, moelab.dist.Collective ranks, java.util.function.BooleanSupplier stop) {
        Trainer t = new Trainer(model, cfg.train(), data.train(), data.validation(), data.domainNames(), listeners);
        t.setConfigText(configText);
        t.useRanks(ranks);
        t.setStopRequested(stop);
        for (EvalProbe p : Probes.probes(cfg, data.domainNames())) t.addEvalProbe(p);
        if (resume != null) t.resume(resume, configText);
        else if (!cfg.run().initFrom().isEmpty()) initWeights(model, Path.of(cfg.run().initFrom()));
        t.run(folder == null ? null : folder.checkpointsDir());
        if (ranks.size() > 1 && ranks.rank() == 0)
            System.err.printf(java.util.Locale.ROOT, "data parallel: rank 0 spent %.1f s averaging gradients over %d ranks%n",
                    t.allreduceSeconds(), ranks.size());
        return !t.stopped();
    }

    /** Validation loss overall and per domain of a checkpoint. */
    static EvalMetrics evaluate(Transformer model, RunConfig cfg, Data data, Path checkpoint, String configText) {
        Trainer t = new Trainer(model, cfg.train(), data.train(), data.validation(), data.domainNames(), List.of());
        for (EvalProbe p : Probes.probes(cfg, data.domainNames())) t.addEvalProbe(p);
        t.loadCheckpoint(checkpoint, configText);
        return t.evaluate();
    }

    /** Loads a checkpoint's weights (and router state) into model, refusing a checkpoint of another config. */
    static void loadWeights(Transformer model, RunConfig cfg, Path checkpoint, String configText) {
        new Trainer(model, cfg.train(), new NoData(), List.of(), List.of(), List.of()).loadCheckpoint(checkpoint, configText);
    }

    /**
     * run.init_from: copies the parameters of a checkpoint, of a run folder's latest checkpoint,
     * or of a safetensors file (validated: names, shapes, float dtypes, finite values) into
     * model; optimizer, data position, step and router state stay fresh. Names and shapes must
     * match exactly, and every mismatch is listed at once; the checkpoint's config may differ
     * otherwise (e.g. another balancing method). Nothing is copied unless every check passes.
     */
    static void initWeights(Transformer model, Path from) {
        Path file = initFile(from);
        if (file.getFileName().toString().endsWith(".safetensors")) {
            SafeTensors.importInto(model.parameters(), file);
            return;
        }
        Checkpoint c = Checkpoint.read(file);
        var mine = model.parameters().asMap();
        List<String> problems = new ArrayList<>();
        for (var e : mine.entrySet()) {
            var d = c.parameters().get(e.getKey());
            if (d == null) problems.add("parameter '" + e.getKey() + "' " + Shape.str(e.getValue().shape()) + " is missing");
            else if (!Arrays.equals(d.shape(), e.getValue().shape()))
                problems.add("parameter '" + e.getKey() + "' has shape " + Shape.str(d.shape()) + ", the model expects " + Shape.str(e.getValue().shape()));
        }
        for (String name : c.parameters().keySet())
            if (!mine.containsKey(name)) problems.add("parameter '" + name + "' is not in the model");
        if (!problems.isEmpty())
            throw new CheckpointException("run.init_from: checkpoint " + file + " does not fit the model: " + String.join("; ", problems));
        for (var e : mine.entrySet()) {
            var t = e.getValue();
            System.arraycopy(c.parameters().get(e.getKey()).data(), 0, t.data(), t.offset(), t.numel());
        }
    }

    /** The file run.init_from names: a checkpoint or safetensors file, or a run folder's latest checkpoint. */
    static Path initFile(Path from) {
        if (Files.isDirectory(from)) {
            Path dir = Files.isDirectory(from.resolve(RunFolder.CHECKPOINTS)) ? from.resolve(RunFolder.CHECKPOINTS) : from;
            return Checkpoint.latest(dir).orElseThrow(() -> new ConfigException("run.init_from", "no checkpoint in " + dir));
        }
        if (!Files.isRegularFile(from))
            throw new ConfigException("run.init_from", "no checkpoint file, safetensors file or run folder " + from);
        return from;
    }

    /** The config text a checkpoint stores. */
    static String configInCheckpoint(Path checkpoint) {
        return Checkpoint.readConfigText(checkpoint);
    }

    /** A batch source for loading weights only: the checkpoint's data position is accepted and ignored. */
    private static final class NoData implements BatchSource {
        @Override public Batch next() { throw new IllegalStateException("no training data when only loading weights"); }
        @Override public byte[] saveState() { return new byte[0]; }
        @Override public void restoreState(byte[] state) { }
    }
}
