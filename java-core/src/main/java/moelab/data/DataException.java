package moelab.data;

/** A corpus, split file or tokenizer vocabulary that cannot be used; the message names the file and what is wrong. */
public final class DataException extends IllegalArgumentException {
    public DataException(String message) { super(message); }

    public DataException(String message, Throwable cause) { super(message, cause); }
}
