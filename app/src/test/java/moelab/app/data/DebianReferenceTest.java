package moelab.app.data;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class DebianReferenceTest {
    /** The layout of debian-reference.LANG.txt: title, TOC, list of tables, preface with its own "3.1." headings, chapters. */
    static final String BOOK = String.join("\n",
            "Debian Reference",
            "",
            "Table of Contents",
            "",
            "Preface",
            "    1. Disclaimer",
            "1. Tutorials",
            "    1.1. Console basics",
            "",
            "List of Tables",
            "",
            "1.1. List of interesting packages",
            "2.1. List of tools",
            "",
            "Preface",
            "",
            "3.1. Guiding rules",
            "",
            "    Preface text that is skipped.",
            "",
            "Kapitel 1. Tutorials",
            "",
            "    Chapter one intro.",
            "",
            "1.1.\u00A0Console basics",
            "",
            "1.1.1. The shell prompt",
            "",
            "    Prompt text.",
            "",
            "1.2. A heading that wraps onto",
            "a second line",
            "",
            "    Section two text.",
            "",
            "---------------------------------------------------------------------",
            "",
            "    ^[1] a footnote",
            "",
            "Kapitel 2. Packages",
            "",
            "    Chapter two intro.",
            "",
            "2.1. Package basics",
            "",
            "    Package text.",
            "",
            "Anhang A. Appendix",
            "",
            "A.1. The maze",
            "",
            "    Maze text.",
            "");

    @Test
    void splitsBodyIntoSectionsWithParallelIds() {
        List<DebianReference.Section> s = DebianReference.split(BOOK, "test");
        assertEquals(List.of("01.01", "01.02", "02.01", "A.01"), s.stream().map(DebianReference.Section::id).toList());
        assertTrue(s.get(0).text().startsWith("Kapitel 1. Tutorials\n\n    Chapter one intro.\n\n1.1. Console basics\n"), s.get(0).text());
        assertTrue(s.get(0).text().contains("1.1.1. The shell prompt\n\n    Prompt text."), "subsections stay in their section");
        assertTrue(s.get(1).text().startsWith("1.2. A heading that wraps onto\na second line\n"), "wrapped heading is not a chapter");
        assertTrue(s.get(1).text().contains("^[1] a footnote"));
        assertFalse(s.get(1).text().contains("Kapitel 2"), "the next chapter heading starts the next section");
        assertTrue(s.get(2).text().startsWith("Kapitel 2. Packages\n\n    Chapter two intro.\n\n2.1. Package basics"));
        assertTrue(s.get(3).text().startsWith("Anhang A. Appendix\n\nA.1. The maze"));
        for (DebianReference.Section sec : s) {
            assertFalse(sec.text().contains("Preface text"), "preface is skipped");
            assertFalse(sec.text().contains("List of interesting"), "list of tables is skipped");
        }
    }

    @Test
    void rejectsOtherTexts() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DebianReference.split("just\ntext\n", "some.txt"));
        assertTrue(e.getMessage().startsWith("some.txt"), e.getMessage());
    }
}
