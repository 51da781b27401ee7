package moelab.app.sweep;

import moelab.app.cli.Probes;
import moelab.app.config.RunConfig;
import moelab.config.ConfigException;
import moelab.data.Batch;
import moelab.data.BatchSource;
import moelab.nn.ModelConfig;
import moelab.nn.Transformer;
import moelab.train.EvalProbe;
import moelab.train.Trainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Checks a sweep file's extra {@code columns} before anything runs: each must be a value some run
 * of the sweep will report. The eval scalars a config reports are found by evaluating its
 * untrained model once on one short batch (names only; the values are thrown away).
 */
final class SweepColumns {
    private SweepColumns() {}

    /** Values every done run has besides its eval scalars (see RunResult). */
    private static final List<String> RESULTS = List.of("val_loss", "domain_loss_macro", "train_drop_rate");

    static void check(SweepPlan plan) {
        List<String> columns = plan.file().columns();
        if (columns.isEmpty()) return;
        Set<String> known = new TreeSet<>(RESULTS);
        boolean anyDomainLoss = false;
        Set<ModelConfig> measured = new HashSet<>();
        for (SweepPlan.Run r : plan.runs()) {
            if (measured.add(r.config().model())) known.addAll(scalarNames(r.config()));
            List<String> domains = domainFolders(Path.of(r.config().data().path()));
            if (domains == null) anyDomainLoss = true;
            else for (String d : domains) known.add("loss." + d);
        }
        List<String> unknown = new ArrayList<>();
        for (String c : columns)
            if (!known.contains(c) && !(anyDomainLoss && c.startsWith("loss.") && c.length() > 5)) unknown.add("'" + c + "'");
        if (!unknown.isEmpty())
            throw new ConfigException("sweep " + plan.file().name() + ": columns", String.join(", ", unknown)
                    + (unknown.size() == 1 ? " is" : " are") + " not reported by any run of this sweep; the runs report: "
                    + String.join(", ", known) + (anyDomainLoss ? ", loss.<domain>" : ""));
    }

    /** The eval scalar names of a config's probes. */
    static Set<String> scalarNames(RunConfig cfg) {
        ModelConfig mc = cfg.model();
        int seq = Math.min(8, mc.maxSeqLen());
        int[] tokens = new int[seq];
        for (int i = 0; i < seq; i++) tokens[i] = i % mc.vocabSize();
        int[] second = new int[seq];
        java.util.Arrays.fill(second, 1);
        List<Batch> validation = List.of(new Batch(tokens, tokens.clone(), 1, seq, new int[seq]),
                new Batch(tokens.clone(), tokens.clone(), 1, seq, second));
        List<String> domains = List.of("d0", "d1");
        Trainer t = new Trainer(new Transformer(mc, cfg.train().seed()), cfg.train(), new NoData(), validation, domains, List.of());
        for (EvalProbe p : Probes.probes(cfg, domains)) t.addEvalProbe(p);
        return t.evaluate().scalars().keySet();
    }

    /** Domain folder names of a corpus folder (as DomainCorpus lists them), or null when it cannot be listed. */
    private static List<String> domainFolders(Path root) {
        if (!Files.isDirectory(root)) return null;
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".") && !n.startsWith("_")).toList();
        } catch (IOException e) {
            return null;
        }
    }

    private static final class NoData implements BatchSource {
        @Override public Batch next() { throw new IllegalStateException("no training data when only listing eval scalars"); }
        @Override public byte[] saveState() { return new byte[0]; }
        @Override public void restoreState(byte[] state) { }
    }
}
