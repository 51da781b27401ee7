package moelab.ops;

import moelab.kernels.Backends;
import moelab.kernels.Kernels;
import moelab.kernels.ScalarKernels;
import moelab.tensor.Tensor;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shared test helpers for the op tests. */
final class OpsTesting {
    private OpsTesting() {}

    /** A trainable leaf with N(0,1) entries. */
    static Tensor param(Random rng, int... shape) { return Tensor.randn(rng, 1f, shape).requiresGrad(true); }

    static void assertClose(float[] expected, float[] actual, float tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++)
            if (!(Math.abs(expected[i] - actual[i]) <= tol * (1f + Math.abs(expected[i]))))
                throw new AssertionError(what + ": element " + i + ": expected " + expected[i] + " but got " + actual[i]);
    }

    /** One sgemm call as the op made it. */
    record Gemm(boolean transA, boolean transB, int m, int n, int k, float beta) {}

    /**
     * Runs body with a kernel set that records every sgemm call (and computes it with the
     * scalar reference); restores the previous kernels afterwards.
     */
    static List<Gemm> recordGemms(Runnable body) {
        List<Gemm> calls = new ArrayList<>();
        Kernels ref = new ScalarKernels();
        Kernels spy = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[]{Kernels.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("sgemm"))
                        calls.add(new Gemm((Boolean) args[0], (Boolean) args[1], (Integer) args[2], (Integer) args[3],
                                (Integer) args[4], (Float) args[12]));
                    try {
                        return method.invoke(ref, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Kernels previous = Backends.get();
        Backends.use(spy);
        try {
            body.run();
        } finally {
            Backends.use(previous);
        }
        return calls;
    }
}
