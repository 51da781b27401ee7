package moelab.app.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TextCleanerTest {
    @Test
    void proseRemovesControlsIndentationAndExtraSpaces() {
        String in = "\uFEFF  Hello\u00A0\u00A0 world\t!\r\n\u0007\u001B[1mBold\u001B[0m and o\bov\bve\ber\r\n";
        assertEquals("Hello world !\nBold and over\n", TextCleaner.prose(in));
    }

    @Test
    void proseCollapsesBlankRunsAndTrimsEnds() {
        assertEquals("a\n\nb\n", TextCleaner.prose("\n\n\na\n\n\n\n   \nb\n\n\n"));
        assertEquals("", TextCleaner.prose(" \n\t\n"));
    }

    @Test
    void proseDropsTablesAndSymbolLines() {
        String in = String.join("\n",
                "Intro line.",
                "+-----------+------+",
                "|mc         |V:54, |",
                "|-----------+------|",
                "┌──────┬──────┐",
                "=====================",
                "#   *   #   *   #   *   #   *",
                "Outro line.");
        assertEquals("Intro line.\nOutro line.\n", TextCleaner.prose(in));
    }

    @Test
    void proseKeepsShortLinesCjkAndNumbers() {
        String in = "}\n-- Anon\n日本語の文章です。\n東京 2024年\n";
        assertEquals(in, TextCleaner.prose(in));
        assertFalse(TextCleaner.isSymbolLine("Version 1.2.3 (2024-01-01)"));
        assertTrue(TextCleaner.isSymbolLine("---- 1 ---- 2 ----"));
    }

    @Test
    void proseCapsRepeatedLines() {
        String in = "x\nrow\nrow\nrow\nrow\nrow\ny\n";
        assertEquals("x\nrow\nrow\nrow\ny\n", TextCleaner.prose(in));
    }

    @Test
    void proseIsNfc() {
        assertEquals("é\n", TextCleaner.prose("e\u0301"));
    }

    @Test
    void codeKeepsIndentationAndTabs() {
        String in = "class A {\r\n    int x;   \n\n\n\n\tvoid f() {}\u0000\n}\n\n";
        assertEquals("class A {\n    int x;\n\n\tvoid f() {}\n}\n", TextCleaner.code(in));
    }
}
