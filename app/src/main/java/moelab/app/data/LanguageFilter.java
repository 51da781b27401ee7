package moelab.app.data;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Drops English paragraphs from a non-English document. Translated man pages (manpages-l10n)
 * ship untranslated paragraphs in English (the Spanish and Italian bash(1) are largely English),
 * which would blur the domain labels the testbed relies on. A paragraph (lines between blank
 * lines) is English when it has at least {@link #MIN_HITS} English function words, they are at
 * least {@link #MIN_SHARE} of its words, and either (Latin-script languages) more than twice the
 * target language's function words or (other scripts) the paragraph has no letter of the target
 * script. Command lines, option names and short lines have few function words and stay.
 */
public final class LanguageFilter {
    static final int MIN_HITS = 3;
    static final double MIN_SHARE = 0.12;

    private static final Set<String> EN = Set.of("the", "and", "is", "are", "of", "to", "in", "with", "for", "this", "that",
            "be", "by", "on", "it", "an", "as", "or", "not", "from", "which", "if", "can", "will", "when", "was", "you", "has", "have");
    private static final Map<String, Set<String>> LATIN = Map.of(
            "de", Set.of("der", "die", "das", "und", "ist", "nicht", "mit", "den", "von", "zu", "ein", "eine", "für", "auf", "wird",
                    "werden", "sich", "im", "dem", "des", "oder", "wenn", "kann", "sie", "es", "wie", "auch", "bei", "nur"),
            "fr", Set.of("le", "la", "les", "et", "est", "des", "un", "une", "du", "en", "pour", "dans", "que", "qui", "sur", "par",
                    "pas", "ne", "avec", "sont", "au", "ce", "être", "si", "aux", "cette", "peut", "ou", "il"),
            "es", Set.of("el", "la", "los", "las", "y", "es", "de", "que", "en", "un", "una", "por", "con", "para", "se", "del",
                    "no", "al", "lo", "como", "su", "si", "o", "este", "esta", "son", "puede", "sus"),
            "it", Set.of("il", "lo", "la", "gli", "le", "e", "è", "di", "che", "un", "una", "per", "con", "non", "del", "della",
                    "in", "da", "si", "sono", "al", "se", "o", "questo", "questa", "viene", "può", "dei", "nel"));
    /** Target scripts of the non-Latin languages. */
    private static final Map<String, Set<Character.UnicodeScript>> SCRIPT = Map.of(
            "ru", Set.of(Character.UnicodeScript.CYRILLIC),
            "ja", Set.of(Character.UnicodeScript.HIRAGANA, Character.UnicodeScript.KATAKANA, Character.UnicodeScript.HAN),
            "zh", Set.of(Character.UnicodeScript.HAN));
    private static final Pattern WORD = Pattern.compile("[\\p{L}]+");

    private final Set<String> target;
    private final Set<Character.UnicodeScript> script;

    private LanguageFilter(Set<String> target, Set<Character.UnicodeScript> script) {
        this.target = target;
        this.script = script;
    }

    /** The filter for a language domain (de fr es it ru ja zh), or null where none applies (en, code, unknown). */
    public static LanguageFilter forDomain(String domain) {
        if (LATIN.containsKey(domain)) return new LanguageFilter(LATIN.get(domain), null);
        if (SCRIPT.containsKey(domain)) return new LanguageFilter(null, SCRIPT.get(domain));
        return null;
    }

    /** The text without its English paragraphs (a cleaned text in, a cleaned text out). */
    public String apply(String text) {
        StringBuilder out = new StringBuilder();
        for (String para : text.split("\n\n")) {
            String p = para.strip();
            if (p.isEmpty() || isEnglish(p)) continue;
            if (out.length() > 0) out.append("\n\n");
            out.append(p);
        }
        return out.length() == 0 ? "" : out.append('\n').toString();
    }

    boolean isEnglish(String paragraph) {
        int words = 0, en = 0, own = 0;
        var m = WORD.matcher(paragraph.toLowerCase(Locale.ROOT));
        while (m.find()) {
            words++;
            String w = m.group();
            if (EN.contains(w)) en++;
            if (target != null && target.contains(w)) own++;
        }
        if (en < MIN_HITS || en < MIN_SHARE * words) return false;
        if (target != null) return en > 2 * own;
        return paragraph.codePoints().noneMatch(cp -> Character.isLetter(cp) && script.contains(Character.UnicodeScript.of(cp)));
    }
}
