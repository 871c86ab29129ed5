package io.custos.parity;

import static io.custos.exec.ExternalProcess.arg;

import io.custos.exec.ExternalProcess;
import io.custos.fs.AtomicFiles;
import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The par2 program (par2cmdline 0.8.1 or a build with the same command line, such as
 * par2cmdline-turbo), run through {@link ExternalProcess}. A custos set is the single recovery
 * volume par2 writes, renamed to {@code <setName>.par2}: it holds every critical packet, so par2
 * verifies and repairs from it alone, and the index file would only repeat them.
 *
 * <p>par2 0.8.1 stores a name as it is but looks for it under another one when it has bytes below
 * 0x20 or a backslash ({@link #nameOnDisk}); repair and verify take care of that, so any name works.
 */
public final class Par2 {
    private final Path binary;
    private final Duration timeout;
    private final CancelToken cancel;

    public Par2(Path binary, Duration timeout, CancelToken cancel) {
        this.binary = binary;
        this.timeout = timeout;
        this.cancel = cancel;
    }

    /** The set file made: {@code outDir/<setName>.par2}, its size, and the layout used. */
    public record Created(Path file, long bytes, Par2Layout layout) {}

    /**
     * Makes the set for {@code dataFile} as {@code outDir/<setName>.par2}, replacing one that is
     * there, and fsyncs it. par2 resolves symlinks and refuses a file "out of basepath", so both
     * the base path and the file are given under the real path of the file's directory; the set
     * stores the file's name alone, except that a one-byte name is stored as {@code ./NAME}
     * (par2 0.8.1 aborts with {@code std::out_of_range} on a one-character name). par2 writes into a fresh hidden directory inside
     * {@code outDir}, which also keeps it away from other sets' files; on failure that directory is
     * removed and nothing of the set is left in {@code outDir}.
     *
     * @throws Par2Exception when par2 fails, times out or is cancelled, or its files cannot be moved
     */
    public Created create(Path dataFile, Path outDir, String setName, Par2Layout layout, int threads)
            throws Par2Exception {
        if (setName.isEmpty() || setName.indexOf('/') >= 0 || setName.equals(".") || setName.equals("..")) {
            throw new IllegalArgumentException("not a set name: " + setName);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + threads);
        }
        byte[] setFile = arg(setName + ".par2");
        Path work = null;
        try {
            Path name = dataFile.getFileName();
            Path parent = dataFile.toAbsolutePath().getParent().toRealPath();
            Files.createDirectories(outDir);
            work = Files.createTempDirectory(outDir, ".par2-");
            ExternalProcess.Outcome o = ExternalProcess.run(
                    List.of(
                            arg(binary),
                            arg("create"),
                            arg("-q"),
                            arg("-s" + layout.blockSize()),
                            arg("-c" + layout.recoveryBlocks()),
                            arg("-n1"),
                            arg("-t" + threads),
                            arg("-B"),
                            arg(parent),
                            arg("--"),
                            arg(RawPaths.resolve(work, setFile)),
                            arg(dataPath(parent, name))),
                    timeout,
                    cancel);
            if (!o.ok()) {
                throw failure("create", o);
            }
            Path volume = onlyVolume(work, setName);
            try (FileChannel ch = FileChannel.open(volume, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Path target = RawPaths.resolve(outDir, setFile);
            AtomicFiles.moveIntoPlace(volume, target);
            return new Created(target, Files.size(target), layout);
        } catch (IOException e) {
            throw new Par2Exception(
                    "par2 create for " + RawPaths.display(arg(dataFile)) + ": " + e.getMessage(), -1, false, false, e);
        } finally {
            if (work != null) {
                deleteTree(work);
            }
        }
    }

    /**
     * {@code par2 repair}: exit 0 repaired (or nothing to repair), 1 and 2 not repairable, 3 bad
     * arguments or no set. par2 never writes to the data file itself: it works in a hidden directory
     * inside {@code dataDir}, on a hard link (a copy where links are not supported) under the name
     * par2 looks for (see {@link #nameOnDisk}). par2 moves the damaged file aside to {@code NAME.1}
     * and writes the repaired one; on success that file, with the original's owner and permissions,
     * replaces the data file in one rename; on failure, timeout or cancel the data file is as it was.
     * The hidden directory, with par2's {@code NAME.1}, is always removed.
     *
     * @throws IOException when par2 cannot be started, or the directory or the result cannot be
     *     written
     */
    public ExternalProcess.Outcome repair(Path dataDir, Path par2File, int threads) throws IOException {
        Path dir = dataDir.toRealPath();
        byte[] stored = storedName(par2File);
        Path work = Files.createTempDirectory(dir, ".custos-repair-");
        try {
            Path original = stored == null ? null : RawPaths.resolve(dir, stored);
            Path alias = stored == null ? null : RawPaths.resolve(work, nameOnDisk(stored));
            Object given = null;
            if (original != null && Files.isRegularFile(original, LinkOption.NOFOLLOW_LINKS)) {
                linkOrCopy(original, alias);
                given = fileKey(alias);
            }
            ExternalProcess.Outcome o = ExternalProcess.run(
                    List.of(
                            arg(binary),
                            arg("repair"),
                            arg("-q"),
                            arg("-t" + Math.max(1, threads)),
                            arg("-B"),
                            arg(work),
                            arg("--"),
                            arg(par2File)),
                    timeout,
                    cancel);
            // par2 writes a repaired file as a new one; the file it was given is left unchanged.
            if (o.ok()
                    && alias != null
                    && Files.isRegularFile(alias, LinkOption.NOFOLLOW_LINKS)
                    && !fileKey(alias).equals(given)) {
                try (FileChannel ch = FileChannel.open(alias, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
                copyOwnership(original, alias);
                Files.createDirectories(original.getParent());
                AtomicFiles.moveIntoPlace(alias, original);
            }
            return o;
        } finally {
            deleteTree(work);
        }
    }

    /**
     * {@code par2 verify}: 0 clean, 1 repairable, 2 not, 3 no set (for tests and diagnostics). Runs
     * on {@code dataDir} itself, unless par2 would look for the file under another name (see
     * {@link #nameOnDisk}): then on a hard link in a hidden directory, as {@link #repair} does.
     */
    public ExternalProcess.Outcome verify(Path dataDir, Path par2File) throws IOException {
        Path dir = dataDir.toRealPath();
        byte[] stored = storedName(par2File);
        if (stored == null || Arrays.equals(stored, nameOnDisk(stored))) {
            return verifyIn(dir, par2File);
        }
        Path work = Files.createTempDirectory(dir, ".custos-verify-");
        try {
            Path original = RawPaths.resolve(dir, stored);
            if (Files.isRegularFile(original, LinkOption.NOFOLLOW_LINKS)) {
                linkOrCopy(original, RawPaths.resolve(work, nameOnDisk(stored)));
            }
            return verifyIn(work, par2File);
        } finally {
            deleteTree(work);
        }
    }

    /**
     * The path, relative to the base directory, where par2 0.8.1's verify and repair look for a file
     * stored under {@code storedName}: bytes below 0x20 become {@code %XX} (upper-case hex) and a
     * backslash becomes a directory separator. create stores the name as it is, so a name with such
     * bytes is only found under this other name.
     */
    public static byte[] nameOnDisk(byte[] storedName) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(storedName.length + 8);
        for (byte b : storedName) {
            if (b >= 0 && b < 0x20) {
                out.writeBytes(String.format("%%%02X", b).getBytes(StandardCharsets.US_ASCII));
            } else {
                out.write(b == '\\' ? '/' : b);
            }
        }
        return out.toByteArray();
    }

    private ExternalProcess.Outcome verifyIn(Path dir, Path par2File) throws IOException {
        return ExternalProcess.run(
                List.of(arg(binary), arg("verify"), arg("-q"), arg("-B"), arg(dir), arg("--"), arg(par2File)),
                timeout,
                cancel);
    }

    /**
     * The name the set stores, when it is one custos can place under a directory: relative, with no
     * ".." step (a crafted set must not make repair write elsewhere). Null otherwise, and when the set
     * cannot be read: par2 then reports the problem itself.
     */
    private static byte[] storedName(Path par2File) {
        byte[] name;
        try {
            name = Par2Set.read(par2File).storedName();
        } catch (IOException e) {
            return null;
        }
        if (name == null || name.length == 0 || name[0] == '/') {
            return null;
        }
        for (byte[] path : List.of(name, nameOnDisk(name))) {
            for (String step : new String(path, StandardCharsets.ISO_8859_1).split("/", -1)) {
                if (step.equals("..") || step.indexOf('\0') >= 0) {
                    return null;
                }
            }
        }
        return name;
    }

    /** A second name for the data file inside the work directory; a copy where hard links fail. */
    private static void linkOrCopy(Path original, Path alias) throws IOException {
        Files.createDirectories(alias.getParent());
        try {
            Files.createLink(alias, original);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(original, alias, StandardCopyOption.COPY_ATTRIBUTES);
        }
    }

    private static Object fileKey(Path p) throws IOException {
        return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                .fileKey();
    }

    /** The repaired file is par2's new file: give it the original's permissions, and owner where allowed. */
    private static void copyOwnership(Path original, Path repaired) {
        try {
            PosixFileAttributes a =
                    Files.readAttributes(original, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            Files.setPosixFilePermissions(repaired, a.permissions());
            PosixFileAttributeView view =
                    Files.getFileAttributeView(repaired, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            view.setGroup(a.group());
            view.setOwner(a.owner());
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // Without root the owner cannot change; the content is what matters.
        }
    }

    private static Path dataPath(Path parent, Path name) {
        byte[] n = RawPaths.bytes(name);
        return n.length == 1 ? RawPaths.resolve(parent, new byte[] {'.', '/', n[0]}) : parent.resolve(name);
    }

    private static Par2Exception failure(String command, ExternalProcess.Outcome o) {
        String how = o.timedOut()
                ? "timed out after " + o.millis() + " ms"
                : o.cancelled() ? "was cancelled" : "failed with exit code " + o.exitCode();
        String last = o.lastLine();
        return new Par2Exception(
                "par2 " + command + " " + how + (last.isEmpty() ? "" : ": " + last),
                o.exitCode(),
                o.timedOut(),
                o.cancelled(),
                null);
    }

    /** The one recovery volume {@code <setName>.vol<a>+<b>.par2} par2 wrote next to the index file. */
    private static Path onlyVolume(Path work, String setName) throws IOException {
        String prefix = setName + ".vol";
        List<Path> volumes = new ArrayList<>();
        List<String> others = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(work)) {
            for (Path p : ds) {
                String n = name(p);
                if (n.startsWith(latin1(prefix)) && n.endsWith(".par2")) {
                    volumes.add(p);
                } else if (!n.equals(latin1(setName + ".par2"))) {
                    others.add(RawPaths.display(RawPaths.bytes(p.getFileName())));
                }
            }
        }
        if (volumes.size() != 1 || !others.isEmpty()) {
            throw new IOException("par2 wrote " + volumes.size() + " recovery volumes, expected one"
                    + (others.isEmpty() ? "" : ", and also " + others));
        }
        return volumes.get(0);
    }

    private static String name(Path p) {
        return new String(RawPaths.bytes(p.getFileName()), StandardCharsets.ISO_8859_1);
    }

    private static String latin1(String utf8) {
        return new String(arg(utf8), StandardCharsets.ISO_8859_1);
    }

    /** Removes a work directory; best effort: a hidden leftover is harmless, the next run uses a new one. */
    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            // Left for the next run to ignore.
        }
    }
}
