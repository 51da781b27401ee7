package moelab.eval;

import moelab.data.Batch;
import moelab.nn.Transformer;
import moelab.routing.Router;
import moelab.routing.RoutingRecord;
import moelab.tensor.NoGrad;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pseudo-balance as the papers mean it: how often TRAINING routing changes its mind about a fixed
 * probe batch that holds every domain, measured every few optimizer steps, per layer.
 *
 * <p>Per layer: {@code switch_rate} = share of probe tokens whose top-k set differs from the previous
 * measurement, {@code consistency} = their mean Jaccard overlap (both null at the first),
 * {@code train_eval_jaccard} = mean Jaccard overlap of the training and the eval routing of the same
 * tokens now (1 when eval routes as training does; MAR and expert bias can make them differ).
 *
 * <p>Training routing reads and writes router state (memories, bias windows, global counters). The
 * probe runs between optimizer steps, so it saves every router's state (and the expert losses'),
 * routes the probe batch in training mode under no-grad, ends the routers' windows and restores the
 * saved state: training continues bit for bit as without the probe.
 */
public final class RoutingStability {
    /** One layer at one measurement. */
    public record Layer(int layer, Double switchRate, Double consistency, double trainEvalJaccard) {}

    private final Batch probe;
    private List<int[]> previous;   // per layer: sorted top-k sets [T*k]

    public RoutingStability(Batch probe) { this.probe = java.util.Objects.requireNonNull(probe, "probe batch"); }

    public Batch probe() { return probe; }

    /**
     * The first perDomain sequences of each domain 0..domains-1 (a sequence's domain: its first
     * token's label) from the validation batches, as one batch, domains in order. Domains with no
     * sequence there are missing from it (see {@link #domainsCovered}).
     */
    public static Batch probeBatch(List<Batch> validation, int domains, int perDomain) {
        if (perDomain < 1) throw new IllegalArgumentException("probeBatch: sequences per domain must be >= 1, got " + perDomain);
        List<int[]> picks = new ArrayList<>();     // {batch, sequence}
        int seqLen = validation.isEmpty() ? 0 : validation.getFirst().seqLen();
        for (int d = 0; d < domains; d++) {
            int found = 0;
            for (int b = 0; b < validation.size() && found < perDomain; b++) {
                Batch v = validation.get(b);
                if (v.domains() == null || v.seqLen() != seqLen) continue;
                for (int s = 0; s < v.batch() && found < perDomain; s++)
                    if (v.domains()[s * seqLen] == d) { picks.add(new int[]{b, s}); found++; }
            }
        }
        if (picks.isEmpty()) throw new IllegalArgumentException("probeBatch: no labelled validation sequence to probe with");
        int n = picks.size() * seqLen;
        int[] in = new int[n], tg = new int[n], dom = new int[n];
        for (int i = 0; i < picks.size(); i++) {
            Batch v = validation.get(picks.get(i)[0]);
            int from = picks.get(i)[1] * seqLen;
            System.arraycopy(v.inputs(), from, in, i * seqLen, seqLen);
            System.arraycopy(v.targets(), from, tg, i * seqLen, seqLen);
            System.arraycopy(v.domains(), from, dom, i * seqLen, seqLen);
        }
        return new Batch(in, tg, picks.size(), seqLen, dom);
    }

    /** Distinct domain labels of the probe's sequences. */
    public int domainsCovered() {
        return (int) java.util.stream.IntStream.range(0, probe.batch()).map(s -> probe.domains()[s * probe.seqLen()]).distinct().count();
    }

    /** Routes the probe batch with training and with eval routing; per MoE layer, in block order. Leaves the model as it was. */
    public List<Layer> measure(Transformer model) {
        List<RoutingRecord> train = trainingRouting(model), eval;
        try (NoGrad ng = NoGrad.enter()) {
            eval = model.forward(probe.inputs(), probe.tokenInfo(), false).routing();
        }
        List<int[]> now = new ArrayList<>();
        for (RoutingRecord r : train) now.add(sortedSets(r));
        boolean comparable = previous != null && previous.size() == now.size();
        List<Layer> out = new ArrayList<>();
        for (int l = 0; l < train.size(); l++) {
            RoutingRecord r = train.get(l);
            int k = r.topK();
            double[] prev = comparable && previous.get(l).length == now.get(l).length ? overlap(previous.get(l), now.get(l), k) : null;
            double[] te = overlap(now.get(l), sortedSets(eval.get(l)), k);
            out.add(new Layer(r.layer(), prev == null ? null : prev[0], prev == null ? null : prev[1], te[1]));
        }
        previous = now;
        return out;
    }

    /** Training-mode routing of the probe, with every bit of router and expert-loss state restored afterwards. */
    private List<RoutingRecord> trainingRouting(Transformer model) {
        List<Router> routers = model.routers();
        List<Map<String, float[]>> saved = new ArrayList<>();
        for (Router r : routers) saved.add(deepCopy(r.state()));
        Map<String, float[]> losses = deepCopy(model.expertLosses().state());
        try (NoGrad ng = NoGrad.enter()) {
            return model.forward(probe.inputs(), probe.tokenInfo(), true).routing();
        } finally {
            for (int i = 0; i < routers.size(); i++) {
                routers.get(i).endStep();                 // closes the windows the probe opened
                routers.get(i).loadState(saved.get(i));   // and undoes what ending them changed
            }
            model.expertLosses().loadState(losses);
        }
    }

    private static Map<String, float[]> deepCopy(Map<String, float[]> m) {
        Map<String, float[]> c = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : m.entrySet()) c.put(e.getKey(), e.getValue().clone());
        return c;
    }

    private static int[] sortedSets(RoutingRecord r) {
        int[] s = r.selected().clone();
        for (int i = 0; i < r.tokens(); i++) Arrays.sort(s, i * r.topK(), (i + 1) * r.topK());
        return s;
    }

    /** {share of tokens whose sets differ, mean Jaccard overlap} of two [T*k] arrays of sorted top-k sets. */
    public static double[] overlap(int[] a, int[] b, int k) {
        int t = a.length / k;
        double switches = 0, jac = 0;
        for (int i = 0; i < t; i++) {
            int inter = 0;
            for (int x = 0; x < k; x++)
                for (int y = 0; y < k; y++) if (a[i * k + x] == b[i * k + y]) { inter++; break; }
            if (inter < k) switches++;
            jac += (double) inter / (2 * k - inter);
        }
        return t == 0 ? new double[]{Double.NaN, Double.NaN} : new double[]{switches / t, jac / t};
    }
}
