package moelab.app.cli;

import moelab.dist.Collective;
import moelab.dist.CollectiveProvider;

/**
 * Whether {@code moe train} runs as one of several data-parallel ranks: it does when an MPI
 * launcher started it ({@code mpirun -np N}, {@code srun --mpi=pmix}); only then is libmpi loaded.
 * MOELAB_MPI=0 trains each launched process on its own instead (e.g. under a launcher that sets
 * the variables for another reason); MOELAB_MPI=1 asks for MPI even without a launcher (one rank).
 */
final class DataParallel {
    private DataParallel() {}

    static Collective ranks() {
        String own = System.getenv("MOELAB_MPI");
        boolean mpi;
        if (own == null || own.isBlank()) mpi = launchedByMpi();
        else if (own.trim().equals("1")) mpi = true;
        else if (own.trim().equals("0")) mpi = false;
        else throw new IllegalArgumentException("environment variable MOELAB_MPI: allowed values are 0 (one process) and 1 (MPI), got '" + own + "'");
        return mpi ? CollectiveProvider.named("mpi").start() : Collective.single();
    }

    /** mpirun / mpiexec of Open MPI set OMPI_COMM_WORLD_SIZE, PMIx launchers such as srun --mpi=pmix PMIX_RANK. */
    private static boolean launchedByMpi() {
        var env = System.getenv();
        return env.containsKey("OMPI_COMM_WORLD_SIZE") || env.containsKey("PMIX_RANK");
    }
}
