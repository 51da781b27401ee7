package moelab.tensor;


/** One recorded op on the tape: its name, its inputs and its backward closure. */
public record Node(String op, Tensor[] inputs, BackwardFn backward) {}
