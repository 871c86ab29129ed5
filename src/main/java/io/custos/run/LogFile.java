package io.custos.run;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * {@code log.file}: the log lines appended to a file that rotates by size ({@code custos.log} →
 * {@code custos.log.1} … {@code custos.log.<keep>}).
 *
 * <p>Two custos processes may append at once (a {@code status} while a scan runs). Each line is
 * one {@code O_APPEND} write of the whole line, so lines never mix; the file is opened for each
 * line, so a process never keeps writing into a file another one has rotated away (custos logs
 * a few lines a minute: the open costs microseconds). Rotation happens under a lock on a
 * sidecar file ({@code .custos.log.lock}), and only when the file is still over the size once
 * the lock is held: two processes crossing the threshold together rotate once.
 */
final class LogFile implements Log.Sink {
    /** Rotate when the file reaches {@code maxBytes}; keep {@code keep} rotated files. */
    record Rotation(long maxBytes, int keep) {
        static final Rotation DEFAULT = new Rotation(10L * 1024 * 1024, 5);

        Rotation {
            if (maxBytes <= 0 || keep < 1) {
                throw new IllegalArgumentException("rotation needs maxBytes > 0 and keep >= 1");
            }
        }
    }

    /** Two LogFiles of one JVM must not take the same file lock (the JVM refuses overlapping ones). */
    private static final Object ROTATING = new Object();

    private final Path path;
    private final Path lock;
    private final Rotation rotation;
    private boolean writeFailed;
    private boolean rotateFailed;

    private LogFile(Path path, Rotation rotation) {
        this.path = path;
        this.lock = path.resolveSibling("." + path.getFileName() + ".lock");
        this.rotation = rotation;
    }

    /** Creates the directory and the file when missing; throws when it cannot be written. */
    static LogFile open(Path path, Rotation rotation) throws IOException {
        Path abs = path.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        append(abs).close(); // opened for writing: the file is usable
        return new LogFile(abs, rotation);
    }

    private static FileChannel append(Path p) throws IOException {
        return FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    Path path() {
        return path;
    }

    @Override
    public String write(Log.Level level, Instant time, String line, String message) {
        ByteBuffer buf = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        long size;
        try (FileChannel ch = append(path)) {
            // One write(2) of the whole line: on a local filesystem O_APPEND places it whole at the end.
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            size = ch.size();
        } catch (IOException | RuntimeException e) {
            if (writeFailed) {
                return null;
            }
            writeFailed = true;
            return "cannot write the log file " + path + " (" + Log.reason(e) + "); further failures are not reported";
        }
        if (size < rotation.maxBytes()) {
            return null;
        }
        try {
            rotate();
            return null;
        } catch (IOException | RuntimeException e) {
            if (rotateFailed) {
                return null;
            }
            rotateFailed = true;
            return "cannot rotate the log file " + path + " (" + Log.reason(e) + "); it keeps growing";
        }
    }

    private void rotate() throws IOException {
        synchronized (ROTATING) {
            try (FileChannel lc = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                FileLock held = lc.lock();
                try {
                    shift();
                } finally {
                    held.release();
                }
            }
        }
    }

    /** Under the lock: custos.log.(keep-1) → .keep … custos.log → .1, when the file is still full. */
    private void shift() throws IOException {
        long size;
        try {
            size = Files.size(path);
        } catch (NoSuchFileException e) {
            return;
        }
        if (size < rotation.maxBytes()) {
            return; // another process rotated it while this one waited for the lock
        }
        Files.deleteIfExists(numbered(rotation.keep()));
        for (int i = rotation.keep() - 1; i >= 1; i--) {
            Path from = numbered(i);
            if (Files.exists(from)) {
                Files.move(from, numbered(i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.move(path, numbered(1), StandardCopyOption.REPLACE_EXISTING);
    }

    private Path numbered(int i) {
        return path.resolveSibling(path.getFileName() + "." + i);
    }

    @Override
    public void close() {
        // nothing held between lines
    }
}
