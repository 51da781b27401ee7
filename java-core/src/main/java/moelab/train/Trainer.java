package moelab.train;

import moelab.tensor.Autograd;
import moelab.tensor.NoGrad;
import moelab.tensor.NonFiniteException;
import moelab.data.Batch;
import moelab.data.BatchSource;
import moelab.dist.Collective;
import moelab.kernels.Backends;
import moelab.kernels.Profile;
import moelab.nn.Transformer;
import moelab.ops.CrossEntropy;
import moelab.ops.Elementwise;
import moelab.routing.Router;
import moelab.routing.RoutingRecord;
import moelab.tensor.Shape;
import moelab.tensor.StepArena;
import moelab.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training loop: micro-batches with gradient accumulation, cross-entropy plus the routers'
 * auxiliary losses, global-norm clipping, warm-up + cosine learning rate, AdamW; validation
 * overall and per domain; checkpoints that resume bit for bit.
 *
 * <p>Determinism: the same model seed, config, data and kernel thread count give the same losses
 * bit for bit. Everything numeric iterates in a fixed order (parameter registration order,
 * micro-batch order), and every parameter gets a zeroed gradient buffer before each step, so a
 * parameter that received no gradient (an expert no token chose) is updated the same way
 * whether or not it ever had one, before and after a resume.
 *
 * <p>Gradient accumulation: each micro-batch's loss is back-propagated with weight 1/gradAccum,
 * so the gradient is the mean of the micro-batch gradients. For the cross-entropy and the z-loss,
 * which are means over tokens, that equals the gradient of one batch of gradAccum*microBatch
 * sequences when every micro-batch counts the same number of target tokens. The load-balancing
 * loss and capacity limits are computed per micro-batch, so with those on the two differ.
 *
 * <p>Data parallel ({@link #useRanks}): every rank reads the same global micro-batch and trains on
 * its contiguous share of the sequences ({@link BatchShard}); gradients are averaged over the ranks
 * ({@link GradientSync}) before clipping, so every rank takes the same AdamW step; the reported
 * losses are the ranks' mean and the routing records the global batch's. Rank 0 alone evaluates,
 * writes checkpoints and fires the listeners' results (the others get the same step metrics).
 */
public final class Trainer {
    private final Transformer model;
    private final TrainConfig cfg;
    private final BatchSource train;
    private final List<Batch> validation;
    private final List<String> domainNames;
    private final List<TrainListener> listeners;
    private final AdamW optimizer;
    private final LrSchedule schedule;
    private final List<Tensor> params;
    private final long startNanos = System.nanoTime();

    private long step;
    private long lastEvalStep = -1, lastCheckpointStep = -1;
    private String configText;
    private int keepCheckpoints = 3;
    private final List<EvalProbe> probes = new ArrayList<>();
    private Collective ranks = Collective.single();
    private GradientSync gradSync;
    private java.util.function.BooleanSupplier stopRequested = () -> false;
    private boolean stopped;

    public static final float ADAM_EPS = 1e-8f;

    public Trainer(Transformer model, TrainConfig cfg, BatchSource train, List<Batch> validation,
                   List<String> domainNames, List<TrainListener> listeners) {
        this.model = model;
        this.cfg = cfg;
        this.train = train;
        this.validation = validation == null ? List.of() : List.copyOf(validation);
        this.domainNames = domainNames == null ? List.of() : List.copyOf(domainNames);
        this.listeners = listeners == null ? List.of() : List.copyOf(listeners);
        this.optimizer = new AdamW(model.parameters(), cfg.beta1(), cfg.beta2(), ADAM_EPS, cfg.weightDecay());
        this.schedule = new LrSchedule(cfg.lr(), cfg.minLr(), cfg.warmupSteps(), cfg.steps());
        this.params = List.copyOf(model.parameters().asMap().values());
        this.configText = "model: " + model.config() + "\ntrain: " + cfg + "\n";
        moelab.nn.Routers.checkGradAccum(model.config().moe(), cfg.gradAccum());
    }

    public Transformer model() { return model; }
    public TrainConfig config() { return cfg; }
    public AdamW optimizer() { return optimizer; }
    public LrSchedule schedule() { return schedule; }
    public long stepCount() { return step; }

    /**
     * The config text that {@link #run} stores in its checkpoints (default: the two config
     * records' toString). The CLI sets the run's YAML here.
     */
    public Trainer setConfigText(String text) {
        this.configText = java.util.Objects.requireNonNull(text, "config text");
        return this;
    }

    /** Adds a measurement run after every validation run (its values land in EvalMetrics.scalars). */
    public Trainer addEvalProbe(EvalProbe probe) {
        probes.add(java.util.Objects.requireNonNull(probe, "probe"));
        return this;
    }

    /** How many step checkpoints {@link #run} keeps in its folder (oldest deleted first); 0 keeps all. Default 3. */
    public Trainer setKeepCheckpoints(int n) {
        if (n < 0) throw new IllegalArgumentException("keep checkpoints must be >= 0 (0 = all), got " + n);
        this.keepCheckpoints = n;
        return this;
    }

    /**
     * Trains data-parallel over these ranks (every rank must make the same calls with the same
     * config). Checks first that train.micro_batch splits evenly and that the routing config is
     * one whose meaning survives the split ({@link moelab.nn.Routers#checkRanks}).
     */
    public Trainer useRanks(Collective ranks) {
        int n = ranks.size(), mb = cfg.microBatch();
        moelab.config.ConfigException.require(mb % n == 0, "train.micro_batch",
                "must be divisible by the " + n + " data-parallel ranks (each takes micro_batch / ranks sequences), got " + mb);
        moelab.nn.Routers.checkRanks(model.config().moe(), n, mb / n);
        this.ranks = ranks;
        this.gradSync = n > 1 ? new GradientSync(ranks, params) : null;
        for (Router r : model.routers()) r.useRanks(ranks);
        return this;
    }

    public Collective ranks() { return ranks; }

    /** Wall seconds this rank spent averaging gradients over the ranks so far (0 in one process). */
    public double allreduceSeconds() { return gradSync == null ? 0 : gradSync.nanos() * 1e-9; }

    /**
     * {@link #run} asks this after every step; when it says true, run checkpoints the steps done
     * so far and returns early ({@link #stopped()}). Ctrl-C in the CLI sets it.
     */
    public Trainer setStopRequested(java.util.function.BooleanSupplier stop) {
        this.stopRequested = java.util.Objects.requireNonNull(stop, "stop");
        return this;
    }

    /** Whether the last {@link #run} returned early because a stop was requested. */
    public boolean stopped() { return stopped; }

    // ---------------------------------------------------------------- training

    /**
     * One optimizer step over cfg.gradAccum() micro-batches; fires onStep. The step's activations
     * live in a {@link StepArena} and are recycled when it returns (what outlives it is copied:
     * the losses, the routing records, the routers' state).
     */
    public StepMetrics step() {
        try (StepArena arena = StepArena.open()) {
            return stepInArena();
        }
    }

    private StepMetrics stepInArena() {
        long t0 = System.nanoTime();
        for (Tensor p : params) { p.gradBuffer(); p.zeroGrad(); }
        int accum = cfg.gradAccum();
        float[] seed = {1f / accum};                       // mean of the micro-batch gradients
        double lossSum = 0, lmSum = 0, auxSum = 0;
        long tokens = 0;
        List<RoutingRecord> routing = new ArrayList<>();
        for (int micro = 0; micro < accum; micro++) {
            Batch b = BatchShard.of(train.next(), ranks.rank(), ranks.size());
            Transformer.Output out = model.forward(b.inputs(), b.tokenInfo(), true);
            Tensor lm = CrossEntropy.crossEntropy(out.logits(), b.targets());
            Tensor loss = out.auxLoss() == null ? lm : Elementwise.add(lm, out.auxLoss());
            double lossValue = loss.item(), lmValue = lm.item();
            if (!Double.isFinite(lossValue))
                throw new NonFiniteException("step " + (step + 1) + ", micro-batch " + micro + ": loss is " + lossValue
                        + " (cross-entropy " + lmValue + "); lower train.lr or set train.grad_clip");
            Autograd.backward(loss, seed);
            lossSum += lossValue;
            lmSum += lmValue;
            auxSum += lossValue - lmValue;
            tokens += (long) b.batch() * b.seqLen();
            routing.addAll(out.routing());
        }
        if (ranks.size() > 1) {
            gradSync.average(params);
            double[] sums = {lossSum, lmSum, auxSum};
            ranks.sumInPlace(sums);                                 // the ranks' mean = the global batch's loss
            lossSum = sums[0] / ranks.size();
            lmSum = sums[1] / ranks.size();
            auxSum = sums[2] / ranks.size();
            tokens *= ranks.size();
            routing = BatchShard.gather(routing, ranks);
        }
        Profile.begin(Profile.OPTIMIZER);
        // clip_global_norm with an infinite bound only measures the norm
        double gradNorm = GradClip.clipGlobalNorm(model.parameters(), cfg.gradClip() > 0 ? cfg.gradClip() : Double.POSITIVE_INFINITY);
        if (!Double.isFinite(gradNorm))
            throw new NonFiniteException("step " + (step + 1) + ": gradient norm is " + gradNorm + "; lower train.lr or set train.grad_clip");
        float lr = schedule.at((int) Math.min(step, Integer.MAX_VALUE));
        optimizer.step(lr);
        for (Router r : model.routers()) r.endStep();
        Profile.end(Profile.OPTIMIZER);
        step++;                                            // a step is counted once its optimizer update is done
        long t1 = System.nanoTime();
        double sec = Math.max((t1 - t0) * 1e-9, 1e-9);
        StepMetrics m = new StepMetrics(step, lossSum / accum, lmSum / accum, auxSum / accum, lr, gradNorm,
                tokens / sec, (t1 - startNanos) * 1e-9, Collections.unmodifiableList(routing));
        for (TrainListener l : listeners) l.onStep(m);
        return m;
    }

    /**
     * Mean token cross-entropy over the first cfg.evalBatches() validation batches (all of them if
     * fewer), overall and per domain, with eval routing and no tape; fires onEval.
     */
    public EvalMetrics evaluate() {
        if (validation.isEmpty()) throw new IllegalStateException("evaluate: no validation batches were given to the trainer");
        int n = Math.min(cfg.evalBatches(), validation.size());
        double total = 0;
        long count = 0;
        double[] domSum = new double[domainNames.size()];
        long[] domCount = new long[domainNames.size()];
        List<RoutingRecord> routing = new ArrayList<>();
        try (NoGrad ng = NoGrad.enter()) {
            for (int i = 0; i < n; i++) {
                Batch b = validation.get(i);
                Transformer.Output out = model.forward(b.inputs(), b.tokenInfo(), false);
                routing.addAll(out.routing());
                Tensor logits = out.logits().contiguous();
                int rows = logits.dim(0), v = logits.dim(1);
                float[] logp = new float[v];
                for (int r = 0; r < rows; r++) {
                    int target = b.targets()[r];
                    if (target == CrossEntropy.IGNORE) continue;
                    if (target < 0 || target >= v)
                        throw new IllegalArgumentException("evaluate: validation batch " + i + " has target " + target
                                + " at position " + r + ", outside the vocabulary [0, " + v + ")");
                    Backends.get().logSoftmaxRows(logits.data(), logits.offset() + r * v, logp, 0, 1, v);
                    double nll = -logp[target];
                    total += nll;
                    count++;
                    if (b.domains() != null && !domainNames.isEmpty()) {
                        int d = b.domains()[r];
                        if (d < 0 || d >= domainNames.size())
                            throw new IllegalArgumentException("evaluate: validation batch " + i + " has domain index " + d
                                    + " at position " + r + " but only " + domainNames.size() + " domain names " + domainNames);
                        domSum[d] += nll;
                        domCount[d]++;
                    }
                }
            }
        }
        Map<String, Double> perDomain = new LinkedHashMap<>();
        for (int d = 0; d < domainNames.size(); d++)
            if (domCount[d] > 0) perDomain.put(domainNames.get(d), domSum[d] / domCount[d]);
        EvalMetrics m = new EvalMetrics(step, count == 0 ? Double.NaN : total / count,
                Collections.unmodifiableMap(perDomain), Collections.unmodifiableList(routing));
        if (!probes.isEmpty()) {
            Map<String, Double> scalars = new LinkedHashMap<>();
            List<Batch> evaluated = validation.subList(0, n);
            try (NoGrad ng = NoGrad.enter()) {
                for (EvalProbe p : probes)
                    for (Map.Entry<String, Double> e : p.measure(model, evaluated, m).entrySet())
                        if (scalars.putIfAbsent(e.getKey(), e.getValue()) != null)
                            throw new IllegalStateException("evaluate: two probes report the metric '" + e.getKey() + "'");
            }
            m = new EvalMetrics(m.step(), m.loss(), m.perDomain(), m.routing(), Collections.unmodifiableMap(scalars));
        }
        lastEvalStep = step;
        for (TrainListener l : listeners) l.onEval(m);
        return m;
    }

    /**
     * Steps until cfg.steps() (continuing from stepCount() after a resume). Evaluates every
     * cfg.evalEvery() steps and at the end (when validation batches were given); when
     * checkpointDir is not null, saves step-N.ckpt every cfg.checkpointEvery() steps and at the
     * end, keeping the newest {@link #setKeepCheckpoints} of them. Returns early, after a
     * checkpoint of the steps done, when {@link #setStopRequested} says so.
     */
    public void run(Path checkpointDir) {
        boolean writer = ranks.rank() == 0, evaluates = writer && !validation.isEmpty();
        if (!writer) checkpointDir = null;                                          // rank 0 alone writes
        checkSameStartOnEveryRank();
        if (checkpointDir != null) Checkpoint.removeTemporaries(checkpointDir);   // left by a write that was interrupted
        stopped = false;
        while (step < cfg.steps()) {
            step();
            if (stopRequested.getAsBoolean()) {          // the step is done: keep it, skip the rest
                stopped = true;
                if (checkpointDir != null && lastCheckpointStep != step) checkpointInto(checkpointDir);
                return;
            }
            if (cfg.evalEvery() > 0 && step % cfg.evalEvery() == 0 && evaluates) evaluate();
            if (checkpointDir != null && cfg.checkpointEvery() > 0 && step % cfg.checkpointEvery() == 0)
                checkpointInto(checkpointDir);
        }
        if (evaluates && lastEvalStep != step) evaluate();
        if (checkpointDir != null && lastCheckpointStep != step) checkpointInto(checkpointDir);
    }

    /** Every rank must start from rank 0's config, weights and step: compares a digest of them with rank 0's. */
    private void checkSameStartOnEveryRank() {
        if (ranks.size() == 1) return;
        long h = configText.hashCode() * 31L + step;
        for (Tensor p : params) {
            float[] d = p.data();
            for (int i = p.offset(), end = p.offset() + p.numel(); i < end; i++) h = h * 1_000_003L + Float.floatToRawIntBits(d[i]);
        }
        long root = ranks.broadcast(h);
        long[] differs = {root != h ? 1 : 0};
        ranks.sumInPlace(differs);
        if (differs[0] > 0)
            throw new IllegalStateException("data-parallel run: " + differs[0] + " of " + ranks.size() + " ranks start from another config, "
                    + "step or weights than rank 0" + (root != h ? " (this is rank " + ranks.rank() + ")" : "")
                    + ": give every rank the same command line, config and files");
    }

    private void checkpointInto(Path dir) {
        Path file = dir.resolve(Checkpoint.fileName(step));
        saveCheckpoint(file, configText);
        Checkpoint.removeTemporaries(dir);
        if (keepCheckpoints > 0) {
            List<Path> all = Checkpoint.list(dir);
            for (int i = 0; i < all.size() - keepCheckpoints; i++) {
                try { Files.deleteIfExists(all.get(i)); } catch (IOException e) {
                    throw new UncheckedIOException("deleting old checkpoint " + all.get(i) + ": " + e.getMessage(), e);
                }
            }
        }
    }

    // ---------------------------------------------------------------- checkpoints

    /** Saves model, optimizer, data position, router state, step and config text atomically; fires onCheckpoint. */
    public void saveCheckpoint(Path file, String configText) {
        Map<String, TensorData> ps = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : model.parameters().asMap().entrySet())
            ps.put(e.getKey(), new TensorData(e.getValue().shape(), e.getValue().toArray()));
        List<Checkpoint.Moments> moments = new ArrayList<>();
        for (int i = 0; i < optimizer.parameterNames().size(); i++)
            moments.add(new Checkpoint.Moments(optimizer.parameterNames().get(i),
                    optimizer.firstMoments().get(i), optimizer.secondMoments().get(i)));
        List<Checkpoint.RouterState> routers = new ArrayList<>();
        for (Router r : model.routers()) routers.add(new Checkpoint.RouterState(r.name(), r.state()));
        Map<String, float[]> lossState = model.expertLosses().state(); // auto-scaled coefficients ride with the first router
        if (!lossState.isEmpty() && !routers.isEmpty()) {
            Map<String, float[]> merged = new LinkedHashMap<>(routers.get(0).state());
            merged.putAll(lossState);
            routers.set(0, new Checkpoint.RouterState(routers.get(0).name(), merged));
        }
        Checkpoint c = new Checkpoint(configText, step, ps, optimizer.stepCount(), moments, RankCount.wrap(train.saveState(), ranks.size()), routers);
        Checkpoint.write(file, c);
        lastCheckpointStep = step;
        for (TrainListener l : listeners) l.onCheckpoint(file, step);
    }

    /**
     * Continues training from a checkpoint ({@link #loadCheckpoint}), which must have been written
     * by a run of as many ranks as this one: the data shards and the step statistics depend on it.
     */
    public void resume(Path file, String expectedConfigText) {
        int saved = RankCount.of(Checkpoint.read(file).dataState());
        if (saved != ranks.size())
            throw new CheckpointException("checkpoint " + file + ": was written by a run of " + saved
                    + (saved == 1 ? " process" : " data-parallel ranks") + ", this run has " + ranks.size()
                    + (ranks.size() == 1 ? " process" : " ranks") + ": resume it with the same count ("
                    + (saved == 1 ? "without mpirun" : "mpirun -np " + saved) + ")");
        loadCheckpoint(file, expectedConfigText);
    }

    /**
     * Restores a checkpoint into this trainer: model, optimizer, data position, routers, step.
     * Checks everything first (format, CRC, config text unless expectedConfigText is null,
     * parameter names and shapes, moments, router count and names) and changes nothing when a
     * check fails.
     */
    public void loadCheckpoint(Path file, String expectedConfigText) {
        Checkpoint c = Checkpoint.read(file);
        String where = "checkpoint " + file + ": ";
        if (expectedConfigText != null && !expectedConfigText.equals(c.configText()))
            throw new CheckpointException(where + "config differs from the current config: " + firstDifference(c.configText(), expectedConfigText));

        Map<String, Tensor> mine = model.parameters().asMap();
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            TensorData d = c.parameters().get(e.getKey());
            if (d == null)
                throw new CheckpointException(where + "parameter '" + e.getKey() + "' (shape " + Shape.str(e.getValue().shape())
                        + ") is missing; the checkpoint has " + c.parameters().size() + " parameters");
            if (!Arrays.equals(d.shape(), e.getValue().shape()))
                throw new CheckpointException(where + "parameter '" + e.getKey() + "' has shape " + Shape.str(d.shape())
                        + ", the model expects " + Shape.str(e.getValue().shape()));
            if (!e.getValue().isContiguous())
                throw new IllegalStateException("loadCheckpoint: parameter '" + e.getKey() + "' is not contiguous");
        }
        for (String name : c.parameters().keySet())
            if (!mine.containsKey(name))
                throw new CheckpointException(where + "has parameter '" + name + "' (shape " + Shape.str(c.parameters().get(name).shape())
                        + ") that the model does not have");

        List<String> optNames = optimizer.parameterNames();
        if (c.moments().size() != optNames.size())
            throw new CheckpointException(where + "has optimizer moments for " + c.moments().size() + " parameters, the optimizer has " + optNames.size());
        for (int i = 0; i < optNames.size(); i++) {
            Checkpoint.Moments m = c.moments().get(i);
            int n = optimizer.firstMoments().get(i).length;
            if (!m.name().equals(optNames.get(i)))
                throw new CheckpointException(where + "optimizer moment #" + i + " is for '" + m.name() + "', expected '" + optNames.get(i) + "'");
            if (m.first().length != n || m.second().length != n)
                throw new CheckpointException(where + "optimizer moments of '" + m.name() + "' hold " + m.first().length
                        + " values, expected " + n);
        }

        List<Router> routers = model.routers();
        if (c.routers().size() != routers.size())
            throw new CheckpointException(where + "has state for " + c.routers().size() + " routers, the model has " + routers.size() + " MoE layers");
        for (int i = 0; i < routers.size(); i++)
            if (!c.routers().get(i).name().equals(routers.get(i).name()))
                throw new CheckpointException(where + "router #" + i + " is '" + c.routers().get(i).name()
                        + "', the model's is '" + routers.get(i).name() + "'");

        // Routers and the data source check their own state while loading: keep their current
        // state so a refusal can be undone before anything else changes.
        List<Map<String, float[]>> routerBackup = new ArrayList<>();
        for (Router r : routers) routerBackup.add(copy(r.state()));
        byte[] dataBackup = train.saveState();
        int loaded = 0;
        try {
            for (; loaded < routers.size(); loaded++) routers.get(loaded).loadState(withoutExpertLossState(c.routers().get(loaded).state()));
            train.restoreState(RankCount.unwrap(c.dataState()));
        } catch (RuntimeException e) {
            for (int i = 0; i < loaded; i++) routers.get(i).loadState(routerBackup.get(i));
            if (loaded == routers.size()) train.restoreState(dataBackup);
            String what = loaded < routers.size() ? "router #" + loaded + " (" + routers.get(loaded).name() + ") state" : "data loader state";
            throw new CheckpointException(where + what + " does not fit: " + e.getMessage(), e);
        }

        // All checks passed: copy.
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            Tensor t = e.getValue();
            System.arraycopy(c.parameters().get(e.getKey()).data(), 0, t.data(), t.offset(), t.numel());
        }
        for (int i = 0; i < optNames.size(); i++) {
            Checkpoint.Moments m = c.moments().get(i);
            System.arraycopy(m.first(), 0, optimizer.firstMoments().get(i), 0, m.first().length);
            System.arraycopy(m.second(), 0, optimizer.secondMoments().get(i), 0, m.second().length);
        }
        if (!routers.isEmpty()) model.expertLosses().loadState(c.routers().get(0).state());
        optimizer.setStepCount(c.optimizerStep());
        step = c.step();
        lastCheckpointStep = step;
        lastEvalStep = -1;
        for (TrainListener l : listeners) l.onResume(step);
    }

    private static Map<String, float[]> withoutExpertLossState(Map<String, float[]> state) {
        Map<String, float[]> out = new LinkedHashMap<>(state);
        out.keySet().removeIf(k -> k.startsWith(moelab.losses.ExpertLosses.STATE_PREFIX));
        return out;
    }

    private static Map<String, float[]> copy(Map<String, float[]> m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : m.entrySet()) out.put(e.getKey(), e.getValue().clone());
        return out;
    }

    /** "line 3: checkpoint has 'x', current has 'y'". */
    static String firstDifference(String stored, String current) {
        String[] a = stored.split("\n", -1), b = current.split("\n", -1);
        for (int i = 0; i < Math.max(a.length, b.length); i++) {
            String x = i < a.length ? "'" + a[i] + "'" : "(end of text)";
            String y = i < b.length ? "'" + b[i] + "'" : "(end of text)";
            if (!x.equals(y)) return "line " + (i + 1) + ": checkpoint has " + x + ", current config has " + y;
        }
        return "(texts differ only in line endings)";
    }
}
