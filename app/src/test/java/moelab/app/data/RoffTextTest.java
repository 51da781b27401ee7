package moelab.app.data;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class RoffTextTest {
    static final String PAGE = String.join("\n",
            ".\\\" Copyright (c) someone",
            ".TH LS 1 \"2024\" \"coreutils\" \"User Commands\"",
            ".de XX",
            "secret macro body",
            "..",
            ".SH NAME",
            "ls \\- list directory contents",
            ".SH \"SEE ALSO\"",
            ".BR dir (1),",
            ".B \"bold words\"",
            "Plain \\fBbold\\fR and \\fIitalic\\fP text \\(em with \\(lqquotes\\(rq.",
            ".PP",
            "Second paragraph \\\" a comment",
            ".IP \\(bu 2",
            "item one",
            ".TP",
            ".B \\-a",
            "all entries",
            "");

    @Test
    void stripKeepsTextAndDropsMarkup() {
        String t = TextCleaner.prose(RoffText.strip(PAGE));
        assertEquals(String.join("\n",
                "NAME",
                "",
                "ls - list directory contents",
                "",
                "SEE ALSO",
                "",
                "dir(1),",
                "bold words",
                "Plain bold and italic text \u2014 with \u201Cquotes\u201D.",
                "",
                "Second paragraph",
                "",
                "\u2022",
                "item one",
                "",
                "-a",
                "all entries",
                ""), t);
        assertFalse(t.contains("secret"), "macro definitions are skipped");
        assertFalse(t.contains("Copyright"), "comments are skipped");
    }

    @Test
    void unescapesGlyphsAndAccents() {
        assertEquals("caf\u00E9 \u00FCber \u00A9 x\u2192y \\ \u20AC", RoffText.unescape("caf\\('e \\(:uber \\(co x\\(->y \\e \\[u20AC]"));
        assertEquals("a b", RoffText.unescape("a\\ b\\&"));
    }

    @Test
    void splitsQuotedArguments() {
        assertEquals(java.util.List.of("a b", "c", "say \"hi\""), RoffText.splitArgs("\"a b\" c \"say \"\"hi\"\"\""));
    }

    @Test
    void detectsRedirects() {
        assertTrue(RoffText.isRedirect(".\\\" comment\n.so man3/printf.3\n"));
        assertFalse(RoffText.isRedirect(PAGE));
    }

    @Test
    void dropsRunningHeaderAndFooter() {
        String rendered = "LS(1)        User Commands        LS(1)\n\n\nNAME\n       ls\n\nGNU coreutils 9.1   2022   LS(1)\n";
        String t = TextCleaner.prose(RoffText.dropHeaderFooter(rendered));
        assertEquals("NAME\nls\n", t);
        assertEquals("Just text\n", RoffText.dropHeaderFooter("Just text\n"));
        assertEquals("NAME\nDROP GROUP\n", TextCleaner.prose(RoffText.dropHeaderFooter(
                "DROP GROUP(7)   SQL Commands   DROP GROUP(7)\nNAME\nDROP GROUP\n\n   2003-11-02   DROP GROUP(7)\n")));
        assertEquals("NAME\nx\n", TextCleaner.prose(RoffText.dropHeaderFooter("FOO(3pm)      FOO(3pm)\nNAME\nx\nperl 5.36   FOO(3pm)\n")),
                "header without centre text");
    }

    @Test
    void groffRendersWhenInstalled() throws Exception {
        assumeTrue(DebianPackages.onPath("groff"), "groff not installed");
        String t = TextCleaner.prose(RoffText.dropHeaderFooter(RoffText.groff(PAGE.getBytes(StandardCharsets.UTF_8), "test page")));
        assertTrue(t.startsWith("NAME\nls - list directory contents"), t);
        assertTrue(t.replace('\n', ' ').contains("Plain bold and italic text"), t);
        assertFalse(t.contains("LS(1)"), "header and footer removed: " + t);
    }
}
