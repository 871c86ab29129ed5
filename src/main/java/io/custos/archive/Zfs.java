package io.custos.archive;

import static io.custos.exec.ExternalProcess.arg;

import io.custos.exec.ExternalProcess;
import io.custos.fs.FileIdentity;
import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import io.custos.run.CustosException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code zfs} command, run through {@link ExternalProcess} with a timeout. Everything custos
 * reads from zfs comes from its script forms ({@code -H}, and {@code -p} for numbers), and only
 * from forms that both OpenZFS (TrueNAS) and zfs-fuse 0.7 accept: zfs-fuse's {@code zfs list} has
 * no {@code -p}, so numbers are read with {@code zfs get -H -p}, which both have.
 *
 * <p>Output that is parsed goes to a temporary file rather than through the wrapper's bounded
 * buffer: a NAS with hundreds of snapshots or a large {@code zfs diff} prints far more than an
 * error message, and stderr must not mix into it.
 */
public final class Zfs {
    /** How long an ordinary zfs command (list, snapshot, clone, destroy) may take. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);
    /** How long {@code zfs diff} may take: it walks every changed object of the dataset. */
    public static final Duration DEFAULT_DIFF_TIMEOUT = Duration.ofHours(2);

    /**
     * zfs-fuse answers "dataset is busy" for a moment after a dataset was last used (about 50-100
     * ms here). Waits between attempts start at {@value #FIRST_PAUSE_MILLIS} ms and double up to
     * {@value #LONGEST_PAUSE_MILLIS} ms: under 3 s in all.
     */
    static final int BUSY_ATTEMPTS = 10;

    static final long FIRST_PAUSE_MILLIS = 50;
    static final long LONGEST_PAUSE_MILLIS = 400;

    /** Redirects stdout of the rest of the command line to the file in {@code $1}; stderr stays. */
    private static final String STDOUT_TO_FILE = "out=$1; shift; exec \"$@\" >\"$out\"";

    /** A dataset (filesystem) and the directory it is mounted on. */
    public record Dataset(String name, Path mountpoint) {
        /** The pool: the first component of the name. */
        public String pool() {
            int slash = name.indexOf('/');
            return slash < 0 ? name : name.substring(0, slash);
        }
    }

    /** A snapshot: {@code dataset@shortName}, and when it was made (seconds since the epoch). */
    public record Snapshot(String fullName, String shortName, long createdEpochSeconds) {
        public String dataset() {
            return fullName.substring(0, fullName.indexOf('@'));
        }
    }

