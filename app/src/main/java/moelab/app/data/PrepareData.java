package moelab.app.data;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * {@code moe prepare-data}: builds a domain-labelled text mix from Debian packages (testbed.md
 * section 1). Steps: {@code apt-get download} each package (as a normal user, cached in the work
 * folder), {@code dpkg-deb -x}, convert to plain text (debian-reference .txt.gz split by section,
 * man pages through groff or a roff stripper, fortunes in chunks, code files as they are), clean
 * ({@link TextCleaner}), remove near-duplicate paragraphs across the documents and packages of each
 * domain ({@link NearDuplicates}), balance the domains and split train / validation by document
 * ({@link Balancer}), measure how much validation text occurs in training ({@link ValidationOverlap};
 * a warning, or a refusal before anything is written, above --max-val-overlap), and write:
 * <pre>
 *   OUT/DOMAIN/ID.txt   one document per file
 *   OUT/split.txt       held-out documents, one path relative to OUT per line
 *   OUT/stats.tsv       sizes per domain and split
 *   OUT/dedup.tsv       bytes removed as near-duplicates per domain and source, and what they repeated
 *   OUT/overlap.tsv     per domain the share of validation shingles found in training
 *   OUT/SOURCES.md      packages, versions, licences, commands, sizes
 *   OUT/_licenses/       copyright files and licence texts
 * </pre>
 * The committed sample is made by the same command: {@code moe prepare-data --out data/sample --sample-kb 200}.
 */
@Command(name = "prepare-data", mixinStandardHelpOptions = true,
        description = {"Build the domain mix (8 languages, or a heterogeneous code/markup/prose mix) from Debian packages:",
                "download, extract, convert to text, clean, balance domains, split train/validation by document."})
