package io.custos.repair;

import io.custos.archive.Zfs;
import io.custos.archive.ZfsException;
import io.custos.catalog.Catalog;
import io.custos.catalog.EventType;
import io.custos.catalog.FileRow;
import io.custos.catalog.FileStatus;
import io.custos.config.Config;
import io.custos.fs.AtomicFiles;
import io.custos.fs.FileIdentity;
import io.custos.fs.Permissions;
import io.custos.fs.RawPaths;
import io.custos.parity.Par2;
import io.custos.parity.Par2Set;
import io.custos.parity.ParityStore;
import io.custos.run.CancelToken;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.run.Problem;
import io.custos.run.RunContext;
import io.custos.run.Stats;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Repairs a damaged or truncated file (SPEC §6). Sources, in order, until one yields content that
 * hashes to the recorded SHA-256: another cataloged copy of the content on another inode; par2
 * repair of a copy from the content's parity set (par2 renames and rewrites files, so it never
 * sees the original). ZFS snapshots come with the archive job's ZFS support. The good content is
 * written to a temp file beside the original, checked, given the original's owner, mode and
 * mtime, and renamed over it; the damaged original is copied to {@code _quarantine/} first. Other
 * cataloged hardlinks of the damaged inode are linked to the repaired file.
 */
public final class RepairChain {
    /** What became of one file. {@code source}: duplicate, par2, or null when nothing could repair it. */
    public record Outcome(String source, String message, boolean repaired) {}

    private final RunContext ctx;
    private final Config config;
    private final Catalog catalog;
    private final Path parityRoot;
    private final ParityStore parity;
    private final Par2 par2;
    private final long runId;
    private final Clock clock;
    private final Log log;
    private final CancelToken cancel;
    private final Stats stats;
    private final Permissions permissions;
    private Map<Long, Config.Root> roots;

    public RepairChain(RunContext ctx) {
        this.ctx = ctx;
        this.config = ctx.config();
        this.catalog = ctx.catalog();
        this.parityRoot = ctx.parityRoot();
        this.runId = ctx.runId();
        this.clock = ctx.clock();
        this.log = ctx.log();
        this.cancel = ctx.cancel();
        this.stats = ctx.stats();
        this.permissions = new Permissions(config.process().umask());
        this.parity = new ParityStore(ctx);
        this.par2 = ctx.par2() == null
                ? null
                : new Par2(ctx.par2(), Duration.ofSeconds(config.parity().timeoutSeconds()), cancel);
    }

