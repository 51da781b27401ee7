package moelab.nativ;

import moelab.dist.Collective;
import moelab.dist.CollectiveProvider;

import java.util.Map;

/** Registers {@link MpiCollective} as the "mpi" transport (META-INF/services). */
public final class MpiCollectiveProvider implements CollectiveProvider {
    @Override public String name() { return "mpi"; }
    @Override public boolean launched(Map<String, String> env) { return MpiCollective.launched(env); }
    @Override public Collective start() { return MpiCollective.start(); }
}
