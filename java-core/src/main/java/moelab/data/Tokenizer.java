package moelab.data;

/** Text to token ids and back. Implementations: ByteTokenizer (default), BpeTokenizer. */
public interface Tokenizer {
    String name();

    int vocabSize();

    int[] encode(String text);

    String decode(int[] ids);
}
