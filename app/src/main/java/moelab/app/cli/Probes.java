package moelab.app.cli;

import moelab.app.config.RunConfig;
import moelab.eval.MarProbe;
import moelab.eval.RoutingMetricsProbe;
import moelab.eval.SpecializationProbe;
import moelab.train.EvalProbe;

import java.util.ArrayList;
import java.util.List;

/**
 * THE place where evaluation probes are registered: every train and eval run gets these, in this
 * order (their scalars land in eval.jsonl). To add a probe, add one line here.
 */
public final class Probes {
    private Probes() {}

    /** The probes of a run; domainNames = domain index -> name, as in the data's Batch.domains. */
    public static List<EvalProbe> probes(RunConfig cfg, List<String> domainNames) {
        List<EvalProbe> p = new ArrayList<>();
        if (cfg.model().moe() != null && !domainNames.isEmpty())
            p.add(new RoutingMetricsProbe(domainNames));          // testbed routing metrics
        if (cfg.model().moe() != null)
            p.add(new SpecializationProbe());                     // spec.* expert-specialization metrics
        if (cfg.model().moe() != null && cfg.model().moe().mar().probeBatches() > 0)   // mar.* pseudo-balance diagnostics
            p.add(new MarProbe(cfg.model().moe().mar().probeBatches(), 256));
        return p;
    }
}
