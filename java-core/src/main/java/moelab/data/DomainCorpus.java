package moelab.data;

import moelab.config.ConfigException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Text documents with a domain label each, split into training and validation documents.
 *
 * <h2>Layout</h2>
 * {@code <root>/<domain>/**}{@code /*.txt}: every sub-folder of root is a domain (name = folder
 * name, index = position in name order); every {@code .txt} file below it, at any depth, is one
 * document, UTF-8 (a leading byte-order mark is dropped). Names starting with '.' and other files
 * are ignored, and so are domain-level folders starting with '_' (e.g. {@code _licenses}). A document's id is its path relative to its domain folder with '/' separators, e.g.
 * {@code ch03.txt} or {@code man1/ls.txt}.
 *
 * <h2>Validation split (by document)</h2>
 * <ul>
 *   <li>If {@code <root>/split.txt} exists it decides: each non-blank line not starting with '#'
 *       is a glob over document ids ({@code *} and {@code ?} stay inside one folder, {@code **}
 *       crosses folders) and a document is held out when any line matches its id, in every domain;
 *       a line {@code <domain>/<glob>} (its first folder is a domain name) applies to that domain only.
 *       For a parallel corpus (the same chapter files in every language) this holds out the same
 *       chapters everywhere. A line that matches nothing, and a domain left with no validation or no
 *       training document, is an error naming split.txt and the line or domain.</li>
 *   <li>Otherwise each domain's documents are ranked by a hash of (seed, document id) and held out
 *       from the front until at least {@code valFraction} of the domain's bytes is held out (at
 *       least one document, never all). The rank depends only on the id, so equally named
 *       documents rank alike in every domain: parallel corpora hold out the same chapters, up to
 *       the byte threshold. valFraction 0 holds out nothing.</li>
 * </ul>
 * Training documents are kept in a seeded order (the order they are packed into token streams and
 * truncated by {@code maxBytesPerDomain}); validation documents in id order.
 */
public final class DomainCorpus {
    /** One document: its domain index, its id inside the domain folder, its file, its text. */
    public record Document(int domain, String id, Path file, String text) {}

    private static final long SALT_SPLIT = 0x5B11D, SALT_ORDER = 0x0DE2;

    private final Path root;
    private final List<String> domains;
    private final List<List<Document>> train, validation;
    private final boolean splitFile;

    private DomainCorpus(Path root, List<String> domains, List<List<Document>> train, List<List<Document>> validation, boolean splitFile) {
        this.root = root;
        this.domains = List.copyOf(domains);
        this.train = train;
        this.validation = validation;
        this.splitFile = splitFile;
    }

    /** Loads cfg.path() with cfg's validation fraction and byte cap; a missing folder is a config error naming data.path. */
    public static DomainCorpus load(DataConfig cfg, long seed) {
        Path root = Path.of(cfg.path());
        if (!Files.isDirectory(root))
            throw new ConfigException("data.path", "corpus folder '" + root.toAbsolutePath() + "' does not exist or is not a folder");
        return load(root, seed, cfg.valFraction(), cfg.maxBytesPerDomain());
    }

    /**
     * Loads root (layout above), splits it, and keeps at most maxBytesPerDomain bytes of training
     * text per domain (0 = all; whole documents in the seeded order, the last one cut at a
     * character boundary).
     */
    public static DomainCorpus load(Path root, long seed, double valFraction, long maxBytesPerDomain) {
        if (!Files.isDirectory(root))
            throw new DataException("corpus folder '" + root.toAbsolutePath() + "' does not exist or is not a folder");
        List<Path> dirs;
        try (Stream<Path> s = Files.list(root)) {
            // folders starting with '.' or '_' are not domains (e.g. _licenses beside the data)
            dirs = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")
                            && !p.getFileName().toString().startsWith("_"))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list corpus folder " + root + ": " + e.getMessage(), e);
        }
        if (dirs.isEmpty())
            throw new DataException("corpus folder '" + root + "' has no domain folders (expected " + root + "/<domain>/*.txt)");

        List<String> names = new ArrayList<>();
        List<List<Document>> all = new ArrayList<>();
        for (int d = 0; d < dirs.size(); d++) {
            Path dir = dirs.get(d);
            String name = dir.getFileName().toString();
            names.add(name);
            List<Document> docs = readDomain(d, name, dir);
            all.add(docs);
        }

        Path splitPath = root.resolve("split.txt");
        boolean fromFile = Files.isRegularFile(splitPath);
        List<List<Document>> tr = new ArrayList<>(), va = new ArrayList<>();
        boolean[][] held = fromFile ? heldOutByFile(splitPath, names, all) : heldOutByHash(seed, valFraction, names, all);
        for (int d = 0; d < all.size(); d++) {
            List<Document> t = new ArrayList<>(), v = new ArrayList<>();
            for (int i = 0; i < all.get(d).size(); i++) (held[d][i] ? v : t).add(all.get(d).get(i));
            t.sort(Comparator.comparingLong((Document x) -> rank(seed, SALT_ORDER, x.id())).thenComparing(Document::id));
            if (maxBytesPerDomain > 0) t = capBytes(t, maxBytesPerDomain);
            tr.add(Collections.unmodifiableList(t));
            va.add(Collections.unmodifiableList(v));
        }
        return new DomainCorpus(root, names, tr, va, fromFile);
    }

    private static List<Document> readDomain(int d, String name, Path dir) {
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".txt") && Files.isRegularFile(p))
                    .filter(p -> { for (Path part : dir.relativize(p)) if (part.toString().startsWith(".")) return false; return true; })
                    .toList();
        } catch (IOException | UncheckedIOException e) {
            throw new DataException("cannot list domain folder " + dir + ": " + e.getMessage(), e);
        }
        List<Document> docs = new ArrayList<>();
        long bytes = 0;
        for (Path f : files) {
            String id = dir.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
            String text = readUtf8(f);
            bytes += text.length();
            docs.add(new Document(d, id, f, text));
        }
        docs.sort(Comparator.comparing(Document::id));
        if (docs.isEmpty())
            throw new DataException("domain '" + name + "' (" + dir + ") has no .txt documents");
        if (bytes == 0)
            throw new DataException("domain '" + name + "' (" + dir + "): all " + docs.size() + " documents are empty");
        return docs;
    }

    /** Strict UTF-8; the error names the file and the byte offset of the first bad byte. */
    static String readUtf8(Path f) {
        byte[] b;
        try {
            b = Files.readAllBytes(f);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read document " + f + ": " + e.getMessage(), e);
        }
        int start = b.length >= 3 && (b[0] & 0xFF) == 0xEF && (b[1] & 0xFF) == 0xBB && (b[2] & 0xFF) == 0xBF ? 3 : 0;
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b, start, b.length - start);
        CharBuffer out = CharBuffer.allocate(b.length);
        CoderResult r = dec.decode(in, out, true);
        if (!r.isError()) r = dec.flush(out);
        if (r.isError())
            throw new DataException("document " + f + " is not valid UTF-8: bad byte 0x"
                    + String.format("%02X", b[in.position()] & 0xFF) + " at byte offset " + in.position());
        out.flip();
        return out.toString();
    }

    private static long rank(long seed, long salt, String id) { return SplitMix64.derive(SplitMix64.derive(seed, salt), SplitMix64.hash(id)); }

    private static boolean[][] heldOutByHash(long seed, double valFraction, List<String> names, List<List<Document>> all) {
        boolean[][] held = new boolean[all.size()][];
        for (int d = 0; d < all.size(); d++) {
            List<Document> docs = all.get(d);
            held[d] = new boolean[docs.size()];
            if (valFraction <= 0) continue;
            if (docs.size() < 2)
                throw new DataException("domain '" + names.get(d) + "' has one document; validation is split by document: "
                        + "add documents, write a split.txt, or set data.val_fraction to 0");
            Integer[] order = new Integer[docs.size()];
            for (int i = 0; i < order.length; i++) order[i] = i;
            java.util.Arrays.sort(order, Comparator.comparingLong((Integer i) -> rank(seed, SALT_SPLIT, docs.get(i).id())).thenComparing(i -> docs.get(i).id()));
            long total = 0;
            for (Document doc : docs) total += utf8Length(doc.text());
            double target = valFraction * total;
            long heldBytes = 0;
            for (int k = 0; k < order.length - 1 && (k == 0 || heldBytes < target); k++) {
                held[d][order[k]] = true;
                heldBytes += utf8Length(docs.get(order[k]).text());
            }
        }
        return held;
    }

    private static boolean[][] heldOutByFile(Path splitPath, List<String> names, List<List<Document>> all) {
        List<String> lines;
        try {
            lines = Files.readAllLines(splitPath, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + splitPath + ": " + e.getMessage(), e);
        }
        boolean[][] held = new boolean[all.size()][];
        for (int d = 0; d < all.size(); d++) held[d] = new boolean[all.get(d).size()];
        for (int ln = 0; ln < lines.size(); ln++) {
            String g = lines.get(ln).strip();
            if (g.isEmpty() || g.startsWith("#")) continue;
            // "<domain>/<glob>" applies to that domain only; a bare glob to every domain
            int only = -1;
            int slash = g.indexOf('/');
            if (slash > 0 && names.contains(g.substring(0, slash))) {
                only = names.indexOf(g.substring(0, slash));
                g = g.substring(slash + 1);
            }
            Pattern p = glob(g);
            boolean any = false;
            for (int d = 0; d < all.size(); d++) {
                if (only >= 0 && d != only) continue;
                for (int i = 0; i < all.get(d).size(); i++)
                    if (p.matcher(all.get(d).get(i).id()).matches()) { held[d][i] = true; any = true; }
            }
            if (!any)
                throw new DataException(splitPath + ":" + (ln + 1) + ": '" + g + "' matches no document id in any domain "
                        + "(ids are paths relative to the domain folder, e.g. ch03.txt)");
        }
        for (int d = 0; d < all.size(); d++) {
            int h = 0;
            for (boolean b : held[d]) if (b) h++;
            if (h == 0) throw new DataException(splitPath + " holds out no document of domain '" + names.get(d) + "'");
            if (h == held[d].length) throw new DataException(splitPath + " holds out every document of domain '" + names.get(d) + "', leaving none to train on");
        }
        return held;
    }

    /** Glob to regex: ** any characters, * and ? within one folder, everything else literal. */
    static Pattern glob(String g) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < g.length(); i++) {
            char c = g.charAt(i);
            if (c == '*' && i + 1 < g.length() && g.charAt(i + 1) == '*') {
                i++;
                if (i + 1 < g.length() && g.charAt(i + 1) == '/') { i++; re.append("(?:.*/)?"); } else re.append(".*");
            } else if (c == '*') re.append("[^/]*");
            else if (c == '?') re.append("[^/]");
            else re.append(Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(re.toString());
    }

    private static List<Document> capBytes(List<Document> docs, long max) {
        List<Document> out = new ArrayList<>();
        long total = 0;
        for (Document doc : docs) {
            if (total >= max) break;
            byte[] b = doc.text().getBytes(StandardCharsets.UTF_8);
            if (total + b.length <= max) {
                out.add(doc);
                total += b.length;
            } else {
                int cut = (int) (max - total);
                while (cut > 0 && (b[cut] & 0xC0) == 0x80) cut--; // do not split a character
                if (cut > 0) out.add(new Document(doc.domain(), doc.id(), doc.file(), new String(b, 0, cut, StandardCharsets.UTF_8)));
                total = max;
            }
        }
        return out;
    }

    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) { n += 4; i++; }
            else n += 3;
        }
        return n;
    }

    public Path root() { return root; }

    /** Domain names in index order. */
    public List<String> domains() { return domains; }

    public int domainCount() { return domains.size(); }

    /** Whether {@code <root>/split.txt} chose the validation documents. */
    public boolean splitFromFile() { return splitFile; }

    /** Training documents of domain d, in the seeded packing order. */
    public List<Document> train(int d) { return train.get(d); }

    /** Validation documents of domain d, in id order. */
    public List<Document> validation(int d) { return validation.get(d); }

    public long trainBytes(int d) {
        long n = 0;
        for (Document doc : train.get(d)) n += utf8Length(doc.text());
        return n;
    }

    /**
     * Text to train BPE on, the same number of UTF-8 bytes from every domain: min(bytesPerDomain,
     * smallest domain's training bytes) (bytesPerDomain 0 = no cap), whole training documents in
     * the packing order, the last one cut at a character boundary.
     */
    public List<String> bpeSample(long bytesPerDomain) {
        long min = Long.MAX_VALUE;
        for (int d = 0; d < domains.size(); d++) min = Math.min(min, trainBytes(d));
        long budget = bytesPerDomain > 0 ? Math.min(bytesPerDomain, min) : min;
        List<String> out = new ArrayList<>();
        for (int d = 0; d < domains.size(); d++)
            for (Document doc : capBytes(train.get(d), budget)) out.add(doc.text());
        return out;
    }

    /** The tokenizer cfg asks for: the byte tokenizer, or BPE trained on {@link #bpeSample}. */
    public Tokenizer buildTokenizer(DataConfig cfg) {
        if (cfg.tokenizer().equals(DataConfig.BYTE)) return new ByteTokenizer();
        return BpeTokenizer.train(bpeSample(cfg.bpeSampleBytes()), cfg.bpeVocab());
    }

    /**
     * Encodes every document and packs each domain's documents into one training and one
     * validation token stream, each document followed by {@link ByteTokenizer#DOC_SEPARATOR}.
     * With balance, every training stream is cut to the shortest one's length, and likewise every
     * validation stream (when all domains have validation text), so each domain has the same number
     * of tokens: balanced by tokens, not bytes.
     */
    public TokenizedCorpus tokenize(Tokenizer tok, boolean balance) {
        int sep = ByteTokenizer.DOC_SEPARATOR;
        if (tok.vocabSize() <= sep)
            throw new IllegalArgumentException("DomainCorpus.tokenize: tokenizer " + tok.name() + " has vocabulary " + tok.vocabSize()
                    + ", which lacks the document separator id " + sep);
        int nd = domains.size();
        int[][] tr = new int[nd][], va = new int[nd][];
        for (int d = 0; d < nd; d++) {
            tr[d] = pack(tok, train.get(d), sep);
            va[d] = pack(tok, validation.get(d), sep);
        }
        if (balance) {
            TokenizedCorpus.capToShortest(tr);
            boolean allVal = true;
            for (int[] v : va) allVal &= v.length > 0;
            if (allVal) TokenizedCorpus.capToShortest(va);
        }
        return new TokenizedCorpus(domains, tr, va, tok.vocabSize(), sep, tok.name());
    }

    private static int[] pack(Tokenizer tok, List<Document> docs, int sep) {
        List<int[]> enc = docs.parallelStream().map(doc -> tok.encode(doc.text())).toList();
        IntList out = new IntList(1024);
        for (int i = 0; i < enc.size(); i++) {
            for (int t : enc.get(i))
                if (t == sep) throw new IllegalArgumentException("tokenizer " + tok.name() + " produced id " + sep
                        + " (reserved as the document separator) in document " + docs.get(i).file());
            out.addAll(enc.get(i));
            out.add(sep);
        }
        return out.toArray();
    }
}
