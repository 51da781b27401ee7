package moelab.tensor;


import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * The tape. Ops call {@link #record} after computing their output; {@link #backward} walks the
 * recorded graph from a scalar loss in reverse topological order and runs each node's closure.
 */
public final class Autograd {
    private Autograd() {}

    private static final ThreadLocal<Boolean> GRAD_ENABLED = ThreadLocal.withInitial(() -> true);
    private static volatile boolean checkFinite = Boolean.getBoolean("moelab.checkFinite");

    public static boolean isGradEnabled() { return GRAD_ENABLED.get(); }
    static void setGradEnabled(boolean on) { GRAD_ENABLED.set(on); }

    /** NaN/Inf detection after every forward op and every backward step (slow; for debugging). */
    public static void setCheckFinite(boolean on) { checkFinite = on; }
    public static boolean checkFinite() { return checkFinite; }

    /**
     * Attaches a node to {@code out} when grad mode is on and any input requires a gradient.
     * The closure receives out's gradient and must add into the inputs' {@code gradBuffer()}s,
     * skipping inputs that do not {@code requiresGrad()}.
     */
    public static Tensor record(String op, Tensor out, BackwardFn backward, Tensor... inputs) {
        if (checkFinite) requireFinite(op, "forward output", out.toArray());
        if (!isGradEnabled()) return out;
        for (Tensor in : inputs) {
            if (in != null && in.requiresGrad()) {
                out.setNode(new Node(op, inputs, backward));
                break;
            }
        }
        return out;
    }

    /** dL/dθ for every tensor the scalar {@code loss} depends on. Leaf gradients accumulate. */
    public static void backward(Tensor loss) {
        if (loss.numel() != 1)
            throw new IllegalArgumentException("backward: loss must be a single value, got shape " + Shape.str(loss.shape()));
        backward(loss, new float[]{1f});
    }

    /** Vector-Jacobian product: backward from {@code out} seeded with dL/d(out) = seed (numel long). */
    public static void backward(Tensor out, float[] seed) {
        if (seed.length != out.numel())
            throw new IllegalArgumentException("backward: seed has " + seed.length + " values for output shape " + Shape.str(out.shape()));
        if (!out.requiresGrad()) throw new IllegalStateException("backward: output does not depend on any tensor that requires grad");
        List<Tensor> order = topologicalOrder(out);
        float[] g = out.gradBuffer();
        for (int i = 0; i < seed.length; i++) g[i] += seed[i];
        for (int i = order.size() - 1; i >= 0; i--) {
            Tensor t = order.get(i);
            Node n = t.node();
            if (n == null || t.grad() == null) continue;
            n.backward().apply(t.grad());
            if (checkFinite) {
                for (Tensor in : n.inputs())
                    if (in != null && in.grad() != null) requireFinite(n.op(), "gradient of an input", in.grad());
            }
            float[] used = t.grad();
            t.clearGrad(); // intermediate gradients are not kept (their arrays are recycled); leaves keep theirs
            ArrayPool.give(used);
        }
    }

    /** Inputs before outputs; iterative so deep graphs do not overflow the stack. */
    static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        IdentityHashMap<Tensor, Boolean> visited = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>(); // {tensor, nextInputIndex}
        stack.push(new Object[]{root, 0});
        visited.put(root, true);
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Tensor t = (Tensor) top[0];
            int next = (Integer) top[1];
            Tensor[] ins = t.node() == null ? new Tensor[0] : t.node().inputs();
            if (next < ins.length) {
                top[1] = next + 1;
                Tensor in = ins[next];
                if (in != null && in.requiresGrad() && visited.put(in, true) == null) stack.push(new Object[]{in, 0});
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order;
    }

    private static void requireFinite(String op, String what, float[] values) {
        for (int i = 0; i < values.length; i++)
            if (!Float.isFinite(values[i]))
                throw new NonFiniteException("op '" + op + "': " + what + " has " + values[i] + " at flat index " + i);
    }
}