public final class PrepareData implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "output folder (created; a previous output there is replaced)")
    Path out;
    @Option(names = "--mix", description = "lang8 (en de fr es it ja zh ru) or hetero (java python markup roff en de ja ru); default ${DEFAULT-VALUE}")
    String mix = "lang8";
    @Option(names = "--sample-kb", description = "limit every domain to this many KiB (of the balance measure): a small sample; default: no limit")
    long sampleKb = 0;
    @Option(names = "--held-out", description = "validation fraction of each domain, by document; default ${DEFAULT-VALUE}")
    double heldOut = 0.05;
    @Option(names = "--seed", description = "seed of the document order (held-out choice, which documents fill the cap); default ${DEFAULT-VALUE}")
    long seed = 1;
    @Option(names = "--balance", description = "balance domains by BYTES (UTF-8 bytes = byte-tokenizer tokens) or CHARS; default ${DEFAULT-VALUE}")
    Measure balance = Measure.BYTES;
    @Option(names = "--work", description = "work folder for downloaded .deb files, extracted trees and rendered pages; default ~/.cache/moelab/prepare-data")
    Path work;
    @Option(names = "--roff", description = "man page conversion: auto (groff if installed, else the built-in stripper), groff, strip; default ${DEFAULT-VALUE}")
    String roff = "auto";
    @Option(names = "--install-groff", description = "if groff is missing, run 'apt-get install -y groff-base' (needs root) instead of falling back to the stripper")
    boolean installGroff;
    @Option(names = "--threads", description = "threads for rendering man pages; default: available processors")
    int threads = Runtime.getRuntime().availableProcessors();
    @Option(names = "--fortune-kb", description = "size of a fortune document (KiB of UTF-8); default ${DEFAULT-VALUE}")
    int fortuneKb = 8;

    @Option(names = "--dedup-threshold", description = "a paragraph is a near-duplicate when this share of its 32-character shingles occurs in text kept before it (same domain, any document or package); 0 = keep duplicates; default ${DEFAULT-VALUE}")
    double dedupThreshold = 0.5;
    @Option(names = "--max-val-overlap", description = "largest allowed share of a domain's validation shingles that occur in its training text; default ${DEFAULT-VALUE}")
    double maxValOverlap = 0.10;
    @Option(names = "--on-overlap", description = "above --max-val-overlap: warn (write anyway) or refuse (write nothing, exit 1); default ${DEFAULT-VALUE}")
    String onOverlap = "warn";

    private final PrintStream log = System.out;

    /** Standalone entry point (the same command as {@code moe prepare-data}). */
    public static void main(String[] args) {
        System.exit(new picocli.CommandLine(new PrepareData()).execute(args));
    }

    /** Runs the preparation; errors are printed as one message (naming the package or file) with exit code 1. */
    @Override
    public Integer call() {
        try {
            return prepare();
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("prepare-data: " + e.getMessage());
            return 1;
        }
    }

    private int prepare() throws IOException {
        if (sampleKb < 0) throw new IllegalArgumentException("--sample-kb must be >= 0, got " + sampleKb);
        if (fortuneKb <= 0) throw new IllegalArgumentException("--fortune-kb must be > 0, got " + fortuneKb);
        if (!(dedupThreshold >= 0 && dedupThreshold <= 1)) throw new IllegalArgumentException("--dedup-threshold must be in [0, 1] (0 = off), got " + dedupThreshold);
        if (!(maxValOverlap >= 0 && maxValOverlap <= 1)) throw new IllegalArgumentException("--max-val-overlap must be in [0, 1], got " + maxValOverlap);
        if (!List.of("warn", "refuse").contains(onOverlap)) throw new IllegalArgumentException("--on-overlap must be warn or refuse, got '" + onOverlap + "'");
        Map<String, List<Mixes.Source>> spec = Mixes.get(mix);
        for (String tool : List.of("apt-get", "dpkg-deb"))
            if (!DebianPackages.onPath(tool)) throw new IOException(tool + " not found on PATH: prepare-data needs a Debian system (apt, dpkg)");
        checkOutputFolder();
        Extractors.Roff mode = chooseRenderer();
        Path workDir = work != null ? work : Path.of(System.getProperty("user.home"), ".cache", "moelab", "prepare-data");
        Files.createDirectories(workDir);
        log.printf("prepare-data: mix %s, %d domains, work folder %s, man pages via %s%n", mix, spec.size(), workDir, mode.name().toLowerCase(Locale.ROOT));

        DebianPackages apt = new DebianPackages(workDir);
        Extractors ex = new Extractors(mode, workDir, threads, fortuneKb * 1024, 200, w -> log.println("warning: " + w));
        Map<String, List<Doc>> docs = new LinkedHashMap<>();
        List<SourcesReport.Used> used = new ArrayList<>();
        for (var e : spec.entrySet()) {
            String domain = e.getKey();
            List<Doc> all = new ArrayList<>();
            TreeSet<String> ids = new TreeSet<>();
            for (Mixes.Source src : e.getValue()) {
                DebianPackages.Unpacked pkg = apt.get(src.pkg());
                List<Doc> got = ex.extract(domain, src, pkg);
                if (got.isEmpty()) throw new IOException(domain + ": " + src.pkg() + " " + pkg.version() + " gave no documents from /" + src.path());
                for (Doc d : got)
                    if (!ids.add(d.id())) throw new IOException(domain + ": document id " + d.id() + " from " + src.pkg() + " is already used by another source");
                all.addAll(got);
                long bytes = Balancer.size(got, Measure.BYTES), chars = Balancer.size(got, Measure.CHARS);
                used.add(new SourcesReport.Used(domain, src, pkg, got.size(), bytes, chars, ex.lastEnglishDropped()));
                log.printf(Locale.ROOT, "  %-6s %-24s %-28s %5d docs %,12d bytes %,12d chars%s%n", domain, src.pkg(), pkg.version(), got.size(), bytes, chars,
                        ex.lastEnglishDropped() > 0 ? String.format(Locale.ROOT, " (%,d bytes of English dropped)", ex.lastEnglishDropped()) : "");
            }
            docs.put(domain, all);
        }

        List<NearDuplicates.SourceResult> dedup = List.of();
        if (dedupThreshold > 0) {
            NearDuplicates.Result r = NearDuplicates.remove(docs, dedupThreshold, 200);
            docs = r.docs();
            dedup = r.sources();
            log.printf(Locale.ROOT, "%nnear-duplicate paragraphs (>= %.0f%% of their shingles seen before in the domain):%n", 100 * dedupThreshold);
            for (NearDuplicates.SourceResult s : dedup)
                if (s.removedBytes() > 0)
                    log.printf(Locale.ROOT, "  %-6s %-24s removed %,12d bytes (%.1f%%), %d docs dropped; repeated %s%n", s.domain(), s.source(), s.removedBytes(),
                            100.0 * s.removedBytes() / Math.max(1, s.removedBytes() + s.keptBytes()), s.droppedDocs(), s.duplicateOf());
        }

        long limit = sampleKb * 1024;
        Balancer.Plan plan = Balancer.plan(docs, new Balancer.Options(heldOut, seed, balance, limit, 256));
        Map<String, ValidationOverlap.Domain> overlap = ValidationOverlap.of(plan.domains());
        List<String> over = new ArrayList<>();
        for (ValidationOverlap.Domain o : overlap.values())
            if (o.share() > maxValOverlap)
                over.add(String.format(Locale.ROOT, "%s %.1f%% (worst: %s, %.0f%%)", o.domain(), 100 * o.share(), o.worstDoc(), 100 * o.worstShare()));
        if (!over.isEmpty() && onOverlap.equals("refuse"))
            throw new IllegalArgumentException("validation text occurs in training above --max-val-overlap " + maxValOverlap + ": " + String.join("; ", over)
                    + " (nothing written; raise --max-val-overlap, or --on-overlap warn)");
        write(plan);
        writeTsv("dedup.tsv", dedupTsv(dedup));
        writeTsv("overlap.tsv", overlapTsv(overlap));
        String renderer = mode == Extractors.Roff.GROFF
                ? String.join(" ", RoffText.GROFF_ARGS) + " < PAGE   (" + firstLine(apt, List.of("groff", "--version")) + ")"
                : "built-in roff stripper (moelab.app.data.RoffText.strip; groff was not used)";
        SourcesReport.write(out, new SourcesReport.Context(mix, commandLine(), balance, heldOut, seed, limit, renderer,
                debianRelease(), used, plan));

        log.printf(Locale.ROOT, "%nbalanced by %s: cap %,d per domain -> train %,d + validation %,d%n",
                balance.name().toLowerCase(Locale.ROOT), plan.cap(), plan.trainBudget(), plan.valBudget());
        log.printf("%-8s %12s %10s %12s %8s %10s%n", "domain", "before", "train docs", "train", "val docs", "val");
        for (Balancer.DomainPlan d : plan.domains().values())
            log.printf(Locale.ROOT, "%-8s %,12d %10d %,12d %8d %,10d%n", d.domain(), d.sizeBefore(), d.train().size(), d.trainSize(), d.val().size(), d.valSize());
        log.printf("%nvalidation shingles (32 code points) found in the domain's training text:%n");
        for (ValidationOverlap.Domain o : overlap.values())
            log.printf(Locale.ROOT, "  %-8s %6.2f%% of %,d   worst document %s %.0f%%%n", o.domain(), 100 * o.share(), o.valShingles(), o.worstDoc(), 100 * o.worstShare());
        for (String o : over) log.println("warning: validation overlaps training above --max-val-overlap " + maxValOverlap + ": " + o);
        log.println("wrote " + out.toAbsolutePath() + " (split.txt, SOURCES.md, stats.tsv, dedup.tsv, overlap.tsv, _licenses/)");
        return 0;
    }

    private Extractors.Roff chooseRenderer() throws IOException {
        switch (roff) {
            case "strip": return Extractors.Roff.STRIP;
            case "groff":
                if (!DebianPackages.onPath("groff") && !(installGroff && installGroff()))
                    throw new IOException("--roff groff: groff not found on PATH (Debian package groff-base; or use --install-groff, or --roff strip)");
                return Extractors.Roff.GROFF;
            case "auto":
                if (DebianPackages.onPath("groff") || installGroff && installGroff()) return Extractors.Roff.GROFF;
                log.println("note: groff not found; man pages go through the built-in roff stripper (install groff-base for better text)");
                return Extractors.Roff.STRIP;
            default: throw new IllegalArgumentException("--roff must be auto, groff or strip, got '" + roff + "'");
        }
    }

    private boolean installGroff() throws IOException {
        log.println("groff missing: running apt-get install -y groff-base");
        try {
            Process p = new ProcessBuilder("apt-get", "install", "-y", "groff-base").inheritIO().start();
            int rc = p.waitFor();
            if (rc != 0) throw new IOException("apt-get install -y groff-base failed (exit " + rc + "); it needs root. Install groff-base, or use --roff strip");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while installing groff-base", e);
        }
        return DebianPackages.onPath("groff");
    }

    /** Refuses an output folder that holds anything this command did not write (checked before the slow work). */
    private void checkOutputFolder() throws IOException {
        if (!Files.isDirectory(out)) {
            if (Files.exists(out)) throw new IOException("--out " + out + " exists and is not a folder");
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(out)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                boolean ours = n.equals("split.txt") || n.equals("SOURCES.md") || n.equals("stats.tsv") || n.equals("_licenses")
                        || n.equals("dedup.tsv") || n.equals("overlap.tsv")
                        || Files.isDirectory(p) && onlyTxt(p);
                if (!ours) throw new IOException("output folder " + out + " contains " + n + ", which prepare-data did not write; choose an empty or previous output folder");
            }
        }
    }

    /** Replaces a previous output (only what this command writes) and writes the plan. */
    private void write(Balancer.Plan plan) throws IOException {
        checkOutputFolder();
        Files.createDirectories(out);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(out)) {
            for (Path p : ds) DebianPackages.deleteTree(p);
        }
        List<String> split = new ArrayList<>();
        for (Balancer.DomainPlan d : plan.domains().values()) {
            Path dir = Files.createDirectories(out.resolve(d.domain()));
            for (Doc doc : d.train()) Files.writeString(dir.resolve(doc.id() + ".txt"), doc.text(), StandardCharsets.UTF_8);
            for (Doc doc : d.val()) {
                Files.writeString(dir.resolve(doc.id() + ".txt"), doc.text(), StandardCharsets.UTF_8);
                split.add(doc.path());
            }
        }
        split.sort(null);
        Files.writeString(out.resolve("split.txt"), split.isEmpty() ? "" : String.join("\n", split) + "\n", StandardCharsets.UTF_8);
    }

    static String dedupTsv(List<NearDuplicates.SourceResult> rows) {
        StringBuilder sb = new StringBuilder("domain\tsource\tremoved_bytes\tkept_bytes\tdropped_docs\trepeated\n");
        for (NearDuplicates.SourceResult r : rows) {
            List<String> of = new ArrayList<>();
            r.duplicateOf().forEach((src, b) -> of.add(src + ":" + b));
            sb.append(String.join("\t", r.domain(), r.source(), Long.toString(r.removedBytes()), Long.toString(r.keptBytes()),
                    Integer.toString(r.droppedDocs()), String.join(",", of))).append('\n');
        }
        return sb.toString();
    }

    static String overlapTsv(Map<String, ValidationOverlap.Domain> overlap) {
        StringBuilder sb = new StringBuilder("domain\tval_shingles\tin_train\tshare\tworst_doc\tworst_share\n");
        for (ValidationOverlap.Domain o : overlap.values())
            sb.append(String.format(Locale.ROOT, "%s\t%d\t%d\t%.6f\t%s\t%.6f%n", o.domain(), o.valShingles(), o.shared(), o.share(), o.worstDoc(), o.worstShare()));
        return sb.toString();
    }

    /** Writes OUT/name through a temporary file and an atomic rename. */
    private void writeTsv(String name, String text) throws IOException {
        Path tmp = out.resolve(name + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, out.resolve(name), java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static boolean onlyTxt(Path dir) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) if (!Files.isRegularFile(p) || !p.getFileName().toString().endsWith(".txt")) return false;
        }
        return true;
    }

    /** The options that shape the output, as a command line for SOURCES.md (no machine-specific paths). */
    private String commandLine() {
        StringBuilder sb = new StringBuilder("./moe prepare-data --out ").append(out.normalize());
        if (!mix.equals("lang8")) sb.append(" --mix ").append(mix);
        if (sampleKb > 0) sb.append(" --sample-kb ").append(sampleKb);
        if (heldOut != 0.05) sb.append(" --held-out ").append(heldOut);
        if (seed != 1) sb.append(" --seed ").append(seed);
        if (balance != Measure.BYTES) sb.append(" --balance ").append(balance);
        if (fortuneKb != 8) sb.append(" --fortune-kb ").append(fortuneKb);
        if (dedupThreshold != 0.5) sb.append(" --dedup-threshold ").append(dedupThreshold);
        return sb.toString();
    }

    private static String debianRelease() {
        try {
            return "Debian " + Files.readString(Path.of("/etc/debian_version")).strip();
        } catch (IOException e) {
            return "an unknown Debian release";
        }
    }

    private static String firstLine(DebianPackages apt, List<String> cmd) {
        try {
            return apt.run(Path.of("."), cmd, "cannot run " + cmd.get(0)).lines().findFirst().orElse("").strip();
        } catch (IOException e) {
            return "version unknown";
        }
    }
}