    /** Repairs one file; with {@code dryRun} only says which source would be used and writes nothing. */
    public Outcome repair(Config.Root root, FileRow row, boolean dryRun) {
        Path file = RawPaths.resolve(RawPaths.path(root.path()), row.path());
        String where = root.name() + "/" + RawPaths.display(row.path());
        FileIdentity before;
        try {
            before = FileIdentity.of(file);
        } catch (NoSuchFileException e) {
            return failed(root, row, dryRun, "not found (a scan records it as deleted or moved)", false);
        } catch (IOException e) {
            return failed(root, row, dryRun, "cannot read it: " + e.getMessage(), false);
        }
        if (before.kind() != FileIdentity.Kind.FILE || before.mtimeNs() != row.mtimeNs()) {
            return failed(
                    root,
                    row,
                    dryRun,
                    "it was modified since it was found damaged; it is left alone (run custos scan to record the new content)",
                    false);
        }
        if (before.size() == row.size()) {
            byte[] now = sha256Of(file);
            if (now != null && Arrays.equals(now, row.sha256())) {
                if (!dryRun) {
                    catalog.inTransaction(() -> {
                        catalog.files().setStatus(row.id(), FileStatus.OK, clock.millis());
                        catalog.files().markVerified(row.id(), clock.millis());
                        ctx.event(EventType.VERIFIED, row.rootId(), row.id(), row.path(), "{\"status\":\"ok\"}");
                    });
                    stats.inc("files_verified");
                }
                log.info("%s holds its recorded content again: nothing to repair", where);
                return new Outcome(null, "holds its recorded content again: nothing to repair", !dryRun);
            }
        }

        Path temp = file.resolveSibling(".custos-repair-" + runId + "-" + row.id());
        for (FileRow dup : duplicates(row, before)) {
            if (cancel.cancelled()) {
                return new Outcome(null, "interrupted", false);
            }
            Config.Root dupRoot = rootOf(dup.rootId());
            if (dupRoot == null) {
                continue;
            }
            Path src = RawPaths.resolve(RawPaths.path(dupRoot.path()), dup.path());
            String from = dupRoot.name() + "/" + RawPaths.display(dup.path());
            if (dryRun) {
                byte[] h = sha256Of(src);
                if (h != null && Arrays.equals(h, row.sha256())) {
                    return new Outcome("duplicate", "would copy from " + from, false);
                }
                continue;
            }
            if (copyChecked(src, temp, row.sha256())) {
                return install(root, row, file, before, temp, "duplicate", from);
            }
        }

        Outcome fromZfs = fromSnapshots(root, row, file, before, temp, dryRun);
        if (fromZfs != null) {
            return fromZfs;
        }

        Path set = parity.setFile(row.sha256());
        if (par2 == null || !Files.exists(set, LinkOption.NOFOLLOW_LINKS)) {
            return failed(root, row, dryRun, "no other copy of the content and no parity set to repair it from", true);
        }
        Par2Set.Info info;
        try {
            info = Par2Set.read(set);
        } catch (IOException e) {
            return failed(root, row, dryRun, "its parity set cannot be read: " + e.getMessage(), true);
        }
        if (!info.healthy() || info.fileSize() != row.size()) {
            return failed(
                    root,
                    row,
                    dryRun,
                    "its parity set is damaged (" + (info.problem() == null ? "describes another size" : info.problem())
                            + ")",
                    true);
        }
        if (dryRun) {
            return new Outcome(
                    "par2",
                    "would try par2 on a copy: its set can rebuild up to " + info.recoveryBlocks()
                            + " damaged blocks of " + info.blockSize() + " bytes",
                    false);
        }
        String failure = repairWithPar2(file, set, info, temp, row.sha256());
        if (failure == null) {
            return install(root, row, file, before, temp, "par2", set.toString());
        }
        return failed(root, row, false, failure, true);
    }

    /** How many of a dataset's snapshots, newest first, a repair looks into. */
    private static final int SNAPSHOTS_TRIED = 20;

    /**
     * The second source: the file as it is in a ZFS snapshot of its dataset, newest snapshot first,
     * read through {@code .zfs/snapshot} or a read-only clone destroyed at once. Null when the file
     * is not on ZFS, {@code zfs} is missing, or no snapshot holds the recorded content.
     */
    private Outcome fromSnapshots(
            Config.Root root, FileRow row, Path file, FileIdentity before, Path temp, boolean dryRun) {
        if (io.custos.exec.ExternalProcess.find("zfs", Map.of()) == null) {
            return null;
        }
        Zfs zfs = Zfs.find(Map.of(), cancel);
        try {
            Path real = file.toRealPath();
            Zfs.Dataset d = zfs.datasetOf(real.getParent());
            if (d == null) {
                return null;
            }
            Path rel = d.mountpoint().relativize(real);
            List<Zfs.Snapshot> snaps = new ArrayList<>(zfs.snapshots(d.name()));
            java.util.Collections.reverse(snaps);
            int n = 0;
            for (Zfs.Snapshot s : snaps) {
                if (n++ == SNAPSHOTS_TRIED || cancel.cancelled()) {
                    break;
                }
                Path dir = Zfs.snapshotDir(d, s.shortName());
                String clone = null;
                if (dir == null) {
                    if (dryRun) {
                        continue; // a dry run makes no clone
                    }
                    clone = d.pool() + "/custos-repair-" + runId + "-" + row.id() + "-" + n;
                    dir = zfs.cloneReadOnly(s.fullName(), clone);
                }
                try {
                    Path src = dir.resolve(rel);
                    if (!Files.isRegularFile(src, LinkOption.NOFOLLOW_LINKS)) {
                        continue;
                    }
                    if (dryRun) {
                        byte[] h = sha256Of(src);
                        if (h != null && Arrays.equals(h, row.sha256())) {
                            return new Outcome("zfs", "would copy from snapshot " + s.fullName(), false);
                        }
                    } else if (copyChecked(src, temp, row.sha256())) {
                        return install(root, row, file, before, temp, "zfs", s.fullName());
                    }
                } finally {
                    if (clone != null) {
                        zfs.destroy(clone);
                    }
                }
            }
        } catch (ZfsException | IOException e) {
            log.warn(
                    "%s/%s: ZFS snapshots could not be searched: %s",
                    root.name(), RawPaths.display(row.path()), e.getMessage());
        }
        return null;
    }

