package moelab.tensor;

/** A shape, axis or index argument that an op cannot accept. The message names the op and the shapes. */
public final class ShapeException extends IllegalArgumentException {
    public ShapeException(String message) { super(message); }
}
