package moelab.ops;

import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.kernels.ScalarKernels;
import moelab.nn.MoeExperts;
import moelab.routing.mar.MemoryMatch;
import moelab.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static moelab.ops.OpsTesting.param;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An op's backward runs on the kernels its forward ran on, even when the engine's kernels change in between. */
class BackwardKernelsTest {

    @Test
    void backwardRunsOnTheForwardsKernels() {
        Map<String, Function<Random, Tensor>> ops = new LinkedHashMap<>();
        ops.put("matmul", r -> MatMul.matmul(param(r, 3, 4), param(r, 4, 5)));
        ops.put("batched matmul", r -> MatMul.matmul(param(r, 2, 3, 4), param(r, 2, 4, 5)));
        ops.put("softmax rows", r -> Softmax.softmax(param(r, 3, 4), -1));
        ops.put("softmax axis 0", r -> Softmax.softmax(param(r, 3, 4), 0));
        ops.put("rmsnorm", r -> RmsNorm.rmsnorm(param(r, 3, 4), param(r, 4), 1e-5f));
        ops.put("swiglu", r -> Activations.swiglu(param(r, 3, 4), param(r, 3, 4)));
        ops.put("add", r -> Elementwise.add(param(r, 3, 4), param(r, 3, 4)));
        ops.put("mul", r -> Elementwise.mul(param(r, 3, 4), param(r, 3, 4)));
        ops.put("mulScalar", r -> Elementwise.mulScalar(param(r, 3, 4), 2f));
        ops.put("neg", r -> Elementwise.neg(param(r, 3, 4)));
        ops.put("sum over axis 0", r -> Reduce.sum(param(r, 3, 4), 0, false));
        ops.put("concat", r -> Join.concat(1, param(r, 3, 2), param(r, 3, 4)));
        ops.put("narrow", r -> Join.narrow(param(r, 3, 6), 1, 2, 3));
        ops.put("crossEntropy", r -> CrossEntropy.crossEntropy(param(r, 3, 5), new int[]{0, 4, 2}));
        ops.put("attention", r -> Attention.causal(param(r, 1, 2, 3, 4), param(r, 1, 2, 3, 4), param(r, 1, 2, 3, 4)));
        ops.put("memory similarity", r -> MemoryMatch.similarity(param(r, 3, 4), new float[]{1, 0, 0, 1, 0, 1, 1, 0},
                new boolean[]{true, true}));
        ops.put("moe experts", r -> MoeExperts.forward(param(r, 3, 4), param(r, 3, 2), param(r, 2, 4, 5), param(r, 2, 4, 5),
                param(r, 2, 5, 4), new int[]{0, 1, 1, 0, 0, 1}, new boolean[]{true, true, true, false, true, true}).out());

        for (Map.Entry<String, Function<Random, Tensor>> op : ops.entrySet()) {
            AtomicInteger forwardCalls = new AtomicInteger(), laterCalls = new AtomicInteger();
            Kernels forwardKernels = counting(forwardCalls), laterKernels = counting(laterCalls);
            Kernels previous = Backends.get();
            try {
                Backends.use(forwardKernels);
                Tensor out = op.getValue().apply(new Random(7));
                Tensor loss = Reduce.sumAll(Elementwise.mul(out, Tensor.randn(new Random(8), 1f, out.shape())));
                Backends.use(laterKernels);
                int beforeBackward = forwardCalls.get();
                loss.backward();
                assertEquals(0, laterCalls.get(), op.getKey() + ": backward called the kernels installed after its forward");
                assertTrue(forwardCalls.get() > beforeBackward, op.getKey() + ": backward ran no kernel at all");
            } finally {
                Backends.use(previous);
            }
        }
    }

    /** The scalar reference, counting the kernel calls that reach it. */
    private static Kernels counting(AtomicInteger calls) {
        Kernels ref = new ScalarKernels();
        return (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[]{Kernels.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("name") && !method.getName().equals("threads")) calls.incrementAndGet();
                    try {
                        return method.invoke(ref, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
