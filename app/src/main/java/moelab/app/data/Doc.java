package moelab.app.data;

/**
 * One document of one domain. {@code id} is file-name safe and, for translated sources, the same
 * in every language (debian-reference section "debref-01.02", man page "man1-ls"). {@code parallel}
 * marks documents of a parallel translation whose held-out choice must be the same in every
 * domain. {@code source} is the Debian package it came from.
 */
public record Doc(String domain, String id, String source, boolean parallel, String text) {
    public Doc {
        if (!id.matches("[A-Za-z0-9][A-Za-z0-9._+-]*"))
            throw new IllegalArgumentException("document id '" + id + "' of domain " + domain + " is not file-name safe");
    }

    public Doc withText(String t) { return new Doc(domain, id, source, parallel, t); }

    /** Path relative to the output folder: DOMAIN/ID.txt. */
    public String path() { return domain + "/" + id + ".txt"; }

    /** Turns any name into a safe id part: letters, digits, '.', '_', '+', '-'; others become '_'. */
    public static String safe(String s) {
        String t = s.replaceAll("[^A-Za-z0-9._+-]", "_");
        return t.isEmpty() || !Character.isLetterOrDigit(t.charAt(0)) ? "x" + t : t;
    }
}
