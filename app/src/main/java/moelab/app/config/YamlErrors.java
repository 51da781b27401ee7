package moelab.app.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import moelab.config.ConfigException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;

/**
 * YAML problems described where they are. Syntax errors take the position the YAML parser
 * itself names (the offending character; Jackson's own location is that of the last good
 * token, often a line earlier). Aliases are refused: Jackson reads {@code *name} as the text
 * "name", which would silently give a key the anchor's name instead of its value.
 */
public final class YamlErrors {
    private YamlErrors() {}

    /** "not valid YAML at line L, column C: problem" for a parse error of a YAML text. */
    public static String describe(JsonProcessingException e) {
        for (Throwable c = e; c != null; c = c.getCause())
            if (c instanceof MarkedYAMLException m && m.getProblemMark() != null)
                return "not valid YAML" + at(m.getProblemMark()) + ": " + m.getProblem();
        String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
        return "not valid YAML" + where + ": " + e.getOriginalMessage();
    }

    /**
     * Throws at the first alias of a YAML text Jackson has read, and at a second document
     * (Jackson reads the first and would silently ignore the rest, errors included).
     */
    public static void refuseAliases(String source, String text) {
        ParserImpl p = new ParserImpl(new StreamReader(text), new LoaderOptions());
        int documents = 0;
        try {
            while (p.peekEvent() != null) {
                Event ev = p.getEvent();
                if (ev instanceof AliasEvent a)
                    throw new ConfigException(source, "YAML alias '*" + a.getAnchor() + "'" + at(a.getStartMark())
                            + " is not supported: write the value out (anchors and aliases are not expanded)");
                if (ev.is(Event.ID.DocumentStart) && ++documents > 1)
                    throw new ConfigException(source, "a second YAML document starts" + at(ev.getStartMark()) + "; a config is one document");
                if (ev.is(Event.ID.StreamEnd)) return;
            }
        } catch (MarkedYAMLException e) {
            throw new ConfigException(source, "not valid YAML" + (e.getProblemMark() == null ? "" : at(e.getProblemMark())) + ": " + e.getProblem());
        } catch (YAMLException e) {
            throw new ConfigException(source, "not valid YAML: " + e.getMessage());
        }
    }

    private static String at(Mark m) { return " at line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1); }
}
