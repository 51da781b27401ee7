package moelab.tensor;

/** Thrown when NaN/Inf detection is on and an op produced a non-finite value. */
public final class NonFiniteException extends ArithmeticException {
    public NonFiniteException(String message) { super(message); }
}
