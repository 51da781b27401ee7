package moelab.nativ;

import moelab.dist.Collective;
import moelab.dist.CollectiveProvider;

/** Registers {@link MpiCollective} as the "mpi" transport (META-INF/services). */
public final class MpiCollectiveProvider implements CollectiveProvider {
    @Override public String name() { return "mpi"; }
    @Override public Collective start() { return MpiCollective.start(); }
}
