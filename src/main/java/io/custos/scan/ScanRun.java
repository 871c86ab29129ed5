package io.custos.scan;

import io.custos.catalog.Catalog;
import io.custos.catalog.EventType;
import io.custos.catalog.FileRow;
import io.custos.catalog.FileStatus;
import io.custos.catalog.FileTable;
import io.custos.catalog.RootRow;
import io.custos.config.Config;
import io.custos.config.RootSet;
import io.custos.fs.FileIdentity;
import io.custos.fs.RawPaths;
import io.custos.parity.ParityStore;
import io.custos.repair.Quarantine;
import io.custos.repair.RepairChain;
import io.custos.run.CancelToken;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.run.Problem;
import io.custos.run.Progress;
import io.custos.run.RunContext;
import io.custos.run.RunSummary;
import io.custos.run.Stats;
import io.custos.run.Units;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One {@code scan}: probe the roots, walk them, merge the sorted walk with the sorted catalog,
 * recognise renames without reading, hash what changed (each inode once), record the changes in
 * batches, and apply deletions and modifications only when the guards allow (SPEC §5).
 */
public final class ScanRun {
    /** Commit at least this often, so that a crash loses at most one batch. */
    static final int BATCH_FILES = 2000;

    static final long BATCH_NANOS = TimeUnit.SECONDS.toNanos(2);

    /**
     * The roots of a scan, checked before anything is written: the named roots exist in the
     * configuration, and no two roots are one directory.
     */
    public record Plan(
            RootSet.Resolved resolved,
            Map<String, Config.Root> all,
            List<Config.Root> selected,
            Map<String, FileIdentity> dirs,
            Set<Walker.DirKey> rootKeys,
            List<String> warnings) {}

    private final RunContext ctx;
    private final Config config;
    private final Catalog catalog;
    private final long runId;
    private final Clock clock;
    private final Log log;
    private final CancelToken cancel;
    private final Stats stats;
    private final Batch batch;
    private final ParityStore parity;
    /** Damaged and truncated files this run found, for {@code repair.auto}. */
    private final List<FileRow> foundBad = new ArrayList<>();

    private long lapStart = System.nanoTime();

    public ScanRun(RunContext ctx) {
        this.ctx = ctx;
        this.config = ctx.config();
        this.catalog = ctx.catalog();
        this.runId = ctx.runId();
        this.clock = ctx.clock();
        this.log = ctx.log();
        this.cancel = ctx.cancel();
        this.stats = ctx.stats();
        this.batch = new Batch(catalog);
        this.parity = new ParityStore(ctx);
    }

    /** Resolves and checks the roots; throws a usage error (exit 2) before anything is touched. */
    public static Plan plan(Config config, List<String> names) {
        if (!RawPaths.exact()) {
            throw CustosException.environment(
                    "custos cannot read file names as raw bytes: run it with 'java -jar custos.jar' or pass"
                            + " --add-opens java.base/sun.nio.fs=ALL-UNNAMED to java",
                    null);
        }
        RootSet.Resolved resolved = RootSet.resolve(config);
        Map<String, Config.Root> all = resolved.roots();
        List<Config.Root> selected = RootSet.select(config, resolved, names);
        Map<String, FileIdentity> dirs = new HashMap<>();
        Map<Walker.DirKey, String> seen = new HashMap<>();
        for (Config.Root r : all.values()) {
            FileIdentity id = statFollowing(RawPaths.path(r.path()));
            if (id == null || id.kind() != FileIdentity.Kind.DIRECTORY) {
                continue;
            }
            Walker.DirKey key = new Walker.DirKey(id.device(), id.inode());
            String before = seen.putIfAbsent(key, r.name());
            if (before != null) {
                throw CustosException.usage("roots \"" + before + "\" and \"" + r.name()
                        + "\" are the same directory (device " + id.device() + ", inode " + id.inode()
                        + "); remove one of them from the configuration");
            }
            dirs.put(r.name(), id);
        }
        return new Plan(resolved, all, selected, dirs, Set.copyOf(seen.keySet()), resolved.warnings());
    }

