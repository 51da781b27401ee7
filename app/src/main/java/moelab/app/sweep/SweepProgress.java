package moelab.app.sweep;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sweep's progress and ETA while runs train in parallel. A run's expected length comes from
 * the runs finished so far and from each active run's own ETA (its progress line): elapsed + ETA.
 * The sweep's ETA is the work left (active runs' ETAs plus the waiting runs at the expected length)
 * spread over the jobs, and never less than the longest active run's ETA.
 */
final class SweepProgress {
    private static final Pattern STEP = Pattern.compile("step +(\\d+)/(\\d+) \\|.*?ETA (\\S+)");
    private static final Pattern DURATION = Pattern.compile("(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?");

    /** What an active run's log says: the last step logged and the run's own ETA in seconds (NaN when unknown). */
    record RunStatus(long step, double etaSec) {}

    private final int jobs;
    private final List<Double> finishedSec = new ArrayList<>();

    SweepProgress(int jobs) { this.jobs = jobs; }

    void finished(double sec) { finishedSec.add(sec); }

    /**
     * @param elapsedSec per active run, seconds since it started
     * @param status     per active run, what its log says
     * @return seconds until the last run ends, NaN when not known yet
     */
    double eta(List<Double> elapsedSec, List<RunStatus> status, int waiting) {
        List<Double> lengths = new ArrayList<>(finishedSec);
        double activeLeft = 0, longest = 0;
        for (int i = 0; i < status.size(); i++) {
            double e = status.get(i).etaSec();
            if (Double.isNaN(e)) return Double.NaN;
            lengths.add(elapsedSec.get(i) + e);
            activeLeft += e;
            longest = Math.max(longest, e);
        }
        if (lengths.isEmpty()) return Double.NaN;
        double mean = lengths.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        return Math.max(longest, (activeLeft + waiting * mean) / jobs);
    }

    /** The last progress line in a log's tail: step and ETA; step 0 and NaN before the first, NaN ETA at the first. */
    static RunStatus parse(String logTail) {
        Matcher m = STEP.matcher(logTail);
        RunStatus last = new RunStatus(0, Double.NaN);
        while (m.find()) {
            long step = Long.parseLong(m.group(1));
            last = new RunStatus(step, step <= 1 ? Double.NaN : seconds(m.group(3)));   // the first step carries the JIT warm-up
        }
        return last;
    }

    /** "1h02m", "3m05s", "7s" (the progress line's durations) in seconds; NaN for "?" or anything else. */
    static double seconds(String d) {
        Matcher m = DURATION.matcher(d);
        if (d.isEmpty() || !m.matches()) return Double.NaN;
        double s = 0;
        if (m.group(1) != null) s += 3600 * Long.parseLong(m.group(1));
        if (m.group(2) != null) s += 60 * Long.parseLong(m.group(2));
        if (m.group(3) != null) s += Long.parseLong(m.group(3));
        return s;
    }

    /** Seconds as h:mm:ss; "?" when not known (NaN or infinite). */
    static String hms(double sec) {
        if (!Double.isFinite(sec) || sec < 0) return "?";
        long s = Math.round(sec);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
