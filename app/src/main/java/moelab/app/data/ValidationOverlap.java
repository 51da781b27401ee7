package moelab.app.data;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How much of each domain's validation text occurs in its training text: the share of the
 * validation documents' {@link Shingles} (32-code-point runs, positions counted) found among the
 * training documents' shingles. Leakage of a held-out document into training shows up here.
 */
final class ValidationOverlap {
    private ValidationOverlap() {}

    /** One domain: validation shingles, those also in training, and the worst validation document. */
    record Domain(String domain, long valShingles, long shared, String worstDoc, double worstShare) {
        double share() { return valShingles == 0 ? 0 : (double) shared / valShingles; }
    }

    static Map<String, Domain> of(Map<String, Balancer.DomainPlan> plan) {
        Map<String, Domain> out = new LinkedHashMap<>();
        for (Balancer.DomainPlan d : plan.values()) out.put(d.domain(), domain(d.domain(), d.train(), d.val()));
        return out;
    }

    static Domain domain(String name, List<Doc> train, List<Doc> val) {
        Shingles.Table t = new Shingles.Table();
        for (Doc doc : train) for (long h : Shingles.of(doc.text())) t.add(h, 0);
        long all = 0, shared = 0;
        String worst = "";
        double worstShare = 0;
        for (Doc doc : val) {
            long[] sh = Shingles.of(doc.text());
            long s = 0;
            for (long h : sh) if (t.contains(h)) s++;
            all += sh.length;
            shared += s;
            double share = sh.length == 0 ? 0 : (double) s / sh.length;
            if (share > worstShare) { worstShare = share; worst = doc.path(); }
        }
        return new Domain(name, all, shared, worst, worstShare);
    }
}
