package moelab.app.data;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class FortunesTest {
    @Test
    void splitsEntriesOnPercentLines() {
        assertEquals(List.of("one\nline", "two", "three"), Fortunes.entries("one\nline\n%\ntwo\n%\n%\nthree\n%\n"));
    }

    @Test
    void chunksKeepEntriesWholeAndInOrder() {
        StringBuilder f = new StringBuilder();
        for (int i = 0; i < 10; i++) f.append("entry ").append(i).append(" ").append("x".repeat(40)).append("\n%\n");
        List<Fortunes.Chunk> c = Fortunes.chunk(f.toString(), 98);       // entries are 48 bytes: 48 + 2 + 48 = 98 closes a chunk
        assertEquals(5, c.size());
        for (int i = 0; i < 5; i++) {
            assertEquals(i, c.get(i).index());
            assertEquals("entry " + 2 * i + " " + "x".repeat(40) + "\n\nentry " + (2 * i + 1) + " " + "x".repeat(40) + "\n", c.get(i).text());
        }
        assertThrows(IllegalArgumentException.class, () -> Fortunes.chunk("a", 0));
    }
}
