package moelab.app.cli;

import moelab.app.report.Report;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code moe report RUN_DIR}: (re)builds a run's plots and index.html from its metric files. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Regenerate a run folder's plots and index.html from its config and metric files.")
public final class ReportCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RUN_DIR", description = "run folder (holds config.yaml, metrics.jsonl, eval.jsonl)")
    Path runDir;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        Report.Result r = Report.generate(runDir);
        var out = spec.commandLine().getOut();
        for (String p : r.plots()) out.println("wrote " + runDir.resolve(p));
        out.println("wrote " + r.index());
        out.flush();
        return 0;
    }
}