    /** Runs the scan and fills {@code summary}. */
    public void run(Plan plan, boolean acceptChanges, RunSummary summary) {
        plan.warnings().forEach(w -> log.warn("%s", w));
        Map<String, RootState> states = new LinkedHashMap<>();
        for (Config.Root r : plan.selected()) {
            RootState s = new RootState(r, RawPaths.path(r.path()));
            s.dirId = plan.dirs().get(r.name());
            states.put(r.name(), s);
        }
        Set<Walker.DirKey> rootKeys = new HashSet<>(plan.rootKeys());
        FileIdentity parityDir = statFollowing(RawPaths.path(config.parityRoot()));
        if (parityDir != null) {
            rootKeys.add(new Walker.DirKey(parityDir.device(), parityDir.inode())); // never catalog our own files
        }
        long started = clock.millis();
        catalog.inTransaction(() -> {
            for (RootState s : states.values()) {
                s.row = catalog.roots().ensure(s.cfg.name(), s.cfg.path());
                String policy = ParityStore.policy(config, s.cfg);
                if (!java.util.Objects.equals(policy, catalog.parity().policy(s.row.id()))) {
                    // Parity turned on, off, or other size limits: every file is looked at again.
                    catalog.parity()
                            .policyChanged(
                                    s.row.id(),
                                    policy,
                                    config.parity().minFileSize(),
                                    config.parity().maxFileSize());
                }
            }
        });
        parity.prepare();
        if (plan.selected().size() == plan.all().size()) {
            missingRoots(plan.all(), acceptChanges && plan.resolved().dataDirError() == null);
        }
        if (plan.resolved().dataDirError() != null) {
            problem(
                    new Problem(
                            null,
                            config.dataDir(),
                            "root_unavailable",
                            plan.resolved().dataDirError()
                                    + "; none of the roots under it was scanned or marked deleted"),
                    ExitCode.GUARD);
        }

        for (RootState s : states.values()) {
            probe(s);
        }

        lap("probe");
        Walker walker = new Walker(new Exclusions(withOwnTempFiles(config.exclude())), 2, cancel);
        for (RootState s : states.values()) {
            if (s.unavailable != null || cancel.cancelled()) {
                continue;
            }
            Set<Walker.DirKey> others = new HashSet<>(rootKeys);
            others.remove(new Walker.DirKey(s.dirId.device(), s.dirId.inode()));
            long t0 = System.nanoTime();
            s.walk = walker.walk(s.cfg.name(), s.path, s.dirId.device(), others);
            log.debug(
                    "walked %s: %d files in %d directories, %d ms",
                    s.cfg.name(), s.walk.files().size(), s.walk.directories(), (System.nanoTime() - t0) / 1_000_000);
            stats.add("files_scanned", s.walk.files().size());
            for (Problem p : s.walk.problems()) {
                problem(p, ExitCode.PROBLEMS);
                stats.inc("errors");
            }
        }

        Work work = new Work();
        for (RootState s : states.values()) {
            if (s.walk == null || cancel.cancelled()) {
                continue;
            }
            if (s.walk.files().isEmpty() && !acceptChanges && catalog.files().hasLive(s.row.id())) {
                s.liveBefore = catalog.files().countLive(s.row.id());
                s.state = "empty";
                s.held = true;
                problem(
                        new Problem(
                                s.cfg.name(),
                                null,
                                "root_empty",
                                "the walk found no files but the catalog holds " + s.liveBefore
                                        + "; nothing of this root is marked deleted (is the disk mounted?). If the files"
                                        + " are gone for good, run: custos scan --accept-changes " + s.cfg.name()),
                        ExitCode.GUARD);
                continue;
            }
            lap("walk");
            merge(s, work);
        }
        batch.flush();
        lap("merge");

        if (!cancel.cancelled()) {
            matchMovesByIdentity(work);
            lap("renames");
            hashAndRecord(work);
        }
        batch.flush();
        lap("hash");

        if (!cancel.cancelled()) {
            for (RootState s : states.values()) {
                if (s.walk != null && s.walk.complete()) {
                    finishRoot(s, work, acceptChanges);
                }
            }
            purgeOld();
        }
        batch.flush();
        lap("finish");

        if (!cancel.cancelled()) {
            keepParity(states);
        }
        if (!cancel.cancelled()) {
            verifySample(states, started);
        }
        if (!cancel.cancelled() && config.repair().auto() && !foundBad.isEmpty()) {
            repairFound(states);
        }

        if (cancel.cancelled()) {
            ctx.findings().interrupted();
            log.warn("interrupted: the work done so far is saved; the next scan continues from there");
        }
        List<Map<String, Object>> roots = new ArrayList<>();
        for (RootState s : states.values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.cfg.name());
            m.put("path", s.cfg.path());
            m.put("state", cancel.cancelled() ? "interrupted" : s.state);
            m.put("files", s.walk == null ? 0 : s.walk.files().size());
            m.put("cataloged_before", s.liveBefore);
            roots.add(m);
        }
        ctx.findings().fill(summary);
        summary.put("roots", roots);
    }

    /** Temp files a repair leaves beside a file when it is killed are never cataloged. */
    static List<String> withOwnTempFiles(List<String> exclude) {
        List<String> out = new ArrayList<>(exclude);
        out.add(".custos-repair-*");
        out.add(".custos-relink-*");
        out.add(".custos-link-*");
        return out;
    }

    // ---- roots --------------------------------------------------------------------------------

    private static FileIdentity statFollowing(Path p) {
        try {
            return FileIdentity.of(Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private void probe(RootState s) {
        Path p = s.path;
        String why = null;
        if (s.dirId == null) {
            why = Files.exists(p, LinkOption.NOFOLLOW_LINKS) || Files.exists(p)
                    ? "is not a readable directory"
                    : "does not exist";
        } else if (s.dirId.kind() != FileIdentity.Kind.DIRECTORY) {
            why = "is not a directory";
        } else {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                ds.iterator().hasNext();
            } catch (IOException | RuntimeException e) {
                why = "cannot be read: " + Walker.message(e);
            }
            if (why == null && s.cfg.marker() != null && !Files.exists(p.resolve(s.cfg.marker()))) {
                why = "has no marker file " + s.cfg.marker() + " (is the disk mounted?)";
            }
        }
        if (why != null) {
            s.liveBefore = catalog.files().countLive(s.row.id());
            s.unavailable = why;
            s.state = "unavailable";
            problem(
                    new Problem(
                            s.cfg.name(),
                            null,
                            "root_unavailable",
                            "root " + s.cfg.path() + " " + why + "; it was not scanned and none of its " + s.liveBefore
                                    + " cataloged files is marked deleted"),
                    ExitCode.GUARD);
        }
    }

    /**
     * Roots the catalog knows that are configured no more (removed from {@code roots}, or a
     * {@code data_dir} subdirectory that is gone: an unmounted disk looks like that). Fail closed
     * while they hold files; {@code --accept-changes} marks their files deleted.
     */
    private void missingRoots(Map<String, Config.Root> all, boolean accept) {
        for (RootRow row : catalog.roots().all()) {
            if (all.containsKey(row.name())) {
                continue;
            }
            int live = catalog.files().countLive(row.id());
            if (live == 0) {
                continue;
            }
            if (!accept) {
                problem(
                        new Problem(
                                row.name(),
                                null,
                                "root_unavailable",
                                "root " + row.path() + " is no longer configured (or no longer under data_dir) but"
                                        + " the catalog holds " + live + " of its files; none is marked deleted"
                                        + " (scan --accept-changes if it is gone for good)"),
                        ExitCode.GUARD);
                continue;
            }
            List<FileRow> rows = new ArrayList<>();
            catalog.files().forEachLive(row.id(), rows::add);
            for (FileRow r : rows) {
                batch.write(() -> applyDeleted(r, row.id()));
            }
        }
    }

    // ---- merge --------------------------------------------------------------------------------

    private void merge(RootState s, Work work) {
        List<WalkEntry> files = s.walk.files();
        int[] i = {0};
        catalog.files().forEachLiveEntry(s.row.id(), row -> {
            s.liveBefore++;
            while (i[0] < files.size() && RawPaths.compare(files.get(i[0]).path(), row.path()) < 0) {
                work.newFiles.add(new NewFile(s, files.get(i[0]++)));
            }
            if (i[0] < files.size() && RawPaths.compare(files.get(i[0]).path(), row.path()) == 0) {
                known(s, row, files.get(i[0]++), work);
            } else if (!protectedPath(s, row.path())) {
                Vanished v = new Vanished(s, catalog.files().byId(row.id()));
                s.vanished.add(v);
                work.addVanished(v);
            }
        });
        while (i[0] < files.size()) {
            work.newFiles.add(new NewFile(s, files.get(i[0]++)));
        }
    }

    private static boolean protectedPath(RootState s, byte[] path) {
        for (byte[] p : s.walk.unreachable()) {
            if (RawPaths.under(path, p)) {
                return true;
            }
        }
        return false;
    }

    private void known(RootState s, FileTable.LiveEntry live, WalkEntry e, Work work) {
        boolean same = live.size() == e.size() && live.mtimeNs() == e.mtimeNs();
        if (same && live.flags() == 0) {
            // The common case of a rescan: nothing to read, nothing more to look up.
            stats.inc("files_unchanged");
            if (live.device() != e.device() || live.inode() != e.inode()) {
                batch.write(() -> catalog.files().updateIdentity(live.id(), e.device(), e.inode()));
            }
            return;
        }
        FileRow row = catalog.files().byId(live.id());
        if (same && row.status() != FileStatus.OK) {
            // Truncated or damaged, and as recorded again: read it to see whether it is good again.
            work.jobs.add(job(s, e, new Recheck(s, row, e)));
            return;
        }
        if (same) {
            stats.inc("files_unchanged");
            if (row.device() != e.device() || row.inode() != e.inode() || row.pendingSha256() != null) {
                batch.write(() -> {
                    catalog.files().updateIdentity(row.id(), e.device(), e.inode());
                    if (row.pendingSha256() != null) {
                        catalog.files().setPending(row.id(), null, 0, 0, 0);
                    }
                });
            }
            return;
        }
        boolean shrunkToZero = e.size() == 0 && row.size() > 0;
        if ((row.size() != e.size() && row.mtimeNs() == e.mtimeNs()) || shrunkToZero) {
            suspicious(s, row, e);
            return;
        }
        if (row.pendingMatches(e.size(), e.mtimeNs(), e.inode())) {
            s.modifications.add(new Modification(row, e, row.pendingSha256()));
            return;
        }
        work.jobs.add(job(s, e, new Changed(s, row, e)));
    }

    /** Size changed while mtime did not, or shrunk to nothing: keep the recorded hash, report it. */
    private void suspicious(RootState s, FileRow row, WalkEntry e) {
        FileStatus status = e.size() < row.size() ? FileStatus.TRUNCATED : FileStatus.DAMAGED;
        String how = e.size() == 0
                ? "is now empty (was " + row.size() + " bytes)"
                : "changed size from " + row.size() + " to " + e.size() + " bytes without a new modification time";
        stats.inc(status == FileStatus.TRUNCATED ? "files_truncated" : "files_damaged");
        foundBad.add(row);
        problem(
                new Problem(
                        s.cfg.name(),
                        RawPaths.display(e.path()),
                        status.sql(),
                        how + "; the recorded content is kept for repair"),
                ExitCode.PROBLEMS);
        if (row.status() != status) {
            batch.write(() -> {
                catalog.files().setStatus(row.id(), status, now());
                event(
                        status == FileStatus.TRUNCATED ? EventType.TRUNCATED : EventType.DAMAGED,
                        s.row.id(),
                        row.id(),
                        e.path(),
                        "{\"recorded_size\":" + row.size() + ",\"found_size\":" + e.size() + "}");
            });
        }
    }

    // ---- renames ------------------------------------------------------------------------------

    /**
     * A new path with the (device, inode, size, mtime) of a vanished row is that file, renamed:
     * nothing is read. A new path of an inode the catalog knows unchanged (a new hardlink) takes
     * its hash. Everything else is queued for hashing, each inode once.
     */
    private void matchMovesByIdentity(Work work) {
        Map<InodeKey, List<NewFile>> linked = new LinkedHashMap<>();
        for (NewFile nf : work.newFiles) {
            WalkEntry e = nf.entry;
            Vanished v = work.takeByIdentity(e);
            if (v != null) {
                batch.write(() -> applyMoved(v, nf, v.row.sha256()));
            } else if (e.links() < 2) {
                // One link: no other path can reach this inode.
                work.jobs.add(new Hasher.Job(nf.root.path, e, nf));
            } else {
                FileRow known = catalog.files().liveByIdentity(e.device(), e.inode(), e.size(), e.mtimeNs());
                if (known != null) {
                    batch.write(() -> recordNew(nf, known.sha256(), work));
                } else {
                    linked.computeIfAbsent(new InodeKey(e.device(), e.inode()), k -> new ArrayList<>(2))
                            .add(nf);
                }
            }
        }
        work.newFiles.clear();
        for (List<NewFile> group : linked.values()) {
            NewFile first = group.get(0);
            work.jobs.add(
                    new Hasher.Job(first.root.path, first.entry, group.size() == 1 ? first : new NewGroup(group)));
        }
    }

    // ---- hashing ------------------------------------------------------------------------------

    private Hasher.Job job(RootState s, WalkEntry e, Object tag) {
        return new Hasher.Job(s.path, e, tag);
    }

    private void hashAndRecord(Work work) {
        if (work.jobs.isEmpty()) {
            return;
        }
        long totalBytes = 0;
        for (Hasher.Job j : work.jobs) {
            totalBytes += j.entry().size();
        }
        log.info("hashing %d files (%s)", work.jobs.size(), Units.bytes(totalBytes));
        try (Hasher hasher = new Hasher(config.hash().workers(), config.hash().perDeviceWorkers(), cancel);
                Progress.Task progress = ctx.progress().start("hashing", work.jobs.size(), totalBytes)) {
            hasher.start(work.jobs);
            List<Hasher.Result> ready = new ArrayList<>();
            for (int done = 0; done < work.jobs.size() && !cancel.cancelled(); ) {
                try {
                    hasher.take(ready, 200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    cancel.cancel();
                    break;
                }
                if (cancel.cancelled()) {
                    break;
                }
                batch.maybeFlush();
                long bytes = 0;
                for (Hasher.Result r : ready) {
                    done++;
                    bytes += r.bytesRead();
                    stats.add("bytes_hashed", r.bytesRead());
                    batch.write(() -> record(r, work));
                }
                progress.advance(ready.size(), bytes);
                ready.clear();
            }
        }
    }

    private static RootState rootOf(Object tag) {
        if (tag instanceof Changed c) {
            return c.root;
        }
        if (tag instanceof Recheck k) {
            return k.root;
        }
        if (tag instanceof NewFile nf) {
            return nf.root;
        }
        return ((NewGroup) tag).files.get(0).root;
    }

    private void record(Hasher.Result r, Work work) {
        Object tag = r.job().tag();
        if (r.error() != null) {
            if (cancel.cancelled()) {
                return;
            }
            RootState s = rootOf(tag);
            WalkEntry e = r.job().entry();
            stats.inc("errors");
            problem(
                    new Problem(
                            s.cfg.name(),
                            RawPaths.display(e.path()),
                            "unreadable",
                            "cannot read: " + r.error() + "; its catalog entry is left as it was"),
                    ExitCode.PROBLEMS);
            return;
        }
        if (r.busy() != null) {
            busy(tag, r.busy());
            return;
        }
        byte[] sha = r.sha256();
        if (tag instanceof Changed c) {
            if (java.util.Arrays.equals(sha, c.row.sha256())) {
                storeContent(c.row, c.entry, sha);
                event(EventType.TOUCHED, c.root.row.id(), c.row.id(), c.entry.path(), null);
                stats.inc("files_touched");
            } else {
                // Recorded as pending: applied in finishRoot when the guards allow, and not read again meanwhile.
                catalog.files().setPending(c.row.id(), sha, c.entry.size(), c.entry.mtimeNs(), c.entry.inode());
                c.root.modifications.add(new Modification(c.row, c.entry, sha));
            }
        } else if (tag instanceof Recheck k) {
            if (java.util.Arrays.equals(sha, k.row.sha256())) {
                storeContent(k.row, k.entry, sha);
                catalog.files().markVerified(k.row.id(), now());
                event(EventType.VERIFIED, k.root.row.id(), k.row.id(), k.entry.path(), "{\"status\":\"ok\"}");
                stats.inc("files_verified");
            } else {
                if (k.row.status() != FileStatus.DAMAGED) {
                    catalog.files().setStatus(k.row.id(), FileStatus.DAMAGED, now());
                    event(EventType.DAMAGED, k.root.row.id(), k.row.id(), k.entry.path(), null);
                }
                stats.inc("files_damaged");
                foundBad.add(k.row);
                problem(
                        new Problem(
                                k.root.cfg.name(),
                                RawPaths.display(k.entry.path()),
                                "damaged",
                                "content differs from the recorded hash"),
                        ExitCode.PROBLEMS);
            }
        } else if (tag instanceof NewFile nf) {
            recordNew(nf, sha, work);
        } else {
            for (NewFile nf : ((NewGroup) tag).files) {
                recordNew(nf, sha, work);
            }
        }
    }

    private void busy(Object tag, String why) {
        List<RootState> roots = new ArrayList<>();
        List<WalkEntry> entries = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        if (tag instanceof Changed c) {
            roots.add(c.root);
            entries.add(c.entry);
            ids.add(c.row.id());
        } else if (tag instanceof Recheck k) {
            roots.add(k.root);
            entries.add(k.entry);
            ids.add(k.row.id());
        } else {
            List<NewFile> files = tag instanceof NewFile nf ? List.of(nf) : ((NewGroup) tag).files;
            for (NewFile nf : files) {
                roots.add(nf.root);
                entries.add(nf.entry);
                ids.add(null);
            }
        }
        for (int i = 0; i < roots.size(); i++) {
            stats.inc("files_busy");
            event(
                    EventType.BUSY,
                    roots.get(i).row.id(),
                    ids.get(i),
                    entries.get(i).path(),
                    "{\"reason\":\"" + why + "\"}");
            log.info(
                    "%s/%s %s; it is retried on the next scan",
                    roots.get(i).cfg.name(), RawPaths.display(entries.get(i).path()), why);
        }
    }

    /** A new path whose content is known: a rename when a vanished row has that hash, else an addition. */
    private void recordNew(NewFile nf, byte[] sha, Work work) {
        Vanished v = work.takeByHash(sha, nf.root);
        if (v != null) {
            applyMoved(v, nf, sha);
            return;
        }
        long id = catalog.files()
                .insert(
                        nf.root.row.id(),
                        nf.entry.path(),
                        nf.entry.size(),
                        nf.entry.mtimeNs(),
                        nf.entry.device(),
                        nf.entry.inode(),
                        sha,
                        now(),
                        ParityStore.eligible(config, nf.root.cfg, nf.entry.size()));
        event(EventType.ADDED, nf.root.row.id(), id, nf.entry.path(), null);
        stats.inc("files_new");
        // Its set is made (or shared, or restored from trash) after the walk: keepParity.
    }

    private void applyMoved(Vanished v, NewFile nf, byte[] sha) {
        catalog.files()
                .move(
                        v.row.id(),
                        nf.root.row.id(),
                        nf.entry.path(),
                        nf.entry.size(),
                        nf.entry.mtimeNs(),
                        nf.entry.device(),
                        nf.entry.inode(),
                        now());
        String detail = "{\"from_root\":" + RunSummary.toJson(v.root.cfg.name()) + ",\"from_path\":"
                + RunSummary.toJson(RawPaths.display(v.row.path())) + "}";
        event(EventType.MOVED, nf.root.row.id(), v.row.id(), nf.entry.path(), detail);
        stats.inc("files_moved");
        // Parity is keyed by content: a moved file keeps its set. Into a root that keeps parity, it
        // may need one.
        if (v.root != nf.root && ParityStore.eligible(config, nf.root.cfg, nf.entry.size())) {
            catalog.parity().setDue(v.row.id(), true);
        }
    }

    // ---- end of a root ------------------------------------------------------------------------

    private void finishRoot(RootState s, Work work, boolean accept) {
        if (s.held) {
            return;
        }
        List<Vanished> gone = new ArrayList<>();
        for (Vanished v : s.vanished) {
            if (!v.claimed) {
                gone.add(v);
            }
        }
        Config.Guard g = config.guard();
        boolean big = s.liveBefore >= g.minFiles()
                && (gone.size() * 100L > (long) g.maxDeletedPercent() * s.liveBefore
                        || s.modifications.size() * 100L > (long) g.maxModifiedPercent() * s.liveBefore);
        if (big && !accept) {
            s.state = "guarded";
            String detail = "{\"deleted\":" + gone.size() + ",\"modified\":" + s.modifications.size() + ",\"files\":"
                    + s.liveBefore + "}";
            batch.write(() -> event(EventType.LARGE_CHANGE, s.row.id(), null, null, detail));
            problem(
                    new Problem(
                            s.cfg.name(),
                            null,
                            "large_change",
                            gone.size() + " deleted and "
                                    + s.modifications.size() + " modified of " + s.liveBefore
                                    + " files exceed guard.max_deleted_percent ("
                                    + g.maxDeletedPercent() + "%) or guard.max_modified_percent ("
                                    + g.maxModifiedPercent()
                                    + "%); none of these changes was applied. If they are intended, run: custos scan --accept-changes "
                                    + s.cfg.name()),
                    ExitCode.GUARD);
            return;
        }
        for (Modification m : s.modifications) {
            batch.write(() -> applyModified(s, m));
        }
        for (Vanished v : gone) {
            batch.write(() -> applyDeleted(v.row, s.row.id()));
        }
        batch.write(() -> catalog.roots().scanned(s.row.id(), now(), runId));
    }

    /** The file as found now, holding {@code sha256}: status ok, pending cleared. */
    private void storeContent(FileRow row, WalkEntry e, byte[] sha256) {
        catalog.files().updateContent(row.id(), e.size(), e.mtimeNs(), e.device(), e.inode(), sha256, now());
    }

    private void applyModified(RootState s, Modification m) {
        WalkEntry e = m.entry;
        storeContent(m.row, e, m.sha256);
        String detail = "{\"old_sha256\":\"" + hex(m.row.sha256()) + "\",\"new_sha256\":\"" + hex(m.sha256) + "\"}";
        event(EventType.MODIFIED, s.row.id(), m.row.id(), e.path(), detail);
        stats.inc("files_modified");
        // New set first (keepParity), then the old one to trash when no live file has the old content.
        boolean eligible = ParityStore.eligible(config, s.cfg, e.size());
        catalog.parity().setDue(m.row.id(), eligible);
        if (m.row.sha256() != null) {
            catalog.parity().releaseLater(m.row.sha256(), eligible ? m.sha256 : null);
        }
    }

    private void applyDeleted(FileRow row, long rootId) {
        catalog.files().setStatus(row.id(), FileStatus.DELETED, now());
        event(EventType.DELETED, rootId, row.id(), row.path(), null);
        stats.inc("files_deleted");
        // Its set goes to trash at the end of the run when no live file has this content.
        if (row.sha256() != null) {
            catalog.parity().releaseLater(row.sha256(), null);
        }
    }

    // ---- parity and verification --------------------------------------------------------------

    /** Sets for new content, trash for content gone, old trash purged (SPEC §5.2). */
    private void keepParity(Map<String, RootState> states) {
        // Only roots this run reached: files of the others are made parity for when they are scanned.
        Map<Long, Config.Root> byId = new HashMap<>();
        for (RootState s : states.values()) {
            if (s.unavailable == null && s.walk != null) {
                byId.put(s.row.id(), s.cfg);
            }
        }
        parity.sweep(false);
        lap("parity sweep");
        parity.createDue(byId);
        lap("parity");
        parity.release();
        parity.purgeTrash();
        new Quarantine(ctx).purge();
        lap("parity trash");
    }

    /** {@code verify.percent} of each scanned root's unchanged files (SPEC §5.3). */
    private void verifySample(Map<String, RootState> states, long started) {
        Verifier verifier = new Verifier(ctx, parity);
        for (RootState s : states.values()) {
            if (s.walk == null || s.unavailable != null || cancel.cancelled()) {
                continue;
            }
            List<FileRow> sample = verifier.sample(s.row.id(), config.verify().percent(), started);
            verifier.verify(s.cfg, sample);
        }
        foundBad.addAll(verifier.damaged());
        lap("verify");
    }

    /** {@code repair.auto}: what this run found damaged or truncated is repaired at once. */
    private void repairFound(Map<String, RootState> states) {
        Map<Long, Config.Root> roots = new HashMap<>();
        for (RootState s : states.values()) {
            roots.put(s.row.id(), s.cfg);
        }
        RepairChain chain = new RepairChain(ctx);
        for (FileRow bad : foundBad) {
            Config.Root r = roots.get(bad.rootId());
            if (r == null || cancel.cancelled()) {
                continue;
            }
            // The row as it is now: the scan may have changed its status since it was found.
            FileRow row = catalog.files().byId(bad.id());
            if (row.status() == FileStatus.OK || row.status() == FileStatus.DELETED) {
                continue;
            }
            if (chain.repair(r, row, false).repaired()) {
                String shown = RawPaths.display(row.path());
                ctx.findings()
                        .resolved(p -> (p.kind().equals("damaged") || p.kind().equals("truncated"))
                                && r.name().equals(p.root())
                                && shown.equals(p.path()));
            }
        }
        lap("repair");
    }

    private void purgeOld() {
        long before = clock.millis() - TimeUnit.DAYS.toMillis(config.retentionDays());
        batch.write(() -> {
            catalog.events().purge(before);
            catalog.files().purgeDeleted(before);
        });
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** At -v, how long each phase took. */
    private void lap(String phase) {
        long now = System.nanoTime();
        log.debug("%s: %d ms", phase, (now - lapStart) / 1_000_000);
        lapStart = now;
    }

    private void event(EventType type, Long rootId, Long fileId, byte[] path, String detail) {
        ctx.event(type, rootId, fileId, path, detail);
    }

    private long now() {
        return clock.millis();
    }

    private void problem(Problem p, ExitCode code) {
        ctx.problem(p, code);
    }

    static String hex(byte[] b) {
        return b == null ? "" : HexFormat.of().formatHex(b);
    }

    /** Writes grouped into transactions of at most {@link #BATCH_FILES} writes or two seconds. */
    private static final class Batch {
        private final Catalog catalog;
        private int ops;
        private long started;

        Batch(Catalog catalog) {
            this.catalog = catalog;
        }

        void write(Runnable w) {
            if (ops == 0) {
                catalog.begin();
                started = System.nanoTime();
            }
            w.run();
            ops++;
            maybeFlush();
        }

        void maybeFlush() {
            if (ops > 0 && (ops >= BATCH_FILES || System.nanoTime() - started > BATCH_NANOS)) {
                flush();
            }
        }

        void flush() {
            if (ops > 0) {
                catalog.commit();
                ops = 0;
            }
        }
    }

    // ---- state --------------------------------------------------------------------------------

    private static final class RootState {
        final Config.Root cfg;
        final Path path;
        RootRow row;
        FileIdentity dirId;
        String unavailable;
        int liveBefore;
        Walker.Result walk;
        boolean held;
        String state = "scanned";
        final List<Vanished> vanished = new ArrayList<>();
        final List<Modification> modifications = new ArrayList<>();

        RootState(Config.Root cfg, Path path) {
            this.cfg = cfg;
            this.path = path;
        }
    }

    private static final class Vanished {
        final RootState root;
        final FileRow row;
        boolean claimed;

        Vanished(RootState root, FileRow row) {
            this.root = root;
            this.row = row;
        }
    }

    private record NewFile(RootState root, WalkEntry entry) {}

    private record Changed(RootState root, FileRow row, WalkEntry entry) {}

    private record Recheck(RootState root, FileRow row, WalkEntry entry) {}

    private record NewGroup(List<NewFile> files) {}

    private record Modification(FileRow row, WalkEntry entry, byte[] sha256) {}

    private record InodeKey(long device, long inode) {}

    private record IdentityKey(long device, long inode, long size, long mtimeNs) {}

    /** Everything found by the merge that needs more than a look at the catalog. */
    private static final class Work {
        final List<NewFile> newFiles = new ArrayList<>();
        final List<Hasher.Job> jobs = new ArrayList<>();
        final Map<IdentityKey, ArrayDeque<Vanished>> byIdentity = new HashMap<>();
        final Map<ByteBuffer, List<Vanished>> byHash = new HashMap<>();

        void addVanished(Vanished v) {
            FileRow r = v.row;
            byIdentity
                    .computeIfAbsent(
                            new IdentityKey(r.device(), r.inode(), r.size(), r.mtimeNs()), k -> new ArrayDeque<>())
                    .add(v);
            if (r.sha256() != null && r.status() == FileStatus.OK) {
                byHash.computeIfAbsent(ByteBuffer.wrap(r.sha256()), k -> new ArrayList<>())
                        .add(v);
            }
        }

        Vanished takeByIdentity(WalkEntry e) {
            ArrayDeque<Vanished> q = byIdentity.get(new IdentityKey(e.device(), e.inode(), e.size(), e.mtimeNs()));
            while (q != null && !q.isEmpty()) {
                Vanished v = q.poll();
                if (!v.claimed) {
                    v.claimed = true;
                    return v;
                }
            }
            return null;
        }

        /** A vanished row with this content, one of the same root first. */
        Vanished takeByHash(byte[] sha, RootState preferred) {
            List<Vanished> list = byHash.get(ByteBuffer.wrap(sha));
            if (list == null) {
                return null;
            }
            Vanished pick = null;
            for (Vanished v : list) {
                if (!v.claimed && (pick == null || (v.root == preferred && pick.root != preferred))) {
                    pick = v;
                }
            }
            if (pick != null) {
                pick.claimed = true;
            }
            return pick;
        }
    }
}
