package moelab.app.sweep;

import java.util.Locale;

/** Formatting of the sweep's progress and ETA. */
final class SweepProgress {
    private SweepProgress() {}

    /** Seconds as h:mm:ss; "?" when not known (NaN or infinite). */
    static String hms(double sec) {
        if (!Double.isFinite(sec) || sec < 0) return "?";
        long s = Math.round(sec);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
