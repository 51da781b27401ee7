package moelab.app.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Fetches and unpacks Debian binary packages as a normal user: {@code apt-get download} (into a
 * cache folder), {@code dpkg-deb -x} (into a folder per package), {@code dpkg-deb -f} (fields).
 * Nothing is installed. Already downloaded or extracted packages are reused.
 */
public final class DebianPackages {
    /** A downloaded and extracted package. {@code root} is the extracted tree (usr/share/...). */
    public record Unpacked(String name, String version, Path deb, Path root) {
        /** The package's copyright file (Debian policy: /usr/share/doc/PKG/copyright), or null. */
        public Path copyright() {
            Path p = root.resolve("usr/share/doc/" + name + "/copyright");
            return Files.isRegularFile(p) ? p : null;
        }
    }

    private final Path debs, trees;

    public DebianPackages(Path work) throws IOException {
        this.debs = Files.createDirectories(work.resolve("debs"));
        this.trees = Files.createDirectories(work.resolve("extract"));
    }

    public Unpacked get(String pkg) throws IOException {
        if (!pkg.matches("[a-z0-9][a-z0-9+.-]+")) throw new IllegalArgumentException("not a Debian package name: " + pkg);
        Path deb = cached(pkg);
        if (deb == null) {
            run(debs, List.of("apt-get", "download", pkg),
                    "apt-get download " + pkg + " failed. Does the package exist in this Debian release (apt-cache policy " + pkg
                            + ")? Are the package lists current (apt-get update, as root)?");
            deb = cached(pkg);
            if (deb == null) throw new IOException("apt-get download " + pkg + " succeeded but no " + pkg + "_*.deb is in " + debs);
        }
        String version = run(debs, List.of("dpkg-deb", "-f", deb.toString(), "Version"), "cannot read the Version of " + deb).strip();
        Path root = trees.resolve(deb.getFileName().toString().replaceFirst("\\.deb$", ""));
        Path done = root.resolve(".extracted");
        if (!Files.exists(done)) {
            deleteTree(root);
            Files.createDirectories(root);
            run(trees, List.of("dpkg-deb", "-x", deb.toString(), root.toString()), "dpkg-deb -x failed for " + deb);
            Files.writeString(done, version + "\n");
        }
        return new Unpacked(pkg, version, deb, root);
    }

    /** The single cached PKG_*.deb, or null; several versions are an error (remove the stale ones). */
    private Path cached(String pkg) throws IOException {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(debs, pkg + "_*.deb")) {
            for (Path p : ds) found.add(p);
        }
        if (found.size() > 1) {
            found.sort(null);
            throw new IOException("several cached versions of " + pkg + " in " + debs + ": " + found + "; delete the old ones");
        }
        return found.isEmpty() ? null : found.get(0);
    }

    /** Runs a command in {@code dir}; returns stdout; on failure throws with {@code what} and the command's stderr. */
    String run(Path dir, List<String> cmd, String what) throws IOException {
        Path err = Files.createTempFile("moe-prepare-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(err.toFile()).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(20, TimeUnit.MINUTES)) { p.destroyForcibly(); throw new IOException(what + ": timed out"); }
            if (p.exitValue() != 0) {
                String e = Files.readString(err, StandardCharsets.UTF_8).strip();
                throw new IOException(what + "\n  command: " + String.join(" ", cmd) + " (exit " + p.exitValue() + ")\n  " + e.replace("\n", "\n  "));
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + ": interrupted", e);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(what)) throw e;
            throw new IOException(what + ": cannot run " + cmd.get(0) + " (" + e.getMessage() + ")", e);
        } finally {
            Files.deleteIfExists(err);
        }
    }

    /** True when {@code tool} is found on PATH. */
    public static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String d : path.split(java.io.File.pathSeparator))
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) return true;
        return false;
    }

    /** Regular files (not links) under {@code dir}, sorted by path; empty if dir is missing. */
    public static List<Path> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        TreeMap<String, Path> out = new TreeMap<>();
        try (var s = Files.walk(dir)) {
            s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    .forEach(p -> out.put(dir.relativize(p).toString(), p));
        }
        return new ArrayList<>(out.values());
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (var s = Files.walk(root)) {
            List<Path> all = s.sorted(java.util.Comparator.reverseOrder()).toList();
            for (Path p : all) Files.delete(p);
        }
    }
}
