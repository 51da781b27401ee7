package moelab.app.cli;

import moelab.app.config.ConfigLoader;
import moelab.app.config.RunConfig;
import moelab.app.report.DiagnosticsWriter;
import moelab.app.report.MetricsWriter;
import moelab.app.report.ParamCount;
import moelab.app.report.ProgressLine;
import moelab.app.report.Report;
import moelab.app.report.RunFolder;
import moelab.app.tensorboard.EventFileWriter;
import moelab.dist.Collective;
import moelab.eval.RoutingStability;
import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.nn.Transformer;
import moelab.train.TrainListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code moe train}: resolves the config, makes the run folder (config.yaml, metric files),
 * trains with a live progress line, and writes the report (plots, index.html) at the end,
 * also when training stops with an error.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a model; writes a run folder with config, metrics, checkpoints, plots and index.html.",
                "Example: moe train --config bench-small --set train.steps=100 --set model.moe.top_k=1"})
public final class TrainCommand implements Callable<Integer> {
    @Mixin ConfigOptions config;

    @Option(names = "--run-dir", paramLabel = "DIR",
            description = "run folder to write (default: <run.out_dir>/<run.name>-<timestamp>)")
    Path runDir;

    @Option(names = "--resume", paramLabel = "CKPT|RUN_DIR",
            description = "continue a run from a checkpoint, or from a run folder's latest checkpoint; its config is used unless --config is given")
    Path resume;

    @Option(names = "--init-from", paramLabel = "FILE",
            description = "start from these weights (= --set run.init_from=FILE): a checkpoint, a run folder, or a safetensors file"
                    + " exported by moe export or converted from PyTorch (names: docs/safetensors.md)")
    Path initFrom;

    @Option(names = "--print-config", description = "print the resolved config as YAML and exit")
    boolean printConfig;

    @Spec CommandSpec spec;

