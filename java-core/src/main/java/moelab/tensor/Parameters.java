package moelab.tensor;


import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named trainable tensors in registration order: what optimizers iterate over and what
 * checkpoints save. Names are unique and stable ("layers.0.attn.wq").
 */
public final class Parameters {
    private final LinkedHashMap<String, Tensor> byName = new LinkedHashMap<>();

    /** Registers a leaf tensor under a unique name and marks it as requiring grad. */
    public Tensor add(String name, Tensor t) {
        if (t.node() != null) throw new IllegalArgumentException("parameter '" + name + "' must be a leaf tensor, got a result of " + t.node().op());
        if (byName.putIfAbsent(name, t) != null) throw new IllegalArgumentException("parameter name '" + name + "' registered twice");
        t.name(name).requiresGrad(true);
        return t;
    }

    /** Adds every parameter of another registry with a prefix ("layers.0." + name). */
    public void addAll(String prefix, Parameters other) {
        for (Map.Entry<String, Tensor> e : other.byName.entrySet()) {
            String n = prefix + e.getKey();
            if (byName.putIfAbsent(n, e.getValue()) != null) throw new IllegalArgumentException("parameter name '" + n + "' registered twice");
        }
    }

    public Tensor get(String name) {
        Tensor t = byName.get(name);
        if (t == null) throw new IllegalArgumentException("no parameter named '" + name + "'; known: " + byName.keySet());
        return t;
    }

    public Map<String, Tensor> asMap() { return Collections.unmodifiableMap(byName); }
    public int size() { return byName.size(); }

    public long count() {
        long n = 0;
        for (Tensor t : byName.values()) n += t.numel();
        return n;
    }

    public void zeroGrad() { for (Tensor t : byName.values()) t.zeroGrad(); }
}
