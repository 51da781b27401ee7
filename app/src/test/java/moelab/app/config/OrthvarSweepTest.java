package moelab.app.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import moelab.losses.ExpertLossConfig;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * sweeps/orthvar.yaml: every run of every group is a valid config (over the bundled defaults, as
 * configs/testbed.yaml is the sweep's base and lives elsewhere), labels are unique and init_from
 * names an earlier group; the fine-tune groups train on one domain.
 */
class OrthvarSweepTest {
    static ObjectNode sweep() throws Exception {
        try (InputStream in = OrthvarSweepTest.class.getResourceAsStream("/sweeps/orthvar.yaml")) {
            assertNotNull(in, "sweeps/orthvar.yaml is bundled");
            return ConfigLoader.readTree(new ConfigLoader.Source("orthvar.yaml", new String(in.readAllBytes(), StandardCharsets.UTF_8), false));
        }
    }

    static void put(ObjectNode root, String dotted, JsonNode value) {
        String[] seg = dotted.split("\\.");
        ObjectNode o = root;
        for (int i = 0; i < seg.length - 1; i++) {
            JsonNode c = o.get(seg[i]);
            o = c instanceof ObjectNode on ? on : o.putObject(seg[i]);
        }
        o.set(seg[seg.length - 1], value.deepCopy());
    }

    @Test
    void everyRunIsAValidConfigAndInitFromNamesAnEarlierGroup() throws Exception {
        ObjectNode s = sweep();
        assertEquals("orthvar", s.get("name").asText());
        assertTrue(s.get("seeds").isArray() && s.get("seeds").size() >= 2);
        ObjectNode set = (ObjectNode) s.get("set");
        Set<String> labels = new HashSet<>();
        int runs = 0, fineTunes = 0;
        for (JsonNode g : s.get("grid")) {
            String label = g.get("label").asText();
            assertTrue(labels.add(label), "duplicate label " + label);
            if (g.has("init_from")) {
                assertTrue(labels.contains(g.get("init_from").asText()), label + ": init_from " + g.get("init_from") + " is not an earlier group");
                fineTunes++;
            }
            // cartesian product of the group's value lists
            List<ObjectNode> combos = new ArrayList<>(List.of(ConfigLoader.defaultsTree()));
            for (Map.Entry<String, JsonNode> e : set.properties()) for (ObjectNode c : combos) put(c, e.getKey(), e.getValue());
            for (Map.Entry<String, JsonNode> e : ((ObjectNode) g).properties()) {
                if (e.getKey().equals("label") || e.getKey().equals("init_from")) continue;
                assertTrue(e.getValue().isArray() && !e.getValue().isEmpty(), label + "." + e.getKey() + " must be a list of values");
                List<ObjectNode> next = new ArrayList<>();
                for (ObjectNode c : combos)
                    for (JsonNode v : (ArrayNode) e.getValue()) {
                        ObjectNode n = c.deepCopy();
                        put(n, e.getKey(), v);
                        next.add(n);
                    }
                combos = next;
            }
            for (ObjectNode c : combos) {
                RunConfig rc = ConfigLoader.bind(c);
                ExpertLossConfig lc = rc.model().moe().expertLosses();
                assertEquals(g.has("init_from"), lc.autoScale(), label + ": auto-scale only when fine-tuning a trained model");
                assertEquals(8, rc.model().moe().experts());
                if (g.has("init_from")) assertEquals(List.of("de"), rc.data().domains(), label);
                else assertTrue(rc.data().domains().isEmpty(), label);
                runs++;
            }
        }
        assertTrue(labels.containsAll(List.of("aux_only", "orth", "var", "both", "no_aux")), labels.toString());
        assertEquals(5, fineTunes);
        assertEquals(13, runs);
    }
}
