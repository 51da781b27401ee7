package moelab.app.data;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Balances domains and splits train / validation by document.
 *
 * <ol>
 *   <li>Cap: C = the smallest domain's size (in the chosen {@link Measure}), or the sample limit
 *       when smaller. Validation budget V = floor(heldOut * C), train budget T = C - V.</li>
 *   <li>Parallel documents (same id in several domains, e.g. debian-reference sections) are
 *       ranked by a seeded hash of their id. An id present in every domain that has parallel
 *       documents is held out when it still fits, in each of them, in that domain's parallel
 *       share of V (V times the parallel documents' share of the domain's size, so validation has
 *       about the mix of sources that training has). The chosen ids are held out in every domain,
 *       whole.</li>
 *   <li>Validation of each domain: the chosen parallel documents, then the other documents in
 *       seeded-hash order of their ids (so a man page translated into several languages tends to be
 *       held out in all of them), until V; the document that crosses V is cut at a line end and
 *       the rest of it is dropped, so no document is in both splits.</li>
 *   <li>Train: all remaining documents in another seeded-hash order until T, the last one cut.</li>
 *   <li>Because cuts happen at line ends and the smallest domain may lose the cut-off tail of a
 *       validation document, the fills are redone with V' and T' = the smallest filled sizes;
 *       domains then differ by less than {@link #SLACK} units per split.</li>
 * </ol>
 * Pure and deterministic: the same documents, options and seed give the same plan.
 */
public final class Balancer {
    /** A cut prefers a line end unless that loses this many units or more. */
    public static final long SLACK = 256;

    /** heldOut in [0, 0.5); capLimit <= 0 means no limit beyond the smallest domain; minPiece: shortest cut-off piece kept. */
    public record Options(double heldOut, long seed, Measure measure, long capLimit, long minPiece) {
        public Options {
            if (!(heldOut >= 0 && heldOut < 0.5)) throw new IllegalArgumentException("held-out fraction must be in [0, 0.5), got " + heldOut);
            if (minPiece < 1) throw new IllegalArgumentException("minPiece must be >= 1, got " + minPiece);
        }
    }

    /** One domain's result; sizes in the plan's measure. */
    public record DomainPlan(String domain, int docsBefore, long sizeBefore, List<Doc> train, List<Doc> val,
                             long trainSize, long valSize) {}

    /** cap = C, trainBudget/valBudget after the second fill; heldOutParallel = the parallel ids held out everywhere. */
    public record Plan(Measure measure, long cap, long trainBudget, long valBudget, List<String> heldOutParallel,
                       Map<String, DomainPlan> domains) {}

    private Balancer() {}

    public static Plan plan(Map<String, List<Doc>> docsByDomain, Options o) {
        if (docsByDomain.isEmpty()) throw new IllegalArgumentException("no domains to balance");
        Map<String, List<Doc>> docs = new TreeMap<>(docsByDomain);
        Map<String, Long> before = new TreeMap<>();
        for (var e : docs.entrySet()) {
            if (e.getValue().isEmpty()) throw new IllegalArgumentException("domain " + e.getKey() + " has no documents");
            Set<String> ids = new HashSet<>();
            long size = 0;
            for (Doc d : e.getValue()) {
                if (!d.domain().equals(e.getKey())) throw new IllegalArgumentException("document " + d.id() + " is labelled " + d.domain() + " but listed under " + e.getKey());
                if (!ids.add(d.id())) throw new IllegalArgumentException("domain " + e.getKey() + ": duplicate document id " + d.id());
                size += o.measure().of(d.text());
            }
            before.put(e.getKey(), size);
        }
        long cap = before.values().stream().mapToLong(Long::longValue).min().orElseThrow();
        if (o.capLimit() > 0) cap = Math.min(cap, o.capLimit());
        long v = (long) Math.floor(o.heldOut() * cap), t = cap - v;

        List<String> parallel = chooseParallel(docs, before, v, o);
        Set<String> parallelSet = new HashSet<>(parallel);

        Map<String, List<Doc>> val = new TreeMap<>(), train = new TreeMap<>();
        fillAll(docs, parallelSet, v, t, o, val, train);
        long v2 = val.values().stream().mapToLong(l -> size(l, o.measure())).min().orElse(0);
        long t2 = train.values().stream().mapToLong(l -> size(l, o.measure())).min().orElse(0);
        val.clear(); train.clear();
        fillAll(docs, parallelSet, v2, t2, o, val, train);

        Map<String, DomainPlan> out = new LinkedHashMap<>();
        for (String dom : docs.keySet())
            out.put(dom, new DomainPlan(dom, docs.get(dom).size(), before.get(dom), train.get(dom), val.get(dom),
                    size(train.get(dom), o.measure()), size(val.get(dom), o.measure())));
        return new Plan(o.measure(), cap, t2, v2, parallel, out);
    }

    /** Parallel ids in hash order, kept when they fit in every domain that has them (budget: class comment, step 2). */
    static List<String> chooseParallel(Map<String, List<Doc>> docs, Map<String, Long> before, long v, Options o) {
        Map<String, Map<String, Long>> sizes = new TreeMap<>();  // id -> domain -> size
        Map<String, Long> parallelSize = new TreeMap<>();
        for (var e : docs.entrySet())
            for (Doc d : e.getValue())
                if (d.parallel()) {
                    long sz = o.measure().of(d.text());
                    sizes.computeIfAbsent(d.id(), k -> new TreeMap<>()).put(e.getKey(), sz);
                    parallelSize.merge(e.getKey(), sz, Long::sum);
                }
        Map<String, Long> budget = new TreeMap<>();
        parallelSize.forEach((dom, ps) -> budget.put(dom, (long) Math.floor((double) v * ps / before.get(dom))));
        List<String> ids = new ArrayList<>(sizes.keySet());
        ids.sort(byRank(o.seed(), "val"));
        Map<String, Long> used = new TreeMap<>();
        List<String> chosen = new ArrayList<>();
        for (String id : ids) {
            Map<String, Long> s = sizes.get(id);
            if (s.size() < parallelSize.size()) continue;          // missing in some domain (e.g. dropped as too short there)
            boolean fits = s.entrySet().stream().allMatch(e -> used.getOrDefault(e.getKey(), 0L) + e.getValue() <= budget.get(e.getKey()));
            if (!fits) continue;
            s.forEach((dom, sz) -> used.merge(dom, sz, Long::sum));
            chosen.add(id);
        }
        return chosen;
    }

    private static void fillAll(Map<String, List<Doc>> docs, Set<String> parallel, long v, long t, Options o,
                                Map<String, List<Doc>> val, Map<String, List<Doc>> train) {
        for (var e : docs.entrySet()) {
            List<Doc> held = new ArrayList<>(), others = new ArrayList<>();
            for (Doc d : e.getValue()) {
                if (d.parallel() && parallel.contains(d.id())) held.add(d);
                else if (!d.parallel()) others.add(d);
            }
            held.sort(Comparator.comparing(Doc::id, byRank(o.seed(), "val")));
            others.sort(Comparator.comparing(Doc::id, byRank(o.seed(), "val")));
            List<Doc> vl = new ArrayList<>(held);
            vl.addAll(fill(others, v - size(held, o.measure()), o));
            Set<String> taken = new HashSet<>();
            for (Doc d : vl) taken.add(d.id());
            List<Doc> rest = new ArrayList<>();
            for (Doc d : e.getValue()) if (!taken.contains(d.id())) rest.add(d);
            rest.sort(Comparator.comparing(Doc::id, byRank(o.seed(), "train")));
            val.put(e.getKey(), sortedById(vl));
            train.put(e.getKey(), sortedById(fill(rest, t, o)));
        }
    }

    /** Whole documents in order until the budget; the first one that does not fit is cut (if the piece is >= minPiece) and ends the fill. */
    static List<Doc> fill(List<Doc> ordered, long budget, Options o) {
        List<Doc> out = new ArrayList<>();
        long used = 0;
        for (Doc d : ordered) {
            long s = o.measure().of(d.text());
            if (used + s <= budget) { out.add(d); used += s; continue; }
            long left = budget - used;
            if (left >= o.minPiece()) {
                String cut = o.measure().truncate(d.text(), left, SLACK);
                if (!cut.isEmpty()) out.add(d.withText(cut));
            }
            break;
        }
        return out;
    }

    static long size(List<Doc> docs, Measure m) {
        long s = 0;
        for (Doc d : docs) s += m.of(d.text());
        return s;
    }

    private static List<Doc> sortedById(List<Doc> l) {
        List<Doc> c = new ArrayList<>(l);
        c.sort(Comparator.comparing(Doc::id));
        return c;
    }

    /** Orders ids by SHA-256(seed/salt/id), ties by id: a fixed pseudo-random order independent of the domain. */
    static Comparator<String> byRank(long seed, String salt) {
        Map<String, Long> cache = new java.util.HashMap<>();
        return Comparator.<String>comparingLong(id -> cache.computeIfAbsent(id, k -> rank(seed, salt, k)))
                .thenComparing(Comparator.naturalOrder());
    }

    static long rank(long seed, String salt, String id) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((seed + "/" + salt + "/" + id).getBytes(StandardCharsets.UTF_8));
            long r = 0;
            for (int i = 0; i < 8; i++) r = (r << 8) | (h[i] & 0xFF);
            return r;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }
}
