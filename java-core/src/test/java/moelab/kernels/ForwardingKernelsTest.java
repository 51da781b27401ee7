package moelab.kernels;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ForwardingKernelsTest {
    /** One call as the inner kernels saw it. */
    record Call(Method method, Object[] args) {}

    @Test
    void forwardsEveryKernelUnchangedToTheSameMethod() throws Exception {
        List<Call> seen = new ArrayList<>();
        Kernels inner = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[]{Kernels.class},
                (proxy, method, args) -> {
                    seen.add(new Call(method, args == null ? new Object[0] : args));
                    return zero(method.getReturnType());
                });
        Kernels forwarding = new ForwardingKernels(inner) {};
        int checked = 0;
        for (Method m : Kernels.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) continue;
            seen.clear();
            if (m.getName().equals("forEachTask")) { // not forwarded: the tasks run in order on the caller
                List<Integer> order = new ArrayList<>();
                Thread caller = Thread.currentThread();
                forwarding.forEachTask(4, t -> { assertEquals(caller, Thread.currentThread()); order.add(t); });
                assertEquals(List.of(0, 1, 2, 3), order, "forEachTask runs the tasks in order");
                assertEquals(0, seen.size(), "forEachTask reached the inner kernels");
                checked++;
                continue;
            }
            Object[] args = distinctArgs(m.getParameterTypes());
            m.invoke(forwarding, args);
            assertEquals(1, seen.size(), m.getName() + ": calls reaching the inner kernels");
            assertEquals(m, seen.getFirst().method(), m.getName() + " went to another kernel");
            assertArrayEquals(args, seen.getFirst().args(), m.getName() + ": arguments changed on the way");
            checked++;
        }
        assertEquals(Kernels.class.getMethods().length, checked, "every Kernels method was called");
    }

    @Test
    void needsInnerKernels() {
        assertThrows(IllegalArgumentException.class, () -> new ForwardingKernels(null) {});
    }

    /** Values that differ between parameters, so swapped arguments show. */
    private static Object[] distinctArgs(Class<?>[] types) {
        Object[] a = new Object[types.length];
        for (int i = 0; i < types.length; i++) {
            Class<?> t = types[i];
            if (t == int.class) a[i] = i + 1;
            else if (t == float.class) a[i] = i + 0.5f;
            else if (t == boolean.class) a[i] = i % 2 == 0;
            else if (t == float[].class) a[i] = new float[i + 1];
            else if (t == int[].class) a[i] = new int[i + 1];
            else if (t == boolean[].class) a[i] = new boolean[i + 1];
            else throw new AssertionError("no test value for parameter type " + t);
        }
        return a;
    }

    private static Object zero(Class<?> type) {
        if (type == float.class) return 0f;
        if (type == int.class) return 0;
        if (type == String.class) return "inner";
        return null;
    }
}
