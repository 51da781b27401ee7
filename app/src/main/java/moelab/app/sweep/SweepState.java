package moelab.app.sweep;

import moelab.app.report.RunFolder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Where each run of a plan stands on disk, judged by identity (see {@link RunIdentity}): a run
 * folder counts (done, or resumable) only when what it recorded equals what the sweep would run
 * now; otherwise it is CHANGED and the sweep refuses to run until the user picks a new --out or
 * asks for those runs to be retrained.
 */
public final class SweepState {
    /** NEW: no run folder yet; PARTIAL: started with this identity, not finished; DONE: finished with it; CHANGED: made with another. */
    public enum Status { NEW, PARTIAL, DONE, CHANGED }

    /** Suffix of a run folder moved aside by --rerun-changed: {@code <run>.replaced-<n>}. */
    static final String REPLACED = ".replaced-";

    /**
     * One run.
     *
     * @param changes for CHANGED, the keys that differ (recorded value -> value now)
     * @param wasDone for CHANGED, whether the recorded run had finished
     */
    public record Entry(SweepPlan.Run run, RunIdentity identity, Status status, List<RunIdentity.Change> changes, boolean wasDone) {}

    private final SweepPlan plan;
    private final List<Entry> entries;
    private final List<String> strays;

    private SweepState(SweepPlan plan, List<Entry> entries, List<String> strays) {
        this.plan = plan; this.entries = entries; this.strays = strays;
    }

    public static SweepState check(SweepPlan plan) {
        List<Entry> entries = new ArrayList<>();
        java.util.Map<String, String> fingerprints = new java.util.HashMap<>();
        java.util.Map<String, RunIdentity> byId = new java.util.HashMap<>();
        for (SweepPlan.Run r : plan.runs()) {                       // plan order: a run's init_from source comes first
            RunIdentity id = RunIdentity.of(r, fingerprints);
            if (r.initFrom() != null) id = id.with(RunIdentity.INIT_FROM_KEY, byId.get(r.initFrom()).digest());
            byId.put(r.id(), id);
            entries.add(entry(r, r.dir(plan.root()), id));
        }
        return new SweepState(plan, List.copyOf(entries), strays(plan));
    }

    private static Entry entry(SweepPlan.Run r, Path dir, RunIdentity now) {
        if (!Files.isDirectory(dir)) return new Entry(r, now, Status.NEW, List.of(), false);
        RunResult done = RunResult.read(dir);
        RunIdentity was = done != null ? (done.identity() == null ? null : new RunIdentity(done.identity())) : RunIdentity.read(dir);
        if (was == null) {
            if (done == null && !Files.exists(dir.resolve(RunFolder.CONFIG))) return new Entry(r, now, Status.NEW, List.of(), false);
            return new Entry(r, now, Status.CHANGED, List.of(new RunIdentity.Change("identity", "not recorded", "required")), done != null);
        }
        List<RunIdentity.Change> changes = now.changesFrom(was);
        if (!changes.isEmpty()) return new Entry(r, now, Status.CHANGED, changes, done != null);
        return new Entry(r, now, done != null ? Status.DONE : Status.PARTIAL, List.of(), done != null);
    }

    /** Folders in runs/ that are no run of this plan (e.g. of a seed no longer listed), not counting moved-aside ones. */
    private static List<String> strays(SweepPlan plan) {
        Path runs = plan.root().resolve("runs");
        if (!Files.isDirectory(runs)) return List.of();
        Set<String> ids = new HashSet<>();
        for (SweepPlan.Run r : plan.runs()) ids.add(r.id());
        try (Stream<Path> s = Files.list(runs)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(n -> !ids.contains(n) && !n.contains(REPLACED)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + runs + ": " + e.getMessage(), e);
        }
    }

    public List<Entry> entries() { return entries; }

    public Entry entry(SweepPlan.Run r) {
        return entries.stream().filter(e -> e.run().id().equals(r.id())).findFirst().orElseThrow();
    }

    public List<Entry> changed() { return entries.stream().filter(e -> e.status() == Status.CHANGED).toList(); }

    /** Runs of the plan whose folders are not counted by this sweep. */
    public List<String> strays() { return strays; }

    public boolean isDone(SweepPlan.Run r) { return entry(r).status() == Status.DONE; }

    /** How many runs are not done yet. */
    public long toTrain() { return entries.stream().filter(e -> e.status() != Status.DONE).count(); }

    /** The refusal: each changed run with its differing keys, and what to do. */
    public String changedMessage() {
        List<Entry> ch = changed();
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "%d run(s) in %s were made with another config, data or version than this sweep would run now; nothing was run:",
                ch.size(), plan.root().resolve("runs")));
        for (Entry e : ch) {
            b.append("\n  ").append(e.run().id()).append(e.wasDone() ? " (done)" : " (unfinished)").append(": ");
            List<String> shown = e.changes().stream().limit(8).map(RunIdentity.Change::toString).toList();
            b.append(String.join("; ", shown));
            if (e.changes().size() > shown.size()) b.append("; and ").append(e.changes().size() - shown.size()).append(" more");
        }
        return b.append("\nTo keep both, give a new --out DIR; to retrain just these runs here, add --rerun-changed "
                + "(their old folders are kept, renamed to <run>" + REPLACED + "<n>).").toString();
    }

    /** Renames each changed run's folder to {@code <run>.replaced-<n>} (first free n); returns the new state. */
    public SweepState moveChangedAside(java.io.PrintWriter out) {
        for (Entry e : changed()) {
            Path dir = e.run().dir(plan.root()), to;
            int n = 1;
            do to = dir.resolveSibling(dir.getFileName() + REPLACED + n++); while (Files.exists(to));
            try {
                Files.move(dir, to, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot move " + dir + " aside to " + to + ": " + ex.getMessage(), ex);
            }
            out.printf("%s: made with another config; moved to %s, it runs again%n", e.run().id(), to.getFileName());
        }
        out.flush();
        return check(plan);
    }

    /** Notes for the report: runs left out because their folders are of another config, or are no run of this sweep. */
    public List<String> reportNotes() {
        List<String> notes = new ArrayList<>();
        for (Entry e : changed())
            if (e.wasDone()) notes.add("left out " + e.run().id() + ": made with another config (" + e.changes().stream().limit(3)
                    .map(RunIdentity.Change::toString).reduce((a, c) -> a + "; " + c).orElse("") + (e.changes().size() > 3 ? "; ..." : "") + ")");
        if (!strays.isEmpty()) notes.add("left out " + strays.size() + " folder(s) in runs/ that are no run of this sweep: " + String.join(", ", strays));
        return notes;
    }
}
