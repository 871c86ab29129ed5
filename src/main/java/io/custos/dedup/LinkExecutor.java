package io.custos.dedup;

import io.custos.catalog.Catalog;
import io.custos.catalog.EventType;
import io.custos.catalog.LinkTable;
import io.custos.fs.AtomicFiles;
import io.custos.fs.FileIdentity;
import io.custos.fs.RawPaths;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.run.Problem;
import io.custos.run.Progress;
import io.custos.run.RunContext;
import io.custos.run.RunSummary;
import io.custos.run.Stats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Carries a stored link plan out (SPEC §8). Each action is checked first: both paths regular
 * files on one device, not yet one inode, size and mtimes as planned, equal content, same owner,
 * group and mode. Then the duplicate is replaced atomically: a hardlink of the kept file under a
 * temp name in the duplicate's directory, renamed over it. A crash at any point leaves the
 * duplicate's path with its old content or with the kept file's; the next run goes on from the
 * first action not recorded as finished.
 */
public final class LinkExecutor {
    /** How the content of the two files is proven equal. */
    public enum Verify {
        /** Compare the bytes. */
        FULL,
        /** Hash both and compare with the recorded SHA-256. */
        FAST
    }

    public record Options(Verify verify, Integer limit, boolean dryRun) {}

    /** The counters of {@code link execute}. */
    public static final String[] COUNTERS = {
        "links_made", "already_linked", "actions_skipped", "actions_failed", "bytes_reclaimed", "bytes_read"
    };

    /** A test's view of the instant between the link and the rename (fault injection only). */
    interface Hook {
        void linked(Path temp, Path duplicate) throws IOException;
    }

    private static final Hook NO_HOOK = (t, d) -> {};
    private static final String TEMP_PREFIX = ".custos-link-";
    private static final int KEEP_HASHES = 1024;
    private static final int BATCH = 500;
    private static final long BATCH_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(2);

