package moelab.app.sweep;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sweep's progress and ETA while runs train in parallel. The first steps of a run are slow
 * (JIT warm-up, more so in a fresh JVM), so a run's pace is measured from its first progress line
 * at or after step {@value #WARM} on: seconds per step since then. Time left = the active runs'
 * steps left at their own pace, plus the waiting runs' steps at the mean pace, spread over the jobs,
 * and never less than the slowest active run's time left.
 */
final class SweepProgress {
    static final int WARM = 10;
    private static final Pattern STEP = Pattern.compile("step +(\\d+)/(\\d+) \\|");

    /** An active run as its log shows it: the last step logged, of total. */
    record Sample(String id, long step, long total) {}

    private final int jobs;
    private final Map<String, double[]> paceFrom = new HashMap<>();      // run id -> {seconds, step} of its first warm sample

    SweepProgress(int jobs) { this.jobs = jobs; }

    /** Seconds per step of an active run since its first warm sample; NaN until it has moved on from there. */
    double pace(double nowSec, Sample s) {
        if (s.step() >= WARM) paceFrom.putIfAbsent(s.id(), new double[]{nowSec, s.step()});
        double[] from = paceFrom.get(s.id());
        return from == null || s.step() <= from[1] ? Double.NaN : (nowSec - from[0]) / (s.step() - from[1]);
    }

    /**
     * @param nowSec       seconds on any fixed clock (the same for every call)
     * @param waitingSteps the steps of the runs not started yet
     * @return seconds until the last run ends, NaN while some active run has no pace yet
     */
    double eta(double nowSec, List<Sample> active, long waitingSteps) {
        if (active.isEmpty()) return waitingSteps == 0 ? 0 : Double.NaN;
        double left = 0, longest = 0, paceSum = 0;
        double[] paces = active.stream().mapToDouble(s -> pace(nowSec, s)).toArray();     // every run gets its warm sample
        for (int i = 0; i < paces.length; i++) {
            Sample s = active.get(i);
            double pace = paces[i];
            if (Double.isNaN(pace)) return Double.NaN;
            double mine = (s.total() - s.step()) * pace;
            left += mine;
            longest = Math.max(longest, mine);
            paceSum += pace;
        }
        return Math.max(longest, (left + waitingSteps * paceSum / active.size()) / jobs);
    }

    /** The last step in a log's progress lines ("step N/M | ..."); 0 before the first. */
    static long lastStep(String logTail) {
        Matcher m = STEP.matcher(logTail);
        long last = 0;
        while (m.find()) last = Long.parseLong(m.group(1));
        return last;
    }

    /** Seconds as h:mm:ss; "?" when not known (NaN or infinite). */
    static String hms(double sec) {
        if (!Double.isFinite(sec) || sec < 0) return "?";
        long s = Math.round(sec);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
