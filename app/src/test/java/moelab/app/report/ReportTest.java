package moelab.app.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ReportTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @Test
    void plotsAndIndexFromSyntheticMetrics(@TempDir Path tmp) throws Exception {
        RunFolder f = MetricsWriterTest.folder(tmp);
        try (MetricsWriter w = new MetricsWriter(f, Synthetic.DOMAINS)) {
            Synthetic.run(w, 120, 30, 7);
        }
        Report.Result r = Report.generate(f.dir());
        assertEquals(List.of("plots/loss.png", "plots/domain_loss.png", "plots/optimizer.png", "plots/expert_load.png", "plots/routing_stats.png",
                "plots/routing_heatmap_l1.png", "plots/routing_heatmap_l1_over_training.png",
                "plots/routing_heatmap_l3.png", "plots/routing_heatmap_l3_over_training.png"), r.plots());
        for (String p : r.plots()) {
            Path file = f.dir().resolve(p);
            byte[] bytes = Files.readAllBytes(file);
            assertArrayEquals(PNG_MAGIC, java.util.Arrays.copyOf(bytes, 8), p + " is a PNG");
            assertTrue(bytes.length > 8_000, p + " has real content: " + bytes.length + " bytes");
            BufferedImage img = ImageIO.read(file.toFile());
            assertTrue(img.getWidth() >= 400 && img.getHeight() >= (p.endsWith("_over_training.png") ? 90 : 200), p + " " + img.getWidth() + "x" + img.getHeight());
            assertTrue(distinctColours(img) > 8, p + " is not blank");
        }
        String html = Files.readString(r.index());
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        for (String p : r.plots()) assertTrue(html.contains("src=\"" + p + "\""), "index links " + p);
        assertFalse(html.contains("src=\"/"), "links are relative");
        var pc = ParamCount.of(moelab.app.config.ConfigLoader.load(null, List.of()).model());
        assertTrue(html.contains(String.format(java.util.Locale.ROOT, "%,d", pc.total())), "parameter count in the summary");
        assertTrue(html.contains("final val loss") && html.contains("tokens/s") && html.contains("120 of 300"), html);
        assertTrue(html.contains("<td>prose</td>"), "per-domain validation loss");
    }

    @Test
    void reportOfARunWithoutMetricsStillWritesThePage(@TempDir Path tmp) throws Exception {
        RunFolder f = MetricsWriterTest.folder(tmp);
        Report.Result r = Report.generate(f.dir());
        assertEquals(List.of(), r.plots());
        assertTrue(Files.readString(r.index()).contains("has not logged a step"));
        assertThrows(IllegalArgumentException.class, () -> Report.generate(tmp.resolve("nothing")));
    }

    @Test
    void heatmapColumnsAreDomainShares() {
        Metrics.DomainCounts dc = new Metrics.DomainCounts(2, List.of("code", "prose"), new long[][]{{30, 0}, {10, 20}});
        BufferedImage img = Plots.heatmap(dc, 50);
        assertTrue(img.getWidth() >= 400);
        // cell (expert 0, code) = 75% and (expert 0, prose) = 0%: the first is dark, the second white
        int left = 80, top = 60, cellH = 26, colW = 64;
        int dark = img.getRGB(left + 4, top + 4), white = img.getRGB(left + colW + 4, top + 4);
        assertEquals(0xffffff, white & 0xffffff);
        assertTrue((dark & 0xff) < 200, Integer.toHexString(dark));
    }

    static int distinctColours(BufferedImage img) {
        java.util.Set<Integer> s = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) for (int x = 0; x < img.getWidth(); x += 3) s.add(img.getRGB(x, y));
        return s.size();
    }
}
