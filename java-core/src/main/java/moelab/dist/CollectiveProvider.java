package moelab.dist;

import java.util.ServiceLoader;

/**
 * A transport for data-parallel ranks, found through {@link ServiceLoader} like the kernel back
 * ends (java-core names none): the native module's MPI binding is the one there is.
 */
public interface CollectiveProvider {
    /** "mpi" */
    String name();

    /** Joins the ranks (loads the library only now); a missing library is an error that says how to get it. */
    Collective start();

    /** The provider of that name, or an error naming the ones there are. */
    static CollectiveProvider named(String name) {
        StringBuilder have = new StringBuilder();
        for (CollectiveProvider p : ServiceLoader.load(CollectiveProvider.class)) {
            if (p.name().equals(name)) return p;
            have.append(have.isEmpty() ? "" : ", ").append(p.name());
        }
        throw new IllegalStateException("data-parallel run: no '" + name + "' transport on the class path (found: "
                + (have.isEmpty() ? "none" : have) + "); the native module provides it");
    }
}
