package moelab.tensor;

/** {@code try (var ng = NoGrad.enter()) { ... }}: ops inside record nothing on the tape. Nests. */
public final class NoGrad implements AutoCloseable {
    private final boolean previous;

    private NoGrad() {
        previous = Autograd.isGradEnabled();
        Autograd.setGradEnabled(false);
    }

    public static NoGrad enter() { return new NoGrad(); }

    @Override public void close() { Autograd.setGradEnabled(previous); }
}
