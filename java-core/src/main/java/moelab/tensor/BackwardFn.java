package moelab.tensor;

/** An op's backward: given dL/d(output) (logical row-major), add dL/d(input) into each input's grad. */
@FunctionalInterface
public interface BackwardFn {
    void apply(float[] gradOut);
}
