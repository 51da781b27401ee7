package moelab.app.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** Checks the committed sample data/sample (made by {@code moe prepare-data --out data/sample --sample-kb 200}). */
class SampleDataTest {
    static final Set<String> DOMAINS = Set.of("en", "de", "fr", "es", "it", "ja", "zh", "ru");
    /** "A few hundred KB per language at most." */
    static final long MAX_DOMAIN_BYTES = 300 * 1024;

    static Path sample;
    static Map<String, Map<String, String>> files = new TreeMap<>();   // domain -> file name -> text
    static List<String> split;

    @BeforeAll
    static void load() throws IOException {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("data/sample"))) dir = dir.getParent();
        assertNotNull(dir, "data/sample not found above " + Path.of("").toAbsolutePath());
        sample = dir.resolve("data/sample");
        try (var s = Files.list(sample)) {
            for (Path p : s.sorted().toList()) {
                if (!Files.isDirectory(p) || p.getFileName().toString().equals("_licenses")) continue;
                Map<String, String> m = new TreeMap<>();
                try (var t = Files.list(p)) {
                    for (Path f : t.sorted().toList())
                        m.put(f.getFileName().toString(), Utf8.decode(Files.readAllBytes(f), f.toString()));   // strict UTF-8
                }
                files.put(p.getFileName().toString(), m);
            }
        }
        split = Files.readAllLines(sample.resolve("split.txt"));
    }

    @Test
    void hasTheEightLanguageDomains() {
        assertEquals(new TreeSet<>(DOMAINS), new TreeSet<>(files.keySet()));
        for (var e : files.entrySet()) assertFalse(e.getValue().isEmpty(), e.getKey() + " is empty");
    }

    @Test
    void documentsAreCleanText() {
        Pattern name = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]*\\.txt");
        for (var d : files.entrySet())
            for (var f : d.getValue().entrySet()) {
                String where = d.getKey() + "/" + f.getKey(), t = f.getValue();
                assertTrue(name.matcher(f.getKey()).matches(), where);
                assertTrue(Utf8.bytes(t) >= 100, where + " is nearly empty");
                assertTrue(t.endsWith("\n") && !t.endsWith("\n\n"), where + " must end with one newline");
                assertFalse(t.contains("\n\n\n"), where + " has a run of blank lines");
                assertTrue(t.chars().noneMatch(c -> Character.getType(c) == Character.CONTROL && c != '\n' && c != '\t'), where + " has control characters");
            }
    }

    @Test
    void domainsAreBalancedAndWithinTheCap() {
        Map<String, Long> sizes = new TreeMap<>();
        for (var d : files.entrySet()) sizes.put(d.getKey(), d.getValue().values().stream().mapToLong(Utf8::bytes).sum());
        long min = sizes.values().stream().mapToLong(Long::longValue).min().orElseThrow();
        long max = sizes.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        assertTrue(max <= MAX_DOMAIN_BYTES, "largest domain " + max + " bytes: " + sizes);
        assertTrue(max - min <= 2 * Balancer.SLACK, "domains differ by " + (max - min) + " bytes: " + sizes);
    }

    @Test
    void splitReferencesExistingFilesAndEveryDomainHasValidation() {
        assertFalse(split.isEmpty());
        assertEquals(new ArrayList<>(new TreeSet<>(split)), split, "split.txt is sorted, without duplicates");
        Map<String, Long> valBytes = new HashMap<>(), allBytes = new HashMap<>();
        for (String line : split) {
            String[] p = line.split("/");
            assertEquals(2, p.length, "not DOMAIN/FILE: " + line);
            assertTrue(files.containsKey(p[0]) && files.get(p[0]).containsKey(p[1]), "split.txt names a missing file: " + line);
            valBytes.merge(p[0], (long) Utf8.bytes(files.get(p[0]).get(p[1])), Long::sum);
        }
        for (var d : files.entrySet()) allBytes.put(d.getKey(), d.getValue().values().stream().mapToLong(Utf8::bytes).sum());
        for (String d : DOMAINS) {
            double share = valBytes.getOrDefault(d, 0L) / (double) allBytes.get(d);
            assertTrue(share > 0.02 && share < 0.10, d + ": validation share " + share);
        }
    }

    @Test
    void heldOutParallelSectionsAreTheSameEverywhere() {
        Set<String> withDebref = new TreeSet<>();
        Map<String, Set<String>> heldDebref = new TreeMap<>();
        for (var d : files.entrySet())
            if (d.getValue().keySet().stream().anyMatch(f -> f.startsWith("debref-"))) withDebref.add(d.getKey());
        for (String line : split) {
            String[] p = line.split("/");
            if (p[1].startsWith("debref-")) heldDebref.computeIfAbsent(p[1], k -> new TreeSet<>()).add(p[0]);
        }
        assertTrue(withDebref.size() >= 6, "debian-reference sections in most languages: " + withDebref);
        heldDebref.forEach((id, doms) -> assertEquals(withDebref, doms, id + " must be held out in every language that has sections"));
    }

    @Test
    void statsMatchTheFiles() throws IOException {
        List<String> rows = Files.readAllLines(sample.resolve("stats.tsv"));
        assertEquals("domain\tsplit\tdocs\tbytes\tchars", rows.get(0));
        Set<String> val = new TreeSet<>(split);
        assertEquals(1 + 2 * DOMAINS.size(), rows.size());
        for (String row : rows.subList(1, rows.size())) {
            String[] c = row.split("\t");
            boolean isVal = c[1].equals("val");
            int docs = 0;
            long bytes = 0, chars = 0;
            for (var f : files.get(c[0]).entrySet())
                if (val.contains(c[0] + "/" + f.getKey()) == isVal) {
                    docs++;
                    bytes += Utf8.bytes(f.getValue());
                    chars += f.getValue().codePointCount(0, f.getValue().length());
                }
            assertEquals(row, c[0] + "\t" + c[1] + "\t" + docs + "\t" + bytes + "\t" + chars);
        }
    }

    @Test
    void sourcesNameEveryPackageVersionAndLicenceFile() throws IOException {
        String md = Files.readString(sample.resolve("SOURCES.md"));
        assertTrue(md.contains("prepare-data --out data/sample --sample-kb 200"), "regeneration command");
        Matcher m = Pattern.compile("\\| (\\w+) \\| ([a-z0-9.+-]+) \\| ([^ |]+) \\|").matcher(md);
        Set<String> domains = new TreeSet<>();
        while (m.find()) if (DOMAINS.contains(m.group(1))) domains.add(m.group(1));
        assertEquals(new TreeSet<>(DOMAINS), domains, "every domain has package rows");
        Matcher lic = Pattern.compile("`_licenses/([^`]+)`").matcher(md);
        int n = 0;
        while (lic.find()) {
            n++;
            assertTrue(Files.isRegularFile(sample.resolve("_licenses").resolve(lic.group(1))), "missing _licenses/" + lic.group(1));
        }
        assertTrue(n >= DOMAINS.size());
    }

    @Test
    void nonLatinDomainsAreInTheirScript() {
        // man pages keep commands and option names in Latin script: at least half the letters, not all
        assertMostly("ja", Set.of(Character.UnicodeScript.HIRAGANA, Character.UnicodeScript.KATAKANA, Character.UnicodeScript.HAN), 0.5);
        assertMostly("zh", Set.of(Character.UnicodeScript.HAN), 0.5);
        assertMostly("ru", Set.of(Character.UnicodeScript.CYRILLIC), 0.5);
        for (String d : List.of("en", "de", "fr", "es", "it")) assertMostly(d, Set.of(Character.UnicodeScript.LATIN), 0.95);
    }

    private static void assertMostly(String domain, Set<Character.UnicodeScript> scripts, double share) {
        long letters = 0, in = 0;
        for (String t : files.get(domain).values())
            for (int i = 0; i < t.length(); ) {
                int cp = t.codePointAt(i);
                i += Character.charCount(cp);
                if (!Character.isLetter(cp)) continue;
                letters++;
                if (scripts.contains(Character.UnicodeScript.of(cp))) in++;
            }
        assertTrue(in >= share * letters, domain + ": only " + in + " of " + letters + " letters in " + scripts);
    }
}
