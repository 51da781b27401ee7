package moelab.train;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.function.UnaryOperator;

/**
 * Writes a file so that readers see either the old content or the complete new content, never
 * a half-written file: write to a temporary file in the same folder, fsync it, rename it over
 * the target (atomic on POSIX file systems), then fsync the folder so the rename survives a crash.
 */
final class AtomicFile {
    private AtomicFile() {}

    /** Produces the file's bytes. */
    @FunctionalInterface
    interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    static void write(Path target, Body body) { write(target, body, UnaryOperator.identity()); }

    /** wrap lets tests put a failing stream between the body and the file. */
    static void write(Path target, Body body, UnaryOperator<OutputStream> wrap) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        boolean moved = false;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream out = wrap.apply(new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16))) {
                body.writeTo(out);
                out.flush();
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING); // same folder, so this is rare
            }
            moved = true;
            syncDirectory(dir);
        } catch (IOException e) {
            throw failed(abs, e);
        } catch (UncheckedIOException e) {
            throw failed(abs, e.getCause());
        } finally {
            if (!moved && tmp != null) {
                try { Files.deleteIfExists(tmp); } catch (IOException ignored) { /* best effort clean-up */ }
            }
        }
    }

    private static UncheckedIOException failed(Path file, IOException e) {
        return new UncheckedIOException("writing " + file + " failed (the previous file, if any, is unchanged): " + e.getMessage(), e);
    }

    // Makes the rename durable; some platforms cannot open a folder, which only weakens durability.
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // not supported here (e.g. Windows); the data itself was already forced
        }
    }
}
