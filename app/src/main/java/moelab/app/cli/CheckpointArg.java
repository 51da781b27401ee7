package moelab.app.cli;

import moelab.app.report.RunFolder;
import moelab.train.Checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What --checkpoint, --resume and --init-from name: a checkpoint file, a run folder (its latest
 * checkpoint under checkpoints/) or a checkpoints/ folder itself (its latest checkpoint).
 */
final class CheckpointArg {
    private CheckpointArg() {}

    /** The checkpoint file that arg names; null stays null. Errors name the option and the path. */
    static Path file(Path arg, String option) {
        if (arg == null) return null;
        if (Files.isRegularFile(arg)) return arg;
        if (!Files.isDirectory(arg))
            throw new IllegalArgumentException(option + ": no checkpoint file or run folder " + arg);
        Path dir = Files.isDirectory(arg.resolve(RunFolder.CHECKPOINTS)) ? arg.resolve(RunFolder.CHECKPOINTS) : arg;
        return Checkpoint.latest(dir).orElseThrow(() -> new IllegalArgumentException(option + ": no checkpoint (step-N.ckpt) in " + dir + (dir == arg ? "" : " (the run folder " + arg + " has none yet)")));
    }
}