    /**
     * One line of {@code zfs diff -H -F}: {@code kind} is {@code M} (modified), {@code +}
     * (created), {@code -} (removed) or {@code R} (renamed); {@code type} is the {@code -F} letter
     * ({@code F} file, {@code /} directory, {@code @} symlink, {@code |} FIFO, {@code =} socket,
     * {@code B}/{@code C} devices); {@code path} is absolute (the dataset's mountpoint followed by
     * the path inside it), as raw bytes; {@code newPath} is the new name of a rename, else null. A
     * change of link count ({@code M ... (+1)}) is an {@code M} whose count is not kept.
     */
    public record Change(char kind, char type, byte[] path, byte[] newPath) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Change c
                    && kind == c.kind
                    && type == c.type
                    && Arrays.equals(path, c.path)
                    && Arrays.equals(newPath, c.newPath);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * (31 * kind + type) + Arrays.hashCode(path)) + Arrays.hashCode(newPath);
        }

        @Override
        public String toString() {
            return kind + " " + type + " " + RawPaths.display(path)
                    + (newPath == null ? "" : " -> " + RawPaths.display(newPath));
        }
    }

    /** Waits between attempts; a test puts its own in to act at the moment of a retry. */
    interface Pause {
        void pause(long millis) throws InterruptedException;
    }

    private final Path binary;
    private final Duration timeout;
    private final Duration diffTimeout;
    private final CancelToken cancel;
    private final Pause pause;

    public Zfs(Path binary, Duration timeout, Duration diffTimeout, CancelToken cancel) {
        this(binary, timeout, diffTimeout, cancel, Thread::sleep);
    }

    Zfs(Path binary, Duration timeout, Duration diffTimeout, CancelToken cancel, Pause pause) {
        this.binary = binary;
        this.timeout = timeout;
        this.diffTimeout = diffTimeout;
        this.cancel = cancel;
        this.pause = pause;
    }

    /**
     * The {@code zfs} program on {@code env}'s PATH, with the default timeouts.
     *
     * @throws CustosException (environment, exit 5) when there is none
     */
    public static Zfs find(Map<String, String> env, CancelToken cancel) {
        Path zfs = ExternalProcess.find("zfs", env);
        if (zfs == null) {
            throw CustosException.environment(
                    "the zfs program was not found on PATH (needed for ZFS snapshots; set snapshot.mode to \"none\""
                            + " to archive without one)",
                    null);
        }
        return new Zfs(zfs, DEFAULT_TIMEOUT, DEFAULT_DIFF_TIMEOUT, cancel);
    }

    /** Every mounted filesystem dataset with a mountpoint ({@code zfs list -t filesystem}). */
    public List<Dataset> filesystems() throws ZfsException {
        byte[] out = capture(
                timeout,
                "zfs list",
                arg("list"),
                arg("-H"),
                arg("-t"),
                arg("filesystem"),
                arg("-o"),
                arg("name,mountpoint,mounted"));
        return parseFilesystems(out);
    }

    /**
     * The mounted filesystem dataset that holds {@code dir}: the one whose mountpoint is the
     * longest path prefix of {@code dir}'s real path. Null when {@code dir} is not on ZFS, and also
     * when the directory lies on another filesystem mounted inside a dataset (a bind mount, a
     * tmpfs): a snapshot of the dataset would not hold its files.
     *
     * @throws IOException when {@code dir} cannot be resolved (missing, unreadable)
     */
    public Dataset datasetOf(Path dir) throws ZfsException, IOException {
        Path real = dir.toRealPath();
        Dataset d = containing(filesystems(), real);
        if (d == null) {
            return null;
        }
        return FileIdentity.of(real).device() == FileIdentity.of(d.mountpoint()).device() ? d : null;
    }

    /** Makes the snapshot {@code dataset@name}. */
    public void snapshot(String fullName) throws ZfsException {
        requireSnapshotName(fullName);
        run(timeout, "zfs snapshot " + fullName, arg("snapshot"), arg(fullName));
    }

    /**
     * The snapshots of {@code dataset} itself (not of its children), oldest first in the order ZFS
     * made them ({@code createtxg}), which a clock set back cannot disturb.
     */
    public List<Snapshot> snapshots(String dataset) throws ZfsException {
        byte[] out = capture(
                timeout,
                "zfs get creation of the snapshots of " + dataset,
                arg("get"),
                arg("-H"),
                arg("-p"),
                arg("-r"),
                arg("-d"),
                arg("1"),
                arg("-o"),
                arg("name,property,value"),
                arg("creation,createtxg"),
                arg(dataset));
        return parseSnapshots(dataset, out);
    }

    /**
     * Destroys one snapshot or dataset, never recursively (a snapshot with clones, a dataset with
     * children or snapshots stays and this throws). An answer of "busy" is tried again, up to
     * {@value #BUSY_ATTEMPTS} attempts in under 3 s.
     */
    public void destroy(String snapshotOrDataset) throws ZfsException {
        if (snapshotOrDataset.indexOf('@') < 0 && snapshotOrDataset.indexOf('/') < 0) {
            throw new IllegalArgumentException("not a snapshot or a dataset below a pool: " + snapshotOrDataset);
        }
        for (int attempt = 1; ; attempt++) {
            ExternalProcess.Outcome o = exec(
                    timeout,
                    "zfs destroy " + snapshotOrDataset,
                    command(List.of(arg("destroy"), arg(snapshotOrDataset))));
            if (o.ok()) {
                return;
            }
            if (attempt >= BUSY_ATTEMPTS
                    || o.timedOut()
                    || o.cancelled()
                    || !o.output().contains("busy")) {
                throw failure("zfs destroy " + snapshotOrDataset, o);
            }
            try {
                pause.pause(Math.min(LONGEST_PAUSE_MILLIS, FIRST_PAUSE_MILLIS << (attempt - 1)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ZfsException("zfs destroy " + snapshotOrDataset + ": interrupted", -1, false, true, e);
            }
        }
    }

    /**
     * Clones {@code snapshot} as the read-only filesystem {@code cloneName} and returns where it is
     * mounted (it inherits its mountpoint from its parent). A clone that did not get mounted is
     * destroyed again and this throws. Destroy the clone with {@link #destroy}.
     */
    public Path cloneReadOnly(String snapshot, String cloneName) throws ZfsException {
        requireSnapshotName(snapshot);
        run(
                timeout,
                "zfs clone " + snapshot + " " + cloneName,
                arg("clone"),
                arg("-o"),
                arg("readonly=on"),
                arg(snapshot),
                arg(cloneName));
        Dataset mounted = null;
        ZfsException listing = null;
        try {
            byte[] out = capture(
                    timeout,
                    "zfs list " + cloneName,
                    arg("list"),
                    arg("-H"),
                    arg("-o"),
                    arg("name,mountpoint,mounted"),
                    arg(cloneName));
            List<Dataset> found = parseFilesystems(out);
            mounted = found.isEmpty() ? null : found.get(0);
        } catch (ZfsException e) {
            listing = e;
        }
        if (mounted == null) {
            try {
                destroy(cloneName);
            } catch (ZfsException e) {
                if (listing != null) {
                    listing.addSuppressed(e);
                } else {
                    listing = new ZfsException(
                            "clone " + cloneName + " was not mounted and cannot be destroyed", -1, false, false, e);
                }
            }
            throw listing != null
                    ? listing
                    : new ZfsException("clone " + cloneName + " was not mounted (its parent has no mountpoint?)");
        }
        return mounted.mountpoint();
    }

    /**
     * The filesystems directly below {@code parent} that are clones, each with the snapshot it was
     * cloned from ({@code zfs get origin}).
     */
    public Map<String, String> clonesBelow(String parent) throws ZfsException {
        byte[] out = capture(
                timeout,
                "zfs get origin below " + parent,
                arg("get"),
                arg("-H"),
                arg("-r"),
                arg("-d"),
                arg("1"),
                arg("-o"),
                arg("name,value"),
                arg("origin"),
                arg(parent));
        Map<String, String> clones = new LinkedHashMap<>();
        for (String line : lines(out)) {
            String[] f = line.split("\t", -1);
            if (f.length != 2) {
                throw new ZfsException("unexpected line from zfs get origin: " + line);
            }
            if (f[0].startsWith(parent + "/") && f[0].indexOf('@') < 0 && f[1].indexOf('@') > 0) {
                clones.put(utf8(f[0]), utf8(f[1]));
            }
        }
        return clones;
    }

    /**
     * Where the snapshot can be read without a clone: {@code <mountpoint>/.zfs/snapshot/<shortName>}
     * when that directory exists (OpenZFS, TrueNAS; it exists even with {@code snapdir=hidden}, it
     * is only left out of listings), else null (zfs-fuse has no {@code .zfs}).
     */
    public static Path snapshotDir(Dataset d, String shortName) {
        if (shortName.isEmpty() || shortName.indexOf('/') >= 0 || shortName.equals(".") || shortName.equals("..")) {
            throw new IllegalArgumentException("not a snapshot name: " + shortName);
        }
        Path dir = d.mountpoint().resolve(".zfs").resolve("snapshot").resolve(shortName);
        return Files.isDirectory(dir) ? dir : null;
    }

    /**
     * {@code zfs diff -H -F from to}: what changed between a snapshot and a later snapshot of the
     * same dataset (or the dataset as it is now). Null when this zfs has no {@code zfs diff}
     * (zfs-fuse answers "unrecognized command 'diff'"): the caller falls back to comparing
     * manifests.
     */
    public List<Change> diff(String fromSnapshot, String toSnapshotOrDataset) throws ZfsException {
        requireSnapshotName(fromSnapshot);
        String what = "zfs diff " + fromSnapshot + " " + toSnapshotOrDataset;
        Path out = tempFile(what);
        try {
            ExternalProcess.Outcome o = exec(
                    diffTimeout,
                    what,
                    toFile(
                            out,
                            List.of(arg("diff"), arg("-H"), arg("-F"), arg(fromSnapshot), arg(toSnapshotOrDataset))));
            if (!o.ok()) {
                if (!o.timedOut() && !o.cancelled() && unsupported(o.output())) {
                    return null;
                }
                throw failure(what, o);
            }
            try (InputStream in = new BufferedInputStream(Files.newInputStream(out), 1 << 16)) {
                return parseDiff(in);
            } catch (IOException e) {
                throw new ZfsException(what + ": cannot read its output: " + e.getMessage(), -1, false, false, e);
            }
        } finally {
            deleteQuietly(out);
        }
    }

    /** zfs-fuse and OpenZFS both print this for a subcommand they do not have. */
    static boolean unsupported(String output) {
        return output.contains("unrecognized command") || output.contains("invalid command");
    }

    // ---- parsing (package-private for the tests on recorded output) ----

    /** {@code name<TAB>mountpoint<TAB>mounted} lines: the mounted ones with an absolute mountpoint. */
    static List<Dataset> parseFilesystems(byte[] out) throws ZfsException {
        List<Dataset> result = new ArrayList<>();
        for (String line : lines(out)) {
            int first = line.indexOf('\t');
            int last = line.lastIndexOf('\t');
            if (first < 0 || last == first) {
                throw new ZfsException("unexpected line from zfs list: " + line);
            }
            String name = utf8(line.substring(0, first));
            String mountpoint = line.substring(first + 1, last);
            String mounted = line.substring(last + 1);
            if (mounted.equals("yes") && mountpoint.startsWith("/")) {
                result.add(new Dataset(name, RawPaths.path(mountpoint.getBytes(StandardCharsets.ISO_8859_1))));
            }
        }
        return result;
    }

    /** The dataset whose mountpoint is the longest prefix of {@code realPath}, or null. */
    static Dataset containing(List<Dataset> filesystems, Path realPath) {
        Dataset best = null;
        for (Dataset d : filesystems) {
            if (realPath.startsWith(d.mountpoint())
                    && (best == null
                            || d.mountpoint().getNameCount() > best.mountpoint().getNameCount())) {
                best = d;
            }
        }
        return best;
    }

    /**
     * {@code name<TAB>property<TAB>value} lines of {@code creation} and {@code createtxg}: the
     * snapshots of {@code dataset} itself, oldest first. Children, their snapshots and bookmarks
     * ({@code dataset#mark}) are left out.
     */
    static List<Snapshot> parseSnapshots(String dataset, byte[] out) throws ZfsException {
        String prefix = dataset + "@";
        Map<String, long[]> found = new LinkedHashMap<>();
        for (String line : lines(out)) {
            String[] f = line.split("\t", -1);
            if (f.length != 3) {
                throw new ZfsException("unexpected line from zfs get: " + line);
            }
            String name = utf8(f[0]);
            if (!name.startsWith(prefix)) {
                continue;
            }
            long value;
            try {
                value = Long.parseLong(f[2]);
            } catch (NumberFormatException e) {
                throw new ZfsException("unexpected " + f[1] + " of " + name + " from zfs get: " + f[2]);
            }
            long[] v = found.computeIfAbsent(name, k -> new long[] {Long.MIN_VALUE, Long.MIN_VALUE});
            switch (f[1]) {
                case "creation" -> v[0] = value;
                case "createtxg" -> v[1] = value;
                default -> throw new ZfsException("unexpected property from zfs get: " + line);
            }
        }
        List<Map.Entry<String, long[]>> entries = new ArrayList<>(found.entrySet());
        for (Map.Entry<String, long[]> e : entries) {
            if (e.getValue()[0] == Long.MIN_VALUE || e.getValue()[1] == Long.MIN_VALUE) {
                throw new ZfsException("zfs get did not give both creation and createtxg of " + e.getKey());
            }
        }
        entries.sort(Comparator.<Map.Entry<String, long[]>>comparingLong(e -> e.getValue()[1])
                .thenComparingLong(e -> e.getValue()[0])
                .thenComparing(Map.Entry::getKey));
        List<Snapshot> result = new ArrayList<>(entries.size());
        for (Map.Entry<String, long[]> e : entries) {
            result.add(new Snapshot(e.getKey(), e.getKey().substring(prefix.length()), e.getValue()[0]));
        }
        return result;
    }

    /**
     * {@code zfs diff -H -F} lines: {@code <kind>\t<type>\t<path>}, a rename with {@code
     * \t<new path>}, a change of link count with {@code \t(+N)}. A line of any other shape throws:
     * a diff that is misread would make the archive miss a change.
     */
    static List<Change> parseDiff(InputStream in) throws IOException, ZfsException {
        List<Change> result = new ArrayList<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                addChange(result, line.toByteArray());
                line.reset();
            } else {
                line.write(b);
            }
        }
        addChange(result, line.toByteArray());
        return result;
    }

    private static void addChange(List<Change> result, byte[] line) throws ZfsException {
        if (line.length == 0) {
            return;
        }
        String text = new String(line, StandardCharsets.ISO_8859_1);
        String[] f = text.split("\t", -1);
        if (f.length < 3
                || f.length > 4
                || f[0].length() != 1
                || "M+-R".indexOf(f[0].charAt(0)) < 0
                || f[1].length() != 1
                || "BC/>|@P=F?".indexOf(f[1].charAt(0)) < 0
                || !f[2].startsWith("/")) {
            throw new ZfsException("unexpected line from zfs diff: " + RawPaths.display(line));
        }
        char kind = f[0].charAt(0);
        byte[] newPath = null;
        if (kind == 'R') {
            if (f.length != 4 || !f[3].startsWith("/")) {
                throw new ZfsException("a rename without its new name from zfs diff: " + RawPaths.display(line));
            }
            newPath = unescape(f[3]);
        } else if (f.length == 4 && !(kind == 'M' && f[3].matches("\\([+-]\\d+\\)"))) {
            throw new ZfsException("unexpected line from zfs diff: " + RawPaths.display(line));
        }
        result.add(new Change(kind, f[1].charAt(0), unescape(f[2]), newPath));
    }

    /**
     * Undoes zfs diff's escaping: every byte that is not printable ASCII, the space and the
     * backslash are written as a backslash and octal digits — four ({@code \0040}) since OpenZFS
     * 2.0, three ({@code \040}) before. Four digits are taken when they start with 0 and stay below
     * 0400; otherwise three. (Only a control byte followed by a digit could be misread, and only in
     * the old form.)
     */
    static byte[] unescape(String escaped) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(escaped.length());
        int i = 0;
        int n = escaped.length();
        while (i < n) {
            char c = escaped.charAt(i);
            if (c == '\\'
                    && octalDigits(escaped, i + 1, 4)
                    && escaped.charAt(i + 1) == '0'
                    && escaped.charAt(i + 2) <= '3') {
                out.write(Integer.parseInt(escaped.substring(i + 1, i + 5), 8));
                i += 5;
            } else if (c == '\\' && octalDigits(escaped, i + 1, 3) && escaped.charAt(i + 1) <= '3') {
                out.write(Integer.parseInt(escaped.substring(i + 1, i + 4), 8));
                i += 4;
            } else {
                out.write(c);
                i++;
            }
        }
        return out.toByteArray();
    }

    private static boolean octalDigits(String s, int from, int count) {
        if (from + count > s.length()) {
            return false;
        }
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '7') {
                return false;
            }
        }
        return true;
    }

    /** Lines of output read byte for byte (ISO-8859-1), without blank ones. */
    private static List<String> lines(byte[] out) {
        List<String> result = new ArrayList<>();
        for (String line : new String(out, StandardCharsets.ISO_8859_1).split("\n")) {
            if (!line.isEmpty()) {
                result.add(line);
            }
        }
        return result;
    }

    /** Text that was read byte for byte, as the UTF-8 it is (dataset names are UTF-8). */
    private static String utf8(String latin1) {
        return new String(latin1.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    private static void requireSnapshotName(String fullName) {
        int at = fullName.indexOf('@');
        if (at <= 0 || at == fullName.length() - 1 || fullName.indexOf('@', at + 1) >= 0) {
            throw new IllegalArgumentException("not a snapshot name (dataset@name): " + fullName);
        }
    }

    // ---- running zfs ----

    private void run(Duration limit, String what, byte[]... args) throws ZfsException {
        ExternalProcess.Outcome o = exec(limit, what, command(List.of(args)));
        if (!o.ok()) {
            throw failure(what, o);
        }
    }

    /** Runs zfs with {@code args}, its stdout into a temp file, and returns what it printed there. */
    private byte[] capture(Duration limit, String what, byte[]... args) throws ZfsException {
        Path out = tempFile(what);
        try {
            ExternalProcess.Outcome o = exec(limit, what, toFile(out, List.of(args)));
            if (!o.ok()) {
                throw failure(what, o);
            }
            return Files.readAllBytes(out);
        } catch (IOException e) {
            throw new ZfsException(what + ": cannot read its output: " + e.getMessage(), -1, false, false, e);
        } finally {
            deleteQuietly(out);
        }
    }

    /** The argv that runs zfs with {@code args} and stdout sent to {@code out}. */
    private List<byte[]> toFile(Path out, List<byte[]> args) {
        List<byte[]> argv = new ArrayList<>(args.size() + 6);
        argv.add(arg("/bin/sh"));
        argv.add(arg("-c"));
        argv.add(arg(STDOUT_TO_FILE));
        argv.add(arg("sh"));
        argv.add(arg(out));
        argv.add(arg(binary));
        argv.addAll(args);
        return argv;
    }

    /** zfs with {@code args}. */
    private List<byte[]> command(List<byte[]> args) {
        List<byte[]> argv = new ArrayList<>(args.size() + 1);
        argv.add(arg(binary));
        argv.addAll(args);
        return argv;
    }

    private ExternalProcess.Outcome exec(Duration limit, String what, List<byte[]> argv) throws ZfsException {
        try {
            return ExternalProcess.run(argv, limit, cancel);
        } catch (IOException e) {
            throw new ZfsException(what + ": " + e.getMessage(), -1, false, false, e);
        }
    }

    private static Path tempFile(String what) throws ZfsException {
        try {
            return Files.createTempFile("custos-zfs-", ".out");
        } catch (IOException e) {
            throw new ZfsException(what + ": no temporary file for its output: " + e.getMessage(), -1, false, false, e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // A leftover temp file is harmless; the result stands.
        }
    }

    private static ZfsException failure(String what, ExternalProcess.Outcome o) {
        String how;
        if (o.timedOut()) {
            how = "timed out after " + o.millis() + " ms";
        } else if (o.cancelled()) {
            how = "cancelled";
        } else {
            String last = o.lastLine();
            how = "exit " + o.exitCode() + (last.isEmpty() ? "" : ": " + last);
        }
        return new ZfsException(what + " failed (" + how + ")", o.exitCode(), o.timedOut(), o.cancelled(), null);
    }
}