    private final RunContext run;
    private final Catalog catalog;
    private final Log log;
    private final Stats stats;
    private final Map<Long, Duplicates.Root> roots;
    private final ContentCheck content = new ContentCheck();
    private final Map<Long, CompletableFuture<byte[]>> keepHashes = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, CompletableFuture<byte[]>> eldest) {
            return size() > KEEP_HASHES;
        }
    };
    private Hook hook = NO_HOOK;
    private final List<Pending> batch = new ArrayList<>();
    private long flushedAt = System.nanoTime();
    private long catalogNanos;

    /** {@code roots}: the configured roots by catalog id (an action in another root is skipped). */
    public LinkExecutor(RunContext run, Map<Long, Duplicates.Root> roots) {
        this.run = run;
        this.catalog = run.catalog();
        this.log = run.log();
        this.stats = run.stats();
        this.roots = roots;
    }

    LinkExecutor hook(Hook h) {
        this.hook = h;
        return this;
    }

    /** The temp name of an action's link, in the duplicate's directory. */
    static String tempName(long planId, long actionId) {
        return TEMP_PREFIX + planId + "-" + actionId;
    }

    /** What one action came to. {@code result}: linked, already_linked, skipped, failed, would_link, would_skip. */
    record Outcome(LinkTable.Action action, String result, String reason) {}

    /** Where the checks left an action: {@code outcome} set when it ends there, else the identities to link. */
    private record Checked(
            LinkTable.Action action, Path keep, Path dup, FileIdentity k, FileIdentity d, Outcome outcome) {}

    public void execute(LinkTable.Plan plan, Options o, RunSummary summary) {
        summary.put("plan_id", plan.id())
                .put("dry_run", o.dryRun())
                .put("verify", o.verify().name().toLowerCase());
        if (plan.status().equals("completed")) {
            log.info("link plan %d is already completed; nothing to do", plan.id());
            finish(plan.id(), summary, List.of(), o);
            return;
        }
        if (!o.dryRun()) {
            if (plan.status().equals("failed")) {
                int again = catalog.links().retryFailed(plan.id());
                log.info("link plan %d: trying its %d failed actions again", plan.id(), again);
            }
            catalog.links().planStatus(plan.id(), "in_progress", run.now(), run.runId());
        }
        List<LinkTable.Action> todo = catalog.links().actions(plan.id(), List.of("pending"));
        if (o.limit() != null && todo.size() > o.limit()) {
            todo = todo.subList(0, o.limit());
        }
        long bytes = 0;
        for (LinkTable.Action a : todo) {
            bytes += a.size();
        }
        List<Outcome> outcomes = new ArrayList<>();
        int threads = threads(todo);
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "custos-link");
            t.setDaemon(true);
            return t;
        });
        // A group's actions run in order in one task (the kept file is hashed once, a link count
        // read before a rename is not raced by another name of the same inode); groups in parallel.
        List<List<LinkTable.Action>> groups = new ArrayList<>();
        for (LinkTable.Action a : todo) {
            if (groups.isEmpty() || groups.get(groups.size() - 1).get(0).groupNo() != a.groupNo()) {
                groups.add(new ArrayList<>());
            }
            groups.get(groups.size() - 1).add(a);
        }
        long t0 = System.nanoTime();
        try (Progress.Task task = run.progress().start("link plan " + plan.id(), todo.size(), bytes)) {
            ArrayDeque<Future<List<Pending>>> window = new ArrayDeque<>();
            int next = 0;
            while (next < groups.size() || !window.isEmpty()) {
                while (next < groups.size()
                        && window.size() < threads * 4
                        && !run.cancel().cancelled()) {
                    List<LinkTable.Action> g = groups.get(next++);
                    window.add(pool.submit(() -> group(g, o)));
                }
                if (window.isEmpty()) {
                    break;
                }
                Future<List<Pending>> f = window.poll();
                if (run.cancel().cancelled() && f.cancel(false)) {
                    // Not started: its actions stay pending. A started one is waited for and recorded.
                    continue;
                }
                for (Pending p : take(f)) {
                    if (!o.dryRun()) {
                        record(p.outcome(), p.checked());
                        if (batch.size() >= BATCH || System.nanoTime() - flushedAt > BATCH_NANOS) {
                            flush(plan.id());
                        }
                    }
                    outcomes.add(p.outcome());
                    task.advance(1, p.outcome().action().size());
                }
            }
            if (run.cancel().cancelled()) {
                run.findings().interrupted();
            }
            if (!o.dryRun()) {
                flush(plan.id());
            }
            task.done();
        } finally {
            pool.shutdownNow();
        }
        log.debug(
                "link plan %d: %d actions in %d ms (catalog %d ms)",
                plan.id(), outcomes.size(), (System.nanoTime() - t0) / 1_000_000, catalogNanos / 1_000_000);
        stats.add("bytes_read", content.bytesRead());
        if (!o.dryRun()) {
            Map<String, long[]> counts = catalog.links().counts(plan.id());
            String status =
                    counts.get("pending")[0] > 0 ? "in_progress" : counts.get("failed")[0] > 0 ? "failed" : "completed";
            catalog.links().planStatus(plan.id(), status, run.now(), run.runId());
        }
        finish(plan.id(), summary, outcomes, o);
    }

    /** Workers for the checks: hash.workers (0: one per core), at most per_device_workers per device. */
    private int threads(List<LinkTable.Action> todo) {
        int workers = run.config().hash().workers();
        if (workers <= 0) {
            workers = Runtime.getRuntime().availableProcessors();
        }
        long devices =
                todo.stream().mapToLong(LinkTable.Action::device).distinct().count();
        long perDevice = Math.max(1, run.config().hash().perDeviceWorkers()) * Math.max(1, devices);
        return (int) Math.max(1, Math.min(workers, perDevice));
    }

    /** Checks and links the actions of one group in order; stops early when the run is cancelled. */
    private List<Pending> group(List<LinkTable.Action> actions, Options o) {
        List<Pending> out = new ArrayList<>(actions.size());
        for (LinkTable.Action a : actions) {
            if (run.cancel().cancelled()) {
                break;
            }
            Checked c = check(a, o);
            if (c.outcome() != null && !o.dryRun()) {
                removeTemp(a);
            }
            out.add(new Pending(c, c.outcome() != null ? c.outcome() : link(c)));
        }
        return out;
    }

    /**
     * A temp link that a crashed run left beside a duplicate this run does not link (skipped,
     * failed): it is ours by its name, and nothing else would ever remove it.
     */
    private void removeTemp(LinkTable.Action a) {
        Duplicates.Root r = roots.get(a.dupRootId());
        if (r == null) {
            return;
        }
        Path dup = RawPaths.resolve(RawPaths.path(r.path()), a.dupPath());
        try {
            Files.deleteIfExists(dup.resolveSibling(tempName(a.planId(), a.id())));
        } catch (IOException e) {
            log.warn("cannot remove the temp link beside %s: %s", dup, e.getMessage());
        }
    }

    private <T> T take(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    private void finish(long planId, RunSummary summary, List<Outcome> outcomes, Options o) {
        LinkTable.Plan now = catalog.links().plan(planId);
        summary.put("plan", Plans.toMap(now, catalog.links().counts(planId)));
        List<Map<String, Object>> list = new ArrayList<>();
        for (Outcome out : outcomes) {
            list.add(Plans.actionMap(out.action(), roots, out.result(), out.reason()));
        }
        summary.put("actions", list);
        if (o.dryRun()) {
            long would = outcomes.stream()
                    .filter(x -> x.result().equals("would_link"))
                    .count();
            summary.put("would_link", would);
        }
    }

    /** Every check that does not write; with {@code --verify} the content too (not on a dry run). */
    private Checked check(LinkTable.Action a, Options o) {
        Duplicates.Root keepRoot = roots.get(a.keepRootId());
        Duplicates.Root dupRoot = roots.get(a.dupRootId());
        if (keepRoot == null || dupRoot == null) {
            return ended(a, "skipped", "its root is no longer configured");
        }
        Path keep = RawPaths.resolve(RawPaths.path(keepRoot.path()), a.keepPath());
        Path dup = RawPaths.resolve(RawPaths.path(dupRoot.path()), a.dupPath());
        Stat ks;
        Stat ds;
        try {
            ks = Stat.of(keep);
        } catch (NoSuchFileException e) {
            return ended(a, "skipped", "the kept file is gone");
        } catch (IOException e) {
            return ended(a, "failed", "cannot read the kept file: " + e.getMessage());
        }
        try {
            ds = Stat.of(dup);
        } catch (NoSuchFileException e) {
            return ended(a, "skipped", "the duplicate is gone");
        } catch (IOException e) {
            return ended(a, "failed", "cannot read the duplicate: " + e.getMessage());
        }
        FileIdentity k = ks.id();
        FileIdentity d = ds.id();
        if (k.kind() != FileIdentity.Kind.FILE) {
            return ended(a, "skipped", "the kept path is no longer a regular file");
        }
        if (d.kind() != FileIdentity.Kind.FILE) {
            return ended(a, "skipped", "the duplicate is no longer a regular file");
        }
        boolean keepAsPlanned = k.inode() == a.keepInode() && k.size() == a.size() && k.mtimeNs() == a.keepMtimeNs();
        if (k.device() == d.device() && k.inode() == d.inode()) {
            // Linked already: by an earlier run that stopped before recording it, or by someone else.
            return keepAsPlanned
                    ? new Checked(a, keep, dup, k, d, new Outcome(a, "already_linked", "already the kept file"))
                    : ended(a, "skipped", "already one file with the kept path, which changed since planning");
        }
        if (k.device() != d.device()) {
            return ended(a, "skipped", "the two files are on different filesystems now");
        }
        if (!keepAsPlanned) {
            return ended(a, "skipped", "the kept file was modified since planning");
        }
        if (d.inode() != a.dupInode() || d.size() != a.size() || d.mtimeNs() != a.dupMtimeNs()) {
            return ended(a, "skipped", "modified since planning");
        }
        String differs = ownership(ks, ds);
        if (differs != null) {
            return ended(a, "skipped", differs);
        }
        if (o.dryRun()) {
            return ended(a, "would_link", "content is compared when the plan is executed");
        }
        try {
            String bad = o.verify() == Verify.FULL ? compareBytes(keep, dup) : compareHashes(a, keep, dup);
            if (bad != null) {
                return ended(a, "failed", bad);
            }
            // A change while the content was read shows when the two are looked at again, just
            // before the rename: the temp link must be the kept file as it was, the duplicate as it was.
        } catch (NoSuchFileException e) {
            return ended(a, "skipped", "disappeared while it was being compared");
        } catch (IOException e) {
            return ended(a, "failed", "cannot read: " + e.getMessage());
        }
        return new Checked(a, keep, dup, k, d, null);
    }

    private String compareBytes(Path keep, Path dup) throws IOException {
        return content.sameBytes(keep, dup)
                ? null
                : "its bytes differ from the kept file although the catalog records the same SHA-256:"
                        + " one of them changed without a new mtime (run custos verify)";
    }

    private String compareHashes(LinkTable.Action a, Path keep, Path dup) throws IOException {
        byte[] k = keepHash(a.keepFileId(), keep);
        if (!Arrays.equals(k, a.sha256())) {
            return "the kept file no longer has its recorded SHA-256 (run custos verify)";
        }
        if (!Arrays.equals(content.sha256(dup), a.sha256())) {
            return "it no longer has its recorded SHA-256 (run custos verify)";
        }
        return null;
    }

    /** The kept file is hashed once for all the duplicates of its group. */
    private byte[] keepHash(long fileId, Path keep) throws IOException {
        CompletableFuture<byte[]> mine = new CompletableFuture<>();
        CompletableFuture<byte[]> f;
        synchronized (keepHashes) {
            f = keepHashes.putIfAbsent(fileId, mine);
        }
        if (f == null) {
            try {
                mine.complete(content.sha256(keep));
            } catch (IOException | RuntimeException e) {
                mine.completeExceptionally(e);
                synchronized (keepHashes) {
                    keepHashes.remove(fileId);
                }
            }
            f = mine;
        }
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        }
    }

    /** Null when owner, group and permission bits are equal; else the reason to skip. */
    private static String ownership(Stat k, Stat d) {
        int km = k.mode() & 07777;
        int dm = d.mode() & 07777;
        if (k.uid() != d.uid() || k.gid() != d.gid() || km != dm) {
            return String.format(
                    "different owner, group or mode (kept file %d:%d %04o, this one %d:%d %04o)",
                    k.uid(), k.gid(), km, d.uid(), d.gid(), dm);
        }
        return null;
    }

    /** One lstat: identity, owner, group and mode. */
    record Stat(FileIdentity id, int uid, int gid, int mode) {
        static Stat of(Path p) throws IOException {
            Map<String, Object> m = Files.readAttributes(
                    p, "unix:mode,uid,gid,ino,dev,size,lastModifiedTime,nlink", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) m.get("mode");
            FileIdentity.Kind kind = switch (mode & 0170000) {
                case 0100000 -> FileIdentity.Kind.FILE;
                case 0040000 -> FileIdentity.Kind.DIRECTORY;
                case 0120000 -> FileIdentity.Kind.SYMLINK;
                default -> FileIdentity.Kind.OTHER;
            };
            FileIdentity id = new FileIdentity(
                    kind,
                    (Long) m.get("size"),
                    ((java.nio.file.attribute.FileTime) m.get("lastModifiedTime"))
                            .to(java.util.concurrent.TimeUnit.NANOSECONDS),
                    (Long) m.get("dev"),
                    (Long) m.get("ino"),
                    (Integer) m.get("nlink"));
            return new Stat(id, (Integer) m.get("uid"), (Integer) m.get("gid"), mode);
        }
    }

    private static boolean same(FileIdentity a, FileIdentity b) {
        return a.device() == b.device() && a.inode() == b.inode() && a.size() == b.size() && a.mtimeNs() == b.mtimeNs();
    }

    /** An outcome not yet in the catalog. */
    private record Pending(Checked checked, Outcome outcome) {}

    private static Checked ended(LinkTable.Action a, String result, String reason) {
        return new Checked(a, null, null, null, null, new Outcome(a, result, reason));
    }

    /** Hardlink of the kept file under a temp name beside the duplicate, then rename over it. */
    private Outcome link(Checked c) {
        LinkTable.Action a = c.action();
        Path temp = c.dup().resolveSibling(tempName(a.planId(), a.id()));
        FileIdentity d;
        try {
            try {
                Files.createLink(temp, c.keep());
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // A temp link left by a run that stopped between link and rename: ours, by its name.
                Files.delete(temp);
                Files.createLink(temp, c.keep());
            }
            try {
                // The link must be the kept file as it was checked: same inode, size and mtime.
                FileIdentity t = FileIdentity.of(temp);
                if (!same(t, c.k())) {
                    Files.deleteIfExists(temp);
                    return new Outcome(a, "skipped", "the kept file changed while it was being compared or linked");
                }
                hook.linked(temp, c.dup());
                d = FileIdentity.of(c.dup());
                if (!same(d, c.d())) {
                    Files.deleteIfExists(temp);
                    return new Outcome(a, "skipped", "changed while it was being compared or linked");
                }
                Files.move(temp, c.dup(), StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(temp);
                throw e;
            }
            // The old inode's blocks are free when this path was its last name (counted just before
            // the rename: an earlier action may have taken another of its names).
            if (d.links() == 1) {
                stats.add("bytes_reclaimed", a.size());
            }
            return new Outcome(a, "linked", null);
        } catch (IOException | RuntimeException e) {
            return new Outcome(a, "failed", "cannot link: " + message(e));
        }
    }

    private static String message(Exception e) {
        if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
            return fse.getFile() + ": " + fse.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /**
     * Outcomes go to the catalog in batches: a commit per action would cost more than the link.
     * A crash loses at most a batch of records, never a file: the next run finds those paths
     * already linked to the kept file and records them then.
     */
    private void flush(long planId) {
        flushedAt = System.nanoTime();
        long t0 = flushedAt;
        if (batch.isEmpty()) {
            return;
        }
        // One directory fsync per filesystem commits its journal, and with it the renames before it;
        // best effort: a rename lost in a power cut leaves the duplicate as it was, which the next
        // scan reads as touched and the next plan links again.
        Map<Long, Path> dirs = new LinkedHashMap<>();
        for (Pending p : batch) {
            if (p.outcome().result().equals("linked")) {
                dirs.put(p.checked().k().device(), p.checked().dup().getParent());
            }
        }
        dirs.values().forEach(AtomicFiles::syncDirectory);
        catalog.inTransaction(() -> {
            for (Pending p : batch) {
                store(planId, p.outcome(), p.checked());
            }
        });
        batch.clear();
        catalogNanos += System.nanoTime() - t0;
    }

    private void store(long planId, Outcome out, Checked c) {
        LinkTable.Action a = out.action();
        String status = status(out);
        if (status.equals("done")) {
            catalog.files().relinked(a.dupFileId(), c.k().mtimeNs(), c.k().device(), c.k().inode());
            Duplicates.Root keepRoot = roots.get(a.keepRootId());
            String to = keepRoot.name() + "/" + RawPaths.display(a.keepPath());
            run.event(
                    EventType.LINKED,
                    a.dupRootId(),
                    a.dupFileId(),
                    a.dupPath(),
                    "{\"to\":" + RunSummary.toJson(to) + ",\"plan\":" + planId + "}");
        }
        catalog.links().finishAction(a.id(), status, out.reason(), run.now(), run.runId());
    }

    private static String status(Outcome out) {
        return switch (out.result()) {
            case "linked", "already_linked" -> "done";
            case "failed" -> "failed";
            default -> "skipped";
        };
    }

    /** Counts the outcome and queues it for the catalog. */
    private void record(Outcome out, Checked c) {
        LinkTable.Action a = out.action();
        Duplicates.Root dupRoot = roots.get(a.dupRootId());
        String where = dupRoot == null ? null : dupRoot.name();
        batch.add(new Pending(c, out));
        switch (out.result()) {
            case "linked" -> stats.inc("links_made");
            case "already_linked" -> stats.inc("already_linked");
            case "failed" -> {
                stats.inc("actions_failed");
                run.problem(
                        new Problem(where, RawPaths.display(a.dupPath()), "link_failed", out.reason()),
                        ExitCode.PROBLEMS);
            }
            default -> stats.inc("actions_skipped");
        }
        if (!out.result().equals("linked") && !out.result().equals("already_linked")) {
            log.info("link %s/%s: %s (%s)", where, RawPaths.display(a.dupPath()), out.result(), out.reason());
        }
    }
}
