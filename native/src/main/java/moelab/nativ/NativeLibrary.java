package moelab.nativ;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Finds and loads shared libraries for the FFM bindings, once per JVM: libmoelab.so (built by the
 * Maven build from native/src/main/c, carried in the jar and extracted to a temp file) and the
 * system's OpenBLAS and BLIS (benchmark peers), and Open MPI's libmpi.so.40 for data-parallel runs. A library that cannot load leaves a reason instead of an exception, so the
 * back ends can report themselves unavailable.
 */
public final class NativeLibrary {
    private NativeLibrary() {}

    static final String RESOURCE = "/native/linux-x86_64/libmoelab.so";
    /** Interface version the bindings were written for (moelab_version() in the header). */
    static final int VERSION = 2;

    /** A loaded library or the reason it is not there. */
    record Loaded(SymbolLookup lookup, Path path, String unavailableReason) {
        boolean ok() { return lookup != null; }
    }

    private static final class MoelabHolder { static final Loaded LOADED = loadMoelab(); }
    private static final class OpenBlasHolder { static final Loaded LOADED = loadOpenBlas(); }
    private static final class BlisHolder { static final Loaded LOADED = loadBlis(); }
    private static final class MpiHolder { static final Loaded LOADED = loadMpi(); }

    static Loaded moelab() { return MoelabHolder.LOADED; }
    static Loaded openBlas() { return OpenBlasHolder.LOADED; }
    static Loaded blis() { return BlisHolder.LOADED; }
    /** Loaded on first use only: a run that is not data-parallel never touches libmpi. */
    static Loaded mpi() { return MpiHolder.LOADED; }

