package moelab.tensor;


import java.util.Arrays;
import java.util.Random;

/**
 * A float32 tensor: a float[] with an offset, a shape and strides (row-major when contiguous).
 * Views (reshape, transpose, narrow) share the array. Autodiff state lives here too: {@link #grad}
 * is a contiguous float[numel] in logical row-major order, independent of the strides, and
 * {@link #node} is the op that produced this tensor, or null for leaves.
 */
public final class Tensor {
    private final float[] data;
    private final int offset;
    private final int[] shape;
    private final int[] strides;
    private final int numel;

    private boolean requiresGrad;
    private float[] grad;
    private Node node;
    private String name;

    public Tensor(float[] data, int offset, int[] shape, int[] strides) {
        this.data = data;
        this.offset = offset;
        this.shape = shape.clone();
        this.strides = strides.clone();
        this.numel = Shape.numel(shape);
        if (shape.length != strides.length)
            throw new ShapeException("tensor: shape " + Shape.str(shape) + " and strides " + Shape.str(strides) + " differ in rank");
    }

    // ---- factories ----

    public static Tensor zeros(int... shape) { return new Tensor(new float[Shape.numel(shape)], 0, shape, Shape.contiguousStrides(shape)); }

    public static Tensor full(float value, int... shape) {
        Tensor t = zeros(shape);
        Arrays.fill(t.data, value);
        return t;
    }

    /** Wraps (does not copy) a row-major array; its length must equal the shape's size. */
    public static Tensor of(float[] data, int... shape) {
        if (data.length != Shape.numel(shape))
            throw new ShapeException("tensor: " + data.length + " values do not fill shape " + Shape.str(shape));
        return new Tensor(data, 0, shape, Shape.contiguousStrides(shape));
    }

    public static Tensor scalar(float v) { return of(new float[]{v}); }

    /** Normal(0, std) entries from a seeded generator. */
    public static Tensor randn(Random rng, float std, int... shape) {
        Tensor t = zeros(shape);
        for (int i = 0; i < t.numel; i++) t.data[i] = (float) (rng.nextGaussian() * std);
        return t;
    }

    /** Uniform [lo, hi) entries from a seeded generator. */
    public static Tensor rand(Random rng, float lo, float hi, int... shape) {
        Tensor t = zeros(shape);
        for (int i = 0; i < t.numel; i++) t.data[i] = lo + (hi - lo) * rng.nextFloat();
        return t;
    }

    // ---- geometry ----

    public int[] shape() { return shape.clone(); }
    public int[] strides() { return strides.clone(); }
    public int rank() { return shape.length; }
    public int numel() { return numel; }
    /** Size of one axis; negative axes count from the end. */
    public int dim(int axis) { return shape[Shape.axis("dim", axis, shape.length)]; }
    public int stride(int axis) { return strides[Shape.axis("stride", axis, shape.length)]; }
    public float[] data() { return data; }
    public int offset() { return offset; }

