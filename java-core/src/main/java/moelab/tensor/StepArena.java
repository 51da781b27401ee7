package moelab.tensor;

import java.util.ArrayList;
import java.util.Arrays;

/**
 * The activations of one training step, recycled when the step ends. While an arena is open on a
 * thread, ops take their output arrays through {@link #floats} from the thread's {@link ArrayPool}
 * and the arena remembers them; {@link #close} gives them all back, so the next step reuses the
 * same memory instead of allocating (and page-faulting) a fresh ~150 MB. With no arena open,
 * {@link #floats} is a plain {@code new float[n]}: evaluation, tests and user code keep their
 * tensors as long as they like.
 *
 * <p>Whoever opens an arena promises that nothing reads an array it handed out after close:
 * results that outlive the step must be copied out first (the trainer copies the loss, routing
 * records and router state before it closes). {@code -Dmoelab.poisonRecycled=true} fills recycled
 * arrays with NaN so a broken promise shows up as NaN instead of another step's numbers (the tests
 * run with it); {@code -Dmoelab.stepArena=false} turns arenas off (every op allocates).
 */
public final class StepArena implements AutoCloseable {
    private static volatile boolean enabled = !"false".equals(System.getProperty("moelab.stepArena"));
    private static final boolean POISON = Boolean.getBoolean("moelab.poisonRecycled");
    private static final ThreadLocal<StepArena> OPEN = new ThreadLocal<>();

    private final ArrayList<float[]> handedOut = new ArrayList<>();
    private final StepArena previous;
    private final boolean active;
    private boolean closed;

    private StepArena(StepArena previous, boolean active) { this.previous = previous; this.active = active; }

    /** Opens an arena on this thread (inside another one, the inner one collects until it closes). */
    public static StepArena open() {
        StepArena a = new StepArena(OPEN.get(), enabled);
        if (a.active) OPEN.set(a);
        return a;
    }

    /** Turns arenas on or off for arenas opened from now on (benchmarks compare both); returns the previous setting. */
    public static boolean setEnabled(boolean on) {
        boolean old = enabled;
        enabled = on;
        return old;
    }

    /** A zeroed float[n]: from the pool and recycled at close when an arena is open on this thread. */
    public static float[] floats(int n) {
        StepArena a = OPEN.get();
        if (a == null || n == 0) return new float[n];
        float[] x = ArrayPool.take(n);
        a.handedOut.add(x);
        return x;
    }

    /** Arrays this arena handed out so far (for tests and benchmarks). */
    public int handedOut() { return handedOut.size(); }

    /** Gives every array back to the pool and makes the enclosing arena (if any) current again. */
    @Override
    public void close() {
        if (closed || !active) return;
        closed = true;
        if (OPEN.get() != this) throw new IllegalStateException("StepArena: closed out of order (an arena opened inside it is still open)");
        OPEN.set(previous);
        for (float[] x : handedOut) {
            if (POISON) Arrays.fill(x, Float.NaN);
            ArrayPool.give(x);
        }
        handedOut.clear();
        ArrayPool.endGeneration();
    }
}