    /** Ctrl-C; a test calls its request() instead of sending a signal. */
    final StopSignal stop = new StopSignal();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        resume = CheckpointArg.file(resume, "--resume");
        if (initFrom != null) config.sets.add("run.init_from=" + initFrom);
        Resolved r = Resolved.forCheckpoint(config, resume);
        RunConfig cfg = r.cfg();
        if (printConfig) {
            out.print(r.text());
            out.flush();
            return 0;
        }
        cfg.run().applyKernels();
        if (resume == null && !cfg.run().initFrom().isEmpty())     // a bad init_from must fail before the run folder exists
            Wiring.initWeights(new Transformer(cfg.model(), cfg.train().seed()), Path.of(cfg.run().initFrom()));
        Collective ranks = DataParallel.ranks();
        if (ranks.rank() != 0) {
            // the other ranks write nothing and take no Ctrl-C of their own: the launcher stops them
            Wiring.Data data = Wiring.loadData(cfg, null);
            Wiring.train(new Transformer(cfg.model(), cfg.train().seed()), cfg, data, List.of(), null, resume, r.text(), ranks, () -> false);
            ranks.close();
            return 0;
        }
        RunFolder folder = runFolder(cfg, r);
        // Ctrl-C in a single process only: a stop on rank 0 alone would leave the others waiting in a collective
        boolean single = ranks.size() == 1;
        if (single) {
            stop.onAbandon(() -> System.err.println("\nabandoned the step in progress; " + resumeHint(folder)));
            stop.install();
        }
        boolean finished;
        try {
            finished = trainInto(cfg, r.text(), folder, resume, out, ranks, single ? stop::requested : () -> false);
        } finally {
            if (single) stop.uninstall();
        }
        ranks.close();             // only after success: a failing rank exits without it, and the launcher stops the others
        if (finished) return 0;
        out.println("stopped by Ctrl-C after the step in progress; " + resumeHint(folder));
        out.flush();
        return StopSignal.EXIT_INTERRUPTED;
    }

    /** "last checkpoint: ...; resume with: ./moe train --resume DIR" (or that there is none yet). */
    static String resumeHint(RunFolder folder) {
        var last = moelab.train.Checkpoint.latest(folder.dir().resolve(RunFolder.CHECKPOINTS));
        if (last.isEmpty()) return "no checkpoint was written yet (train.checkpoint_every); start again with ./moe train";
        return "last checkpoint: " + last.get() + "; resume with: ./moe train --resume " + folder.dir();
    }

    /**
     * Trains cfg in folder (config.yaml already written) from scratch, from run.init_from, or
     * from the checkpoint resume, with the live progress line; writes the report at the end, also
     * when training stops with an error. Also what each run of {@code moe sweep} does.
     */
    public static void trainInto(RunConfig cfg, String configText, RunFolder folder, Path resume, PrintWriter out) {
        trainInto(cfg, configText, folder, resume, out, Collective.single(), () -> false);
    }

    /**
     * As above, as rank 0 of data-parallel ranks (the other ranks write nothing); stop is asked
     * after every step. Returns false when it stopped training early.
     */
    static boolean trainInto(RunConfig cfg, String configText, RunFolder folder, Path resume, PrintWriter out,
                             Collective ranks, java.util.function.BooleanSupplier stop) {
        out.println(header(cfg, folder) + (ranks.size() > 1 ? String.format(Locale.ROOT,
                "%ndata parallel: %d ranks (MPI), %d of the %d sequences per micro-batch on each", ranks.size(),
                cfg.train().microBatch() / ranks.size(), cfg.train().microBatch()) : ""));
        out.flush();
        Wiring.Data data = Wiring.loadData(cfg, folder.dir());
        out.printf("data: %s, %d domains %s, %s tokenizer (%d ids); unigram entropy of the training tokens %.3f nats/token%n",
                cfg.data().path(), data.domainNames().size(), data.domainNames(), data.tokenizer().name(),
                data.tokenizer().vocabSize(), data.unigramEntropy());
        out.flush();
        TrainListener resumed = new TrainListener() {
            @Override public void onResume(long step) {
                out.printf("resuming run %s from %s: %d of %d steps done%n", folder.dir(), resume, step, cfg.train().steps());
                out.flush();
            }
        };
        Transformer model = new Transformer(cfg.model(), cfg.train().seed());
        // the stability probe routes a batch on this rank alone: with data-parallel ranks its
        // global-scope counts would wait for the others, so it runs in single-process runs only
        RoutingStability probe = ranks.size() > 1 ? null : Wiring.stabilityProbe(cfg, data);
        try (EventFileWriter events = new EventFileWriter(folder.dir())) {
            long[] lastStep = {0};
            TrainListener last = new TrainListener() {
                @Override public void onStep(moelab.train.StepMetrics m) { lastStep[0] = m.step(); }
                @Override public void onResume(long step) { lastStep[0] = step; }
            };
            try (MetricsWriter metrics = new MetricsWriter(folder, data.domainNames());
                 DiagnosticsWriter diagnostics = new DiagnosticsWriter(folder, model, data.domainNames(),
                         probe, cfg.train().probeEvery())) {
                List<TrainListener> listeners = List.of(resumed, metrics, events, last,
                        ProgressLine.toStderr(cfg.train().steps(), cfg.train().logEvery()),
                        diagnostics);   // last: its probe routes a batch between steps
                return Wiring.train(model, cfg, data, listeners, folder, resume, configText, ranks, stop);
            } finally {
                Report.Result rep = report(folder, out);
                if (rep != null) imagesInto(events, rep, lastStep[0], out);
            }
        }
    }

    // the report's plots as TensorBoard images; a failure here must not hide a training error
    private static void imagesInto(EventFileWriter events, Report.Result rep, long step, PrintWriter out) {
        try {
            events.images(rep.plots(), step);
        } catch (RuntimeException e) {
            out.println("tensorboard: plots not added (" + e.getMessage() + ")");
            out.flush();
        }
    }

    /** A new run folder, or the resumed run's own one (whose config must match: a resumed run is the same run). */
    private RunFolder runFolder(RunConfig cfg, Resolved r) {
        Path existing = runDir != null ? runDir : r.runDir();
        if (resume != null && existing != null && java.nio.file.Files.exists(existing.resolve(RunFolder.CONFIG))) {
            RunFolder f = RunFolder.open(existing);
            String had = f.readConfig();
            if (!ConfigLoader.fromYaml(had).equals(cfg))
                throw new IllegalArgumentException("the config differs from " + f.configFile()
                        + ": a resumed run keeps its config (start a new run, or give the same --config/--set)");
            return f;
        }
        RunFolder f = RunFolder.create(cfg.run().name(), Path.of(cfg.run().outDir()), runDir, Clock.systemDefaultZone());
        f.writeConfig(r.text());
        return f;
    }

    static String header(RunConfig cfg, RunFolder folder) {
        ParamCount pc = ParamCount.of(cfg.model());
        Kernels k = Backends.get();
        var m = cfg.model();
        String moe = m.moe() == null ? "dense" : "MoE E=" + m.moe().experts() + " k=" + m.moe().topK() + " d_ff " + m.moe().dFf();
        return String.format(Locale.ROOT,
                "run folder %s%nmodel: %d layers, d=%d, %d heads, %s; %,d parameters (%,d active per token)%n"
                        + "train: %d steps x %,d tokens, lr %s; kernels %s, %d threads",
                folder.dir(), m.layers(), m.dModel(), m.heads(), moe, pc.total(), pc.activePerToken(),
                cfg.train().steps(), cfg.tokensPerStep(), cfg.train().lr(), k.name(), k.threads());
    }

    /** Writes the report; a failure here is reported without hiding the training error that may be on its way. */
    private static Report.Result report(RunFolder folder, PrintWriter out) {
        Report.Result rep = null;
        try {
            rep = Report.generate(folder.dir());
            out.println("report: " + rep.index());
        } catch (RuntimeException e) {
            out.println("report: not written (" + e.getMessage() + "); retry with: moe report " + folder.dir());
        }
        out.flush();
        return rep;
    }
}