    public boolean isContiguous() {
        if (numel == 0) return true; // nothing to lay out (contiguousStrides of [2,0,5] would fail the check below)
        int expect = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expect) return false;
            expect *= shape[i];
        }
        return true;
    }

    /** Array index of a logical multi-index. */
    public int index(int... idx) {
        if (idx.length != shape.length)
            throw new ShapeException("index: " + idx.length + " indices for shape " + Shape.str(shape));
        int p = offset;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= shape[i])
                throw new ShapeException("index: " + Arrays.toString(idx) + " out of bounds for shape " + Shape.str(shape));
            p += idx[i] * strides[i];
        }
        return p;
    }

    public float get(int... idx) { return data[index(idx)]; }
    public void set(float v, int... idx) { data[index(idx)] = v; }

    public float item() {
        if (numel != 1) throw new ShapeException("item: tensor of shape " + Shape.str(shape) + " is not a single value");
        return data[offset];
    }

    /** Logical row-major copy of the values. */
    public float[] toArray() { return copyInto(new float[numel]); }

    private float[] copyInto(float[] out) {
        if (isContiguous()) { System.arraycopy(data, offset, out, 0, numel); return out; }
        int[] idx = new int[shape.length];
        for (int i = 0; i < numel; i++) {
            int p = offset;
            for (int a = 0; a < idx.length; a++) p += idx[a] * strides[a];
            out[i] = data[p];
            for (int a = idx.length - 1; a >= 0; a--) { if (++idx[a] < shape[a]) break; idx[a] = 0; }
        }
        return out;
    }

    /** A contiguous tensor with the same values: this if already contiguous, else a recorded copy. */
    public Tensor contiguous() {
        if (isContiguous()) return this;
        Tensor out = of(copyInto(StepArena.floats(numel)), shape); // a step's copy, like any op output
        return Autograd.record("contiguous", out, g -> addToGrad(g, 0), this);
    }

    /** Copy of the values without autodiff history. */
    public Tensor detach() { return of(toArray(), shape); }

    // ---- autodiff state ----

    public boolean requiresGrad() { return requiresGrad; }

    /** Marks a leaf as trainable (its gradient is kept after backward). */
    public Tensor requiresGrad(boolean on) {
        if (node != null && !on) throw new IllegalStateException("requiresGrad(false) on a non-leaf tensor produced by " + node.op());
        this.requiresGrad = on;
        return this;
    }

    public Node node() { return node; }
    public void setNode(Node n) { this.node = n; this.requiresGrad = true; }

    /** Gradient (logical row-major, numel long) or null if none was computed. */
    public float[] grad() { return grad; }

    /**
     * The gradient buffer, allocated (zeroed) on first use; an intermediate tensor's comes from
     * {@link ArrayPool} (backward recycles it once this tensor's node has run).
     */
    public float[] gradBuffer() {
        if (grad == null) grad = node == null ? new float[numel] : ArrayPool.take(numel);
        return grad;
    }

    public void zeroGrad() { if (grad != null) Arrays.fill(grad, 0f); }
    public void clearGrad() { grad = null; }

    /**
     * Adds g (logical row-major, numel long, starting at gOff) into this tensor's gradient. Views
     * use it to route gradients back to the tensor they view.
     */
    public void addToGrad(float[] g, int gOff) {
        float[] dst = gradBuffer();
        for (int i = 0; i < numel; i++) dst[i] += g[gOff + i];
    }

    public String name() { return name; }
    public Tensor name(String n) { this.name = n; return this; }

    /** Reverse-mode differentiation from this scalar: fills grad of every tensor it depends on. */
    public void backward() { Autograd.backward(this); }

    // ---- views (share the array) ----

    /** Same values in a new shape; one dimension may be -1. A view when contiguous, else a copy. */
    public Tensor reshape(int... newShape) {
        int[] s = newShape.clone();
        int infer = -1, known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new ShapeException("reshape: more than one -1 in " + Shape.str(newShape));
                infer = i;
            } else known *= s[i];
        }
        if (infer >= 0) {
            if (known == 0 || numel % known != 0)
                throw new ShapeException("reshape: cannot infer -1 in " + Shape.str(newShape) + " from shape " + Shape.str(shape));
            s[infer] = numel / known;
        }
        if (Shape.numel(s) != numel)
            throw new ShapeException("reshape: shape " + Shape.str(shape) + " (" + numel + " values) cannot become " + Shape.str(newShape));
        Tensor src = contiguous();
        Tensor out = new Tensor(src.data, src.offset, s, Shape.contiguousStrides(s));
        return Autograd.record("reshape", out, g -> src.addToGrad(g, 0), src);
    }

    /** Swaps two axes: a strided view. */
    public Tensor transpose(int a0, int a1) {
        int a = Shape.axis("transpose", a0, rank()), b = Shape.axis("transpose", a1, rank());
        int[] s = shape.clone(), st = strides.clone();
        s[a] = shape[b]; s[b] = shape[a];
        st[a] = strides[b]; st[b] = strides[a];
        Tensor out = new Tensor(data, offset, s, st);
        Tensor self = this;
        return Autograd.record("transpose", out, g -> {
            // g is in out's logical order; scatter it into self's logical order.
            float[] dst = self.gradBuffer();
            int[] selfStrides = Shape.contiguousStrides(self.shape);
            int[] outIdx = new int[s.length];
            for (int i = 0; i < g.length; i++) {
                int p = 0;
                for (int k = 0; k < s.length; k++) {
                    int selfAxis = k == a ? b : (k == b ? a : k);
                    p += outIdx[k] * selfStrides[selfAxis];
                }
                dst[p] += g[i];
                for (int k = s.length - 1; k >= 0; k--) { if (++outIdx[k] < s[k]) break; outIdx[k] = 0; }
            }
        }, this);
    }

    /** The 2-D transpose. */
    public Tensor t() {
        Shape.requireRank("t", this, 2);
        return transpose(0, 1);
    }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder("Tensor").append(Shape.str(shape));
        if (name != null) sb.append(" '").append(name).append('\'');
        if (node != null) sb.append(" <").append(node.op()).append('>');
        if (numel <= 16) sb.append(' ').append(Arrays.toString(toArray()));
        return sb.toString();
    }
}
