package moelab.app.sweep;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A content fingerprint of a data folder: SHA-256 over every regular file under it (sorted by
 * relative path; each file's relative path, size and bytes), so that a run trained on other data
 * under the same path is told apart.
 */
final class DataFingerprint {
    private DataFingerprint() {}

    /** "sha256:&lt;hex&gt;", or "missing" when the folder does not exist. */
    static String of(String dataPath) {
        Path root = Path.of(dataPath).toAbsolutePath().normalize();
        if (!Files.isDirectory(root)) return "missing";
        return compute(root);
    }

    private static String compute(Path root) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        List<Path> files;
        try (Stream<Path> s = Files.walk(root, FileVisitOption.FOLLOW_LINKS)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the data folder " + root + ": " + e.getMessage(), e);
        }
        byte[] buf = new byte[1 << 16];
        for (Path f : files) {
            try (InputStream in = Files.newInputStream(f)) {
                md.update((root.relativize(f).toString().replace('\\', '/') + "\0" + Files.size(f) + "\0").getBytes(StandardCharsets.UTF_8));
                for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
            }
        }
        return "sha256:" + HexFormat.of().formatHex(md.digest());
    }
}
