package moelab.app.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LanguageFilterTest {
    static final String EN = "This is the option that is used to set the size of the buffer, and it can be changed with the flag.";

    @Test
    void dropsEnglishParagraphsFromGerman() {
        String de = "Die Option setzt die Größe des Puffers und kann mit dem Schalter geändert werden.";
        String cmd = "ls -la /usr/share/doc";
        String in = de + "\n\n" + EN + "\n\n" + cmd + "\n";
        assertEquals(de + "\n\n" + cmd + "\n", LanguageFilter.forDomain("de").apply(in));
    }

    @Test
    void keepsGermanWithSomeEnglishWords() {
        String mixed = "Die Datei the-file wird mit dem Befehl ls und der Option --all in der Liste angezeigt, auch wenn sie nicht sichtbar ist.";
        assertFalse(LanguageFilter.forDomain("de").isEnglish(mixed));
    }

    @Test
    void nonLatinScriptsDropOnlyParagraphsWithoutTheirScript() {
        LanguageFilter ja = LanguageFilter.forDomain("ja");
        assertTrue(ja.isEnglish(EN));
        assertFalse(ja.isEnglish("このオプションは the size of the buffer を設定する。 It is used to set it and it can be changed."));
        assertTrue(LanguageFilter.forDomain("ru").isEnglish(EN));
        assertFalse(LanguageFilter.forDomain("ru").isEnglish("Это опция, которая is used to set the size of the buffer and it."));
    }

    @Test
    void noFilterForEnglishOrCode() {
        assertNull(LanguageFilter.forDomain("en"));
        assertNull(LanguageFilter.forDomain("java"));
        assertEquals("", LanguageFilter.forDomain("it").apply(EN + "\n"));
    }
}
