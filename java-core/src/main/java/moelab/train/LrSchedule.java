package moelab.train;

/** Learning rate over steps: linear warm-up, then cosine decay to a floor. */
public record LrSchedule(float maxLr, float minLr, int warmupSteps, int totalSteps) {
    public LrSchedule {
        if (!(maxLr > 0)) throw new IllegalArgumentException("lr schedule: max lr must be > 0, got " + maxLr);
        if (!(minLr >= 0 && minLr <= maxLr)) throw new IllegalArgumentException("lr schedule: min lr must be in [0, max lr], got " + minLr);
        if (warmupSteps < 0 || totalSteps < 1 || warmupSteps > totalSteps)
            throw new IllegalArgumentException("lr schedule: need 0 <= warmup (" + warmupSteps + ") <= total steps (" + totalSteps + "), total >= 1");
    }

    /** Learning rate of step s (0-based). */
    public float at(int s) {
        if (s < warmupSteps) return maxLr * (s + 1) / warmupSteps;
        if (totalSteps == warmupSteps) return minLr;
        double progress = Math.min(1.0, (double) (s - warmupSteps) / (totalSteps - warmupSteps));
        return (float) (minLr + 0.5 * (maxLr - minLr) * (1 + Math.cos(Math.PI * progress)));
    }
}
