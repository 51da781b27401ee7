package moelab.config;

/** A configuration value that is missing or not allowed. The message names the key. */
public final class ConfigException extends IllegalArgumentException {
    private final String key;

    public ConfigException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
    }

    public String key() { return key; }

    public static void require(boolean ok, String key, String message) {
        if (!ok) throw new ConfigException(key, message);
    }

    /**
     * The constant of a config enum whose {@code toString()} (its YAML spelling) is value; throws
     * naming the key and the allowed values otherwise.
     */
    public static <E extends Enum<E>> E named(String key, String value, Class<E> type) {
        E[] all = type.getEnumConstants();
        for (E e : all) if (e.toString().equals(value)) return e;
        String[] names = new String[all.length];
        for (int i = 0; i < all.length; i++) names[i] = all[i].toString();
        oneOf(key, value, names);
        throw new AssertionError("unreachable");
    }

    /** Throws unless value is one of allowed, naming the key and the allowed values. */
    public static String oneOf(String key, String value, String... allowed) {
        for (String a : allowed) if (a.equals(value)) return value;
        throw new ConfigException(key, "'" + value + "' is not allowed; allowed values: " + String.join(", ", allowed));
    }
}