    private static Loaded loadMoelab() {
        String platform = platformProblem();
        if (platform != null) return new Loaded(null, null, platform);
        String cpu = cpuProblem();
        if (cpu != null) return new Loaded(null, null, cpu);
        try (InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCE)) {
            if (in == null)
                return new Loaded(null, null, "libmoelab.so is not in the jar (" + RESOURCE
                        + "): it was built without gcc; install gcc and rebuild the 'native' module");
            Path tmp = Files.createTempFile("libmoelab", ".so");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            SymbolLookup lookup = SymbolLookup.libraryLookup(tmp, Arena.global());
            return new Loaded(lookup, tmp, null);
        } catch (IOException | RuntimeException e) {
            return new Loaded(null, null, "cannot load libmoelab.so: " + e);
        }
    }

    /** Where Debian's OpenBLAS lives (the pthread build first); MOELAB_OPENBLAS / moelab.openblas names another file. */
    static List<Path> openBlasCandidates() {
        String own = System.getProperty("moelab.openblas", System.getenv("MOELAB_OPENBLAS"));
        if (own != null && !own.isBlank()) return List.of(Path.of(own.trim()));
        return List.of(Path.of("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"),
                Path.of("/usr/lib/x86_64-linux-gnu/libopenblas.so.0"),
                Path.of("/usr/lib64/libopenblas.so.0"),
                Path.of("/usr/lib/libopenblas.so.0"));
    }

    private static Loaded loadOpenBlas() {
        return loadFirst(openBlasCandidates(), List.of("cblas_sgemm", "openblas_set_num_threads"), "no OpenBLAS library found; tried",
                ". Install it (Debian: apt-get install libopenblas0-pthread) or set MOELAB_OPENBLAS to libopenblas.so.0");
    }

    /** Debian's BLIS (the serial build); MOELAB_BLIS / moelab.blis names another file. */
    static List<Path> blisCandidates() {
        String own = System.getProperty("moelab.blis", System.getenv("MOELAB_BLIS"));
        if (own != null && !own.isBlank()) return List.of(Path.of(own.trim()));
        return List.of(Path.of("/usr/lib/x86_64-linux-gnu/blis-serial/libblis.so.4"),
                Path.of("/usr/lib/x86_64-linux-gnu/libblis.so.4"));
    }

    private static Loaded loadBlis() {
        return loadFirst(blisCandidates(), List.of("cblas_sgemm", "bli_arch_query_id", "bli_arch_string", "bli_info_get_version_str"),
                "no BLIS library found; tried", ". Install it (Debian: apt-get install libblis4-serial) or set MOELAB_BLIS to libblis.so.4");
    }

    /** The first candidate that loads and has all the symbols, or the reason none did. */
    private static Loaded loadFirst(List<Path> candidates, List<String> symbols, String noneFound, String advice) {
        String platform = platformProblem();
        if (platform != null) return new Loaded(null, null, platform);
        StringBuilder tried = new StringBuilder();
        for (Path p : candidates) {
            if (!Files.isReadable(p)) {
                tried.append(' ').append(p).append(" (missing)");
                continue;
            }
            try {
                SymbolLookup lookup = SymbolLookup.libraryLookup(p, Arena.global());
                List<String> missing = symbols.stream().filter(sym -> lookup.find(sym).isEmpty()).toList();
                if (!missing.isEmpty()) {
                    tried.append(' ').append(p).append(" (no ").append(String.join(" / ", missing)).append(')');
                    continue;
                }
                return new Loaded(lookup, p, null);
            } catch (RuntimeException e) {
                tried.append(' ').append(p).append(" (").append(e.getMessage()).append(')');
            }
        }
        return new Loaded(null, null, noneFound + tried + advice);
    }

    /** Open MPI 4's libmpi.so.40 (the dynamic linker's search path, then Debian's folder); MOELAB_MPI_LIB / moelab.mpiLib names another file. */
    static List<Path> mpiCandidates() {
        String own = System.getProperty("moelab.mpiLib", System.getenv("MOELAB_MPI_LIB"));
        if (own != null && !own.isBlank()) return List.of(Path.of(own.trim()));
        return List.of(Path.of("libmpi.so.40"), Path.of("/usr/lib/x86_64-linux-gnu/libmpi.so.40"), Path.of("/usr/lib64/openmpi/lib/libmpi.so.40"));
    }

    private static Loaded loadMpi() {
        StringBuilder tried = new StringBuilder();
        for (Path p : mpiCandidates()) {
            try {
                // a bare name goes to dlopen's search path (LD_LIBRARY_PATH, ld.so.cache)
                SymbolLookup lookup = p.getParent() == null ? SymbolLookup.libraryLookup(p.toString(), Arena.global())
                        : SymbolLookup.libraryLookup(p, Arena.global());
                if (lookup.find("MPI_Allreduce").isEmpty() || lookup.find("ompi_mpi_comm_world").isEmpty()) {
                    tried.append(' ').append(p).append(" (not Open MPI: no MPI_Allreduce / ompi_mpi_comm_world)");
                    continue;
                }
                return new Loaded(lookup, p, null);
            } catch (RuntimeException e) {
                tried.append(' ').append(p).append(" (").append(e.getMessage()).append(')');
            }
        }
        return new Loaded(null, null, "no Open MPI library found; tried" + tried
                + ". Install it (Debian: apt-get install openmpi-bin libopenmpi-dev) or set MOELAB_MPI_LIB to libmpi.so.40");
    }

    private static String platformProblem() {
        String os = System.getProperty("os.name", ""), arch = System.getProperty("os.arch", "");
        if (!os.toLowerCase().startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64")))
            return "native kernels are built for Linux x86-64 only (this is " + os + " " + arch + ")";
        return null;
    }

    /** The library is compiled with -mavx2 -mfma: loading it on a CPU without them would crash, so check first. */
    private static String cpuProblem() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (!line.startsWith("flags")) continue;
                String flags = " " + line.substring(line.indexOf(':') + 1) + " ";
                if (flags.contains(" avx2 ") && flags.contains(" fma ")) return null;
                return "this CPU lacks AVX2 or FMA, which libmoelab.so is compiled for";
            }
            return "no CPU flags in /proc/cpuinfo: cannot check for AVX2/FMA";
        } catch (IOException e) {
            return "cannot read /proc/cpuinfo to check for AVX2/FMA: " + e.getMessage();
        }
    }
}
