package moelab.train;

import java.nio.file.Path;

/** Receives training events: the progress line, metric files and plots hang off this. */
public interface TrainListener {
    default void onStep(StepMetrics m) {}

    default void onEval(EvalMetrics m) {}

    default void onCheckpoint(Path file, long step) {}

    /** The trainer was restored from a checkpoint of step (optimizer steps done); the next onStep is step + 1. */
    default void onResume(long step) {}
}
