package moelab.app.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Removes near-duplicate text across the documents and packages of each domain, paragraph by
 * paragraph: a paragraph (blank-line separated) goes when at least {@code threshold} of its
 * {@link Shingles} already occur in text kept before it (earlier sources of the domain first, in
 * the mix's order, then document order). Documents left under the minimum size are dropped.
 *
 * <p>Why exact long-n-gram containment and not MinHash: the known duplicates are excerpts (a
 * fortune quoting a few paragraphs of an older Debian Reference, a reStructuredText source whose
 * HTML rendering is another document), i.e. a small part of one document contained in a larger
 * one. MinHash estimates the Jaccard similarity of whole documents, which stays low for such
 * pairs; per-paragraph containment of exact shingles finds them, is deterministic, and at a few MB
 * per domain fits in memory as one hash table.
 */
final class NearDuplicates {
    private NearDuplicates() {}

    /**
     * What one source lost.
     *
     * @param removedBytes UTF-8 bytes of the paragraphs removed
     * @param keptBytes    UTF-8 bytes left
     * @param duplicateOf  per source the removed paragraphs repeated (by their first shared shingle): bytes
     */
    record SourceResult(String domain, String source, long removedBytes, long keptBytes, int droppedDocs,
                        Map<String, Long> duplicateOf) {}

    record Result(Map<String, List<Doc>> docs, List<SourceResult> sources) {}

    /**
     * @param docs      per domain its documents, sources in the mix's order
     * @param threshold share of a paragraph's shingles seen before that makes it a duplicate, in (0, 1]
     * @param minBytes  documents shorter than this after removal are dropped
     */
    static Result remove(Map<String, List<Doc>> docs, double threshold, int minBytes) {
        if (!(threshold > 0 && threshold <= 1)) throw new IllegalArgumentException("--dedup-threshold must be in (0, 1], got " + threshold);
        Map<String, List<Doc>> out = new LinkedHashMap<>();
        List<SourceResult> results = new ArrayList<>();
        for (Map.Entry<String, List<Doc>> e : docs.entrySet()) {
            Shingles.Table seen = new Shingles.Table();
            List<String> sources = new ArrayList<>();
            Map<String, long[]> stats = new LinkedHashMap<>();            // source -> {removed, kept, dropped docs}
            Map<String, Map<String, Long>> dupOf = new LinkedHashMap<>();
            List<Doc> kept = new ArrayList<>();
            for (Doc d : e.getValue()) {
                if (!sources.contains(d.source())) sources.add(d.source());
                int src = sources.indexOf(d.source());
                long[] st = stats.computeIfAbsent(d.source(), s -> new long[3]);
                Map<String, Long> dups = dupOf.computeIfAbsent(d.source(), s -> new LinkedHashMap<>());
                StringBuilder text = new StringBuilder();
                for (String para : d.text().split("\n\n", -1)) {
                    long[] sh = Shingles.of(para);
                    int hits = 0, firstOwner = -1;
                    for (long h : sh) {
                        int o = seen.owner(h);
                        if (o >= 0) { hits++; if (firstOwner < 0) firstOwner = o; }
                    }
                    long bytes = utf8(para);
                    if (sh.length > 0 && hits >= threshold * sh.length) {
                        st[0] += bytes;
                        dups.merge(sources.get(firstOwner), bytes, Long::sum);
                        continue;
                    }
                    for (long h : sh) seen.add(h, src);
                    if (text.length() > 0) text.append("\n\n");
                    text.append(para);
                }
                String t = text.toString().strip();
                if (utf8(t) < minBytes) { st[2]++; st[0] += utf8(t); continue; }
                String doc = t + "\n";
                st[1] += utf8(doc);
                kept.add(d.withText(doc));
            }
            out.put(e.getKey(), kept);
            for (String s : sources) {
                long[] st = stats.get(s);
                results.add(new SourceResult(e.getKey(), s, st[0], st[1], (int) st[2], dupOf.get(s)));
            }
        }
        return new Result(out, results);
    }

    static long utf8(String s) { return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length; }
}
