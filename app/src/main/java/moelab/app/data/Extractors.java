package moelab.app.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Turns one {@link Mixes.Source} of an unpacked package into cleaned {@link Doc}s. Man pages are
 * rendered in parallel and the rendered text is cached under the work folder, so a rerun only
 * cleans and balances again. Results are in sorted path order whatever the thread count.
 */
public final class Extractors {
    /** How man pages become text. */
    public enum Roff { GROFF, STRIP }

    /** Documents shorter than this after cleaning (in UTF-8 bytes) are dropped: stubs, redirects. */
    public final int minDocBytes;
    private final Roff roff;
    private final Path cache;
    private final int threads;
    private final int fortuneChunkBytes;
    private final Consumer<String> warn;
    private long lastEnglishDropped;

    public Extractors(Roff roff, Path cache, int threads, int fortuneChunkBytes, int minDocBytes, Consumer<String> warn) {
        this.roff = roff;
        this.cache = cache;
        this.threads = Math.max(1, threads);
        this.fortuneChunkBytes = fortuneChunkBytes;
        this.minDocBytes = minDocBytes;
        this.warn = warn;
    }

    public List<Doc> extract(String domain, Mixes.Source src, DebianPackages.Unpacked pkg) throws IOException {
        Path at = pkg.root().resolve(src.path());
        if (!Files.exists(at)) throw new IOException(src.pkg() + " " + pkg.version() + ": " + src.path() + " not found in the package (" + pkg.deb() + ")");
        List<Doc> raw = switch (src.kind()) {
            case DEBREF -> debref(domain, src, at);
            case MAN -> manPages(domain, src, pkg, at, true);
            case ROFF_SOURCE -> manPages(domain, src, pkg, at, false);
            case FORTUNE -> fortunes(domain, src, at);
            case JAVA_SRCZIP -> javaSources(domain, src, at);
            case PYTHON -> files(domain, src, at, "py-", ".py");
            case MARKUP -> files(domain, src, at, "markup-", ".html", ".rst.txt");
        };
        LanguageFilter lf = prose(src.kind()) ? LanguageFilter.forDomain(domain) : null;
        List<Doc> out = new ArrayList<>();
        long dropped = 0;
        for (Doc d : raw) {
            if (lf != null) {
                String kept = lf.apply(d.text());
                dropped += Utf8.bytes(d.text()) - Utf8.bytes(kept);
                d = d.withText(kept);
            }
            if (Utf8.bytes(d.text()) >= minDocBytes) out.add(d);
        }
        lastEnglishDropped = dropped;
        return out;
    }

    /** UTF-8 bytes of English paragraphs that the last {@link #extract} call removed ({@link LanguageFilter}). */
    public long lastEnglishDropped() { return lastEnglishDropped; }

    private static boolean prose(Mixes.Kind k) {
        return k == Mixes.Kind.DEBREF || k == Mixes.Kind.MAN || k == Mixes.Kind.FORTUNE;
    }

    // ---- debian-reference ----

    private List<Doc> debref(String domain, Mixes.Source src, Path file) throws IOException {
        String book = Utf8.decode(gunzipIfNeeded(file), src.pkg() + ": " + src.path());
        List<Doc> out = new ArrayList<>();
        for (DebianReference.Section s : DebianReference.split(book, src.pkg() + ": " + src.path()))
            out.add(new Doc(domain, "debref-" + s.id(), src.pkg(), true, TextCleaner.prose(s.text())));
        return out;
    }

    // ---- man pages ----

    /** A page file relative to the source folder, without ".gz": manSECTION/NAME.SECTION. */
    private static final Pattern PAGE = Pattern.compile("man[^/]+/(.+)\\.([^./]+)");

    private List<Doc> manPages(String domain, Mixes.Source src, DebianPackages.Unpacked pkg, Path dir, boolean render) throws IOException {
        List<Path> pages = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (Path f : DebianPackages.files(dir)) {
            String rel = dir.relativize(f).toString();
            Matcher m = PAGE.matcher(rel.endsWith(".gz") ? rel.substring(0, rel.length() - 3) : rel);
            if (!m.matches() || excluded(src, rel)) continue;
            pages.add(f);
            ids.add((render ? "man" : "roff") + m.group(2) + "-" + Doc.safe(m.group(1)));
        }
        List<String> texts = new ArrayList<>();
        if (render) texts = renderAll(pkg, dir, pages);
        else for (Path f : pages) texts.add(roffSource(f));
        TreeMap<String, Doc> out = new TreeMap<>();
        for (int i = 0; i < pages.size(); i++) {
            String text = texts.get(i);
            if (text == null) continue;                 // a .so redirect
            String clean = !render ? TextCleaner.code(text)
                    : TextCleaner.prose(roff == Roff.GROFF ? RoffText.dropHeaderFooter(text) : text);
            Doc prev = out.put(ids.get(i), new Doc(domain, ids.get(i), src.pkg(), false, clean));
            if (prev != null) throw new IOException(src.pkg() + ": two pages map to document id " + ids.get(i) + " (" + pages.get(i) + ")");
        }
        return new ArrayList<>(out.values());
    }

    /** The roff source with its leading comment block (copyright notice, repeated in every page) removed; null for redirects. */
    private static String roffSource(Path f) throws IOException {
        String s = Utf8.decodeLenient(gunzipIfNeeded(f));
        if (RoffText.isRedirect(s)) return null;
        List<String> lines = new ArrayList<>(List.of(s.split("\n", -1)));
        int i = 0;
        while (i < lines.size() && (lines.get(i).startsWith(".\\\"") || lines.get(i).startsWith("'\\\"") || lines.get(i).isBlank())) i++;
        return String.join("\n", lines.subList(i, lines.size()));
    }