    /** par2 repair of a copy in a temp directory on the parity filesystem; the result is copied to {@code temp}. */
    private String repairWithPar2(Path file, Path set, Par2Set.Info info, Path temp, byte[] sha256) {
        // The copy goes under the name the set stores; Par2.repair copes with par2's own renaming.
        byte[] name = info.storedName();
        if (name == null
                || name.length == 0
                || name[0] == '/'
                || RawPaths.display(name).contains("..")) {
            return "its parity set names no usable file";
        }
        Path work = parityRoot.resolve("_tmp").resolve("repair-" + runId + "-" + Long.toHexString(System.nanoTime()));
        try {
            Path data = permissions.createDirectories(work.resolve("data"));
            Path sets = permissions.createDirectories(work.resolve("set"));
            Path copy = RawPaths.resolve(data, name);
            Files.createDirectories(copy.getParent());
            Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING);
            Path setCopy = sets.resolve(set.getFileName());
            Files.copy(set, setCopy, StandardCopyOption.REPLACE_EXISTING);
            int threads = Runtime.getRuntime().availableProcessors();
            var out = par2.repair(data, setCopy, threads);
            if (!out.ok()) {
                return out.timedOut()
                        ? "par2 repair timed out (parity.timeout_seconds)"
                        : "par2 could not repair it (exit " + out.exitCode() + ": " + out.lastLine() + ")";
            }
            if (!copyChecked(copy, temp, sha256)) {
                return "par2 repaired it but the result does not hash to the recorded SHA-256";
            }
            return null;
        } catch (IOException e) {
            return "par2 repair failed: " + e.getMessage();
        } finally {
            deleteTree(work);
        }
    }

    /**
     * Puts the checked content in {@code temp} in place of the damaged file: owner, mode and mtime
     * of the original, original to quarantine, rename, catalog.
     */
    private Outcome install(
            Config.Root root, FileRow row, Path file, FileIdentity before, Path temp, String source, String from) {
        String where = root.name() + "/" + RawPaths.display(row.path());
        try {
            Map<String, Object> unix = Files.readAttributes(file, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
            try {
                Files.setAttribute(temp, "unix:uid", unix.get("uid"), LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(temp, "unix:gid", unix.get("gid"), LinkOption.NOFOLLOW_LINKS);
            } catch (IOException | SecurityException e) {
                log.warn("%s: cannot give the repaired file its owner: %s", where, e.getMessage());
            }
            Files.setAttribute(temp, "unix:mode", ((Integer) unix.get("mode")) & 07777, LinkOption.NOFOLLOW_LINKS);
            Files.setLastModifiedTime(temp, FileTime.from(row.mtimeNs(), TimeUnit.NANOSECONDS));
            FileIdentity now = FileIdentity.of(file);
            if (now.inode() != before.inode() || now.size() != before.size() || now.mtimeNs() != before.mtimeNs()) {
                Files.deleteIfExists(temp);
                return failed(root, row, false, "it changed while it was being repaired; it is left alone", false);
            }
            Path q = new Quarantine(ctx).of(root.name(), row);
            permissions.createDirectories(q.getParent());
            Files.copy(file, q, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
            fsync(q);
            AtomicFiles.moveIntoPlace(temp, file);
            FileIdentity repaired = FileIdentity.of(file);
            List<FileRow> links = before.links() > 1 ? otherLinks(row, before) : List.of();
            catalog.inTransaction(() -> {
                record(row, repaired, source, from, q);
                for (FileRow other : links) {
                    Config.Root r = rootOf(other.rootId());
                    if (r != null && relink(file, RawPaths.resolve(RawPaths.path(r.path()), other.path()))) {
                        record(other, repaired, "hardlink", where, null);
                    }
                }
            });
            log.info("repaired %s from %s %s; the damaged file is in %s", where, source, from, q);
            return new Outcome(source, "repaired from " + source + " " + from, true);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // the next repair overwrites it
            }
            return failed(root, row, false, "the repaired content could not be put in place: " + e.getMessage(), true);
        }
    }

    private void record(FileRow row, FileIdentity id, String source, String from, Path quarantined) {
        long now = clock.millis();
        catalog.files().updateContent(row.id(), row.size(), row.mtimeNs(), id.device(), id.inode(), row.sha256(), now);
        catalog.files().markVerified(row.id(), now);
        String detail = "{\"source\":\"" + source + "\",\"from\":" + io.custos.run.RunSummary.toJson(from)
                + (quarantined == null
                        ? ""
                        : ",\"quarantine\":" + io.custos.run.RunSummary.toJson(quarantined.toString()))
                + "}";
        ctx.event(EventType.REPAIRED, row.rootId(), row.id(), row.path(), detail);
        stats.inc("files_repaired");
    }

    /** Replaces {@code other} (a hardlink of the damaged inode) with a link to the repaired file. */
    private boolean relink(Path repaired, Path other) {
        Path tmp = other.resolveSibling(".custos-relink-" + runId + "-" + System.nanoTime());
        try {
            Files.createLink(tmp, repaired);
            AtomicFiles.moveIntoPlace(tmp, other);
            return true;
        } catch (IOException e) {
            log.warn("cannot link %s to the repaired file: %s", other, e.getMessage());
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing more to undo
            }
            return false;
        }
    }

    private Outcome failed(Config.Root root, FileRow row, boolean dryRun, String why, boolean record) {
        String where = RawPaths.display(row.path());
        if (!dryRun && record) {
            catalog.inTransaction(() -> ctx.event(
                    EventType.REPAIR_FAILED,
                    row.rootId(),
                    row.id(),
                    row.path(),
                    "{\"reason\":" + io.custos.run.RunSummary.toJson(why) + "}"));
        }
        ctx.problem(
                new Problem(root.name(), where, dryRun ? "unrepairable" : "repair_failed", "cannot repair: " + why),
                ExitCode.PROBLEMS);
        return new Outcome(null, why, false);
    }

    /** Other live ok copies of the content on another inode, same root first. */
    private List<FileRow> duplicates(FileRow row, FileIdentity id) {
        List<FileRow> out = new ArrayList<>();
        for (FileRow r : catalog.files().withContent(row.sha256())) {
            if (r.id() != row.id()
                    && r.status() == FileStatus.OK
                    && !(r.device() == id.device() && r.inode() == id.inode())) {
                out.add(r);
            }
        }
        out.sort((a, b) -> Boolean.compare(a.rootId() != row.rootId(), b.rootId() != row.rootId()));
        return out;
    }

    private List<FileRow> otherLinks(FileRow row, FileIdentity id) {
        List<FileRow> out = new ArrayList<>();
        for (FileRow r : catalog.files().withContent(row.sha256())) {
            if (r.id() != row.id() && r.device() == id.device() && r.inode() == id.inode()) {
                out.add(r);
            }
        }
        return out;
    }

    private Config.Root rootOf(long rootId) {
        if (roots == null) {
            roots = new java.util.HashMap<>();
            Map<String, Config.Root> configured =
                    io.custos.config.RootSet.resolve(config).roots();
            for (var r : catalog.roots().all()) {
                if (configured.containsKey(r.name())) {
                    roots.put(r.id(), configured.get(r.name()));
                }
            }
        }
        return roots.get(rootId);
    }

    /** Copies {@code src} to {@code temp} while hashing it; keeps it (fsynced) only when the hash is right. */
    private boolean copyChecked(Path src, Path temp, byte[] sha256) {
        MessageDigest md = sha256();
        try (InputStream in = Files.newInputStream(src);
                OutputStream out = Files.newOutputStream(
                        temp,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            log.debug("cannot copy %s: %s", src, e.getMessage());
            deleteQuietly(temp);
            return false;
        }
        if (!Arrays.equals(md.digest(), sha256)) {
            deleteQuietly(temp);
            return false;
        }
        try {
            fsync(temp);
            return true;
        } catch (IOException e) {
            deleteQuietly(temp);
            return false;
        }
    }

    private static byte[] sha256Of(Path p) {
        MessageDigest md = sha256();
        try (InputStream in = Files.newInputStream(p)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return md.digest();
        } catch (IOException e) {
            return null;
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void fsync(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // a leftover temp file has a name no scan catalogs twice; the next repair replaces it
        }
    }

    private static void deleteTree(Path p) {
        try (var walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(RepairChain::deleteQuietly);
        } catch (IOException | RuntimeException e) {
            // best effort: _tmp is emptied at the start of every run
        }
    }
}