    private List<String> renderAll(DebianPackages.Unpacked pkg, Path dir, List<Path> pages) throws IOException {
        Path cacheDir = cache.resolve("render-" + roff.name().toLowerCase()).resolve(pkg.deb().getFileName().toString().replaceFirst("\\.deb$", ""));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<String>> fs = new ArrayList<>();
            for (Path f : pages) {
                Path cached = cacheDir.resolve(dir.relativize(f) + ".txt");
                fs.add(pool.submit(() -> renderOne(f, cached, pkg.name())));
            }
            List<String> out = new ArrayList<>();
            for (Future<String> f : fs) out.add(f.get());
            return out;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof IOException io ? io : new IOException(pkg.name() + ": rendering failed: " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while rendering " + pkg.name(), e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Renders one page (null for a redirect), through the cache. A cached "\0" marks a redirect. */
    private String renderOne(Path page, Path cached, String pkg) throws IOException {
        if (Files.isRegularFile(cached)) {
            String c = Files.readString(cached);
            return c.equals("\0") ? null : c;
        }
        byte[] src = gunzipIfNeeded(page);
        String lenient = Utf8.decodeLenient(src);
        String text;
        if (RoffText.isRedirect(lenient)) text = null;
        else if (roff == Roff.GROFF) text = RoffText.groff(src, pkg + ": " + page.getFileName());
        else text = RoffText.strip(lenient);
        Files.createDirectories(cached.getParent());
        Path tmp = cached.resolveSibling(cached.getFileName() + ".tmp");
        Files.writeString(tmp, text == null ? "\0" : text);
        Files.move(tmp, cached, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return text;
    }

    // ---- fortunes ----

    private List<Doc> fortunes(String domain, Mixes.Source src, Path dir) throws IOException {
        List<Doc> out = new ArrayList<>();
        for (Path f : DebianPackages.files(dir)) {
            String rel = dir.relativize(f).toString();
            if (rel.endsWith(".dat") || rel.endsWith(".u8") || excluded(src, "/" + rel)) continue;
            byte[] b = Files.readAllBytes(f);
            String text;
            try {
                text = Utf8.decode(b, src.pkg() + ": " + rel);
            } catch (CharacterCodingException e) {
                warn.accept(e.getMessage() + "; invalid bytes dropped");
                text = Utf8.decodeLenient(b);
            }
            String base = "fortune-" + Doc.safe(rel.replace('/', '_'));
            for (Fortunes.Chunk c : Fortunes.chunk(text, fortuneChunkBytes))
                out.add(new Doc(domain, String.format("%s-%03d", base, c.index()), src.pkg(), false, TextCleaner.prose(c.text())));
        }
        return out;
    }

    // ---- code and markup ----

    private static final Pattern LICENCE_HEADER = Pattern.compile("(?s)\\A\\s*/\\*.*?\\*/\\s*");

    private List<Doc> javaSources(String domain, Mixes.Source src, Path zip) throws IOException {
        TreeMap<String, Doc> out = new TreeMap<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            List<ZipEntry> entries = new ArrayList<>();
            for (Enumeration<? extends ZipEntry> e = z.entries(); e.hasMoreElements(); ) entries.add(e.nextElement());
            entries.sort(java.util.Comparator.comparing(ZipEntry::getName));
            for (ZipEntry e : entries) {
                String name = e.getName();
                if (!name.startsWith("java.base/java/") || !name.endsWith(".java") || excluded(src, name)) continue;
                String text;
                try (InputStream in = z.getInputStream(e)) { text = Utf8.decodeLenient(in.readAllBytes()); }
                Matcher m = LICENCE_HEADER.matcher(text);
                if (m.lookingAt() && m.group().contains("Copyright")) text = text.substring(m.end());
                String id = "java-" + Doc.safe(name.substring("java.base/".length(), name.length() - ".java".length()).replace('/', '.'));
                out.put(id, new Doc(domain, id, src.pkg(), false, TextCleaner.code(text)));
            }
        }
        return new ArrayList<>(out.values());
    }

    private List<Doc> files(String domain, Mixes.Source src, Path dir, String prefix, String... suffixes) throws IOException {
        TreeMap<String, Doc> out = new TreeMap<>();
        for (Path f : DebianPackages.files(dir)) {
            String rel = dir.relativize(f).toString();
            if (excluded(src, "/" + rel)) continue;
            String suffix = null;
            for (String s : suffixes) if (rel.endsWith(s)) suffix = s;
            if (suffix == null) continue;
            String id = prefix + Doc.safe(rel.substring(0, rel.length() - suffix.length()).replace('/', '.'));
            Doc prev = out.put(id, new Doc(domain, id, src.pkg(), false, TextCleaner.code(Utf8.decodeLenient(Files.readAllBytes(f)))));
            if (prev != null) throw new IOException(src.pkg() + ": two files map to document id " + id + " (" + rel + ")");
        }
        return new ArrayList<>(out.values());
    }

    private static boolean excluded(Mixes.Source src, String rel) {
        for (String x : src.exclude()) if (rel.contains(x)) return true;
        return false;
    }

    static byte[] gunzipIfNeeded(Path f) throws IOException {
        if (!f.toString().endsWith(".gz")) return Files.readAllBytes(f);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(f))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IOException("cannot decompress " + f + ": " + e.getMessage(), e);
        }
    }
}
