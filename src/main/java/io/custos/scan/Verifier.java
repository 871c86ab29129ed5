package io.custos.scan;

import io.custos.catalog.Catalog;
import io.custos.catalog.EventType;
import io.custos.catalog.FileRow;
import io.custos.catalog.FileStatus;
import io.custos.catalog.ParityTable;
import io.custos.config.Config;
import io.custos.fs.FileIdentity;
import io.custos.fs.RawPaths;
import io.custos.parity.ParityStore;
import io.custos.run.CancelToken;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.run.Problem;
import io.custos.run.Progress;
import io.custos.run.RunContext;
import io.custos.run.Stats;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Re-checks cataloged files (SPEC §5.3): re-hashes each and checks its parity set. Hash equal and
 * parity healthy: {@code last_verified} stamped; hash equal but parity damaged or missing: parity
 * made again; hash different: status {@code damaged}, event, problem (exit 1). A damaged file
 * found good again is {@code ok} again. Never touches a file that changed since the last scan.
 */
public final class Verifier {
    private final RunContext ctx;
    private final Config config;
    private final Catalog catalog;
    private final ParityStore parity;
    private final Clock clock;
    private final Log log;
    private final CancelToken cancel;
    private final Stats stats;
    private final List<FileRow> damaged = new ArrayList<>();

    public Verifier(RunContext ctx, ParityStore parity) {
        this.ctx = ctx;
        this.config = ctx.config();
        this.catalog = ctx.catalog();
        this.parity = parity;
        this.clock = ctx.clock();
        this.log = ctx.log();
        this.cancel = ctx.cancel();
        this.stats = ctx.stats();
    }

    /** The rows found damaged by this verifier, for {@code --repair}. */
    public List<FileRow> damaged() {
        return damaged;
    }

    /**
     * The scan's sample of a root: {@code percent} of its ok files, never verified first, then the
     * oldest verified, ties at random; plus every file not verified for {@code verify.max_age_days}.
     * Files the scan changed (last seen at or after {@code changedSince}) are left out: they were
     * just read.
     */
    public List<FileRow> sample(long rootId, int percent, long changedSince) {
        Long olderThan = null;
        if (config.verify().maxAgeDays() > 0) {
            olderThan = clock.millis() - TimeUnit.DAYS.toMillis(config.verify().maxAgeDays());
        }
        if (percent == 0 && olderThan == null) {
            return List.of(); // nothing to choose: not even a count of the root
        }
        int live = catalog.files().countLive(rootId);
        int n = (int) Math.min(live, (live * (long) percent + 99) / 100);
        return catalog.files().verifySample(rootId, n, olderThan, changedSince);
    }

    /** Verifies {@code rows} of one root. */
    public void verify(Config.Root root, List<FileRow> rows) {
        if (rows.isEmpty()) {
            return;
        }
        Path rootPath = RawPaths.path(root.path());
        List<Hasher.Job> jobs = new ArrayList<>();
        for (FileRow r : rows) {
            Path p = RawPaths.resolve(rootPath, r.path());
            FileIdentity id;
            try {
                id = FileIdentity.of(p);
            } catch (NoSuchFileException e) {
                ctx.problem(
                        new Problem(
                                root.name(),
                                RawPaths.display(r.path()),
                                "missing",
                                "not found; it was not verified (a scan records it as deleted or moved)"),
                        ExitCode.PROBLEMS);
                continue;
            } catch (IOException e) {
                unreadable(root, r, e.getMessage());
                continue;
            }
            if (id.kind() != FileIdentity.Kind.FILE || id.size() != r.size() || id.mtimeNs() != r.mtimeNs()) {
                log.info(
                        "%s/%s changed since the last scan; it is not verified (the next scan records the change)",
                        root.name(), RawPaths.display(r.path()));
                continue;
            }
            WalkEntry e = new WalkEntry(r.path(), id.size(), id.mtimeNs(), id.device(), id.inode(), id.links());
            jobs.add(new Hasher.Job(rootPath, e, r));
        }
        if (jobs.isEmpty()) {
            return;
        }
        log.info("verifying %d files of %s", jobs.size(), root.name());
        List<Recreate> recreate = new ArrayList<>();
        long totalBytes = 0;
        for (Hasher.Job j : jobs) {
            totalBytes += j.entry().size();
        }
        try (Hasher hasher = new Hasher(config.hash().workers(), config.hash().perDeviceWorkers(), cancel);
                Progress.Task progress = ctx.progress().start("verifying " + root.name(), jobs.size(), totalBytes)) {
            hasher.start(jobs);
            List<Hasher.Result> ready = new ArrayList<>();
            for (int done = 0; done < jobs.size() && !cancel.cancelled(); ) {
                try {
                    hasher.take(ready, 200);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    cancel.cancel();
                    break;
                }
                List<Hasher.Result> batch = List.copyOf(ready);
                ready.clear();
                done += batch.size();
                long bytes = 0;
                for (Hasher.Result res : batch) {
                    bytes += res.bytesRead();
                }
                progress.advance(batch.size(), bytes);
                catalog.inTransaction(() -> {
                    for (Hasher.Result res : batch) {
                        stats.add("bytes_hashed", res.bytesRead());
                        Recreate rc = record(root, rootPath, res);
                        if (rc != null) {
                            recreate.add(rc);
                        }
                    }
                });
            }
        }
        for (Recreate rc : recreate) {
            if (cancel.cancelled()) {
                return;
            }
            log.info("%s/%s: %s; making it again", root.name(), RawPaths.display(rc.row.path()), rc.reason);
            FileRow r = rc.row;
            if (parity.recreate(
                    new ParityTable.Due(r.id(), r.rootId(), r.path(), r.size(), r.mtimeNs(), r.sha256()), root)) {
                catalog.inTransaction(() -> verified(root, r));
            }
        }
    }

    private record Recreate(FileRow row, String reason) {}

    private Recreate record(Config.Root root, Path rootPath, Hasher.Result res) {
        FileRow r = (FileRow) res.job().tag();
        if (res.error() != null) {
            unreadable(root, r, res.error());
            return null;
        }
        if (res.busy() != null) {
            log.info("%s/%s %s; it is verified another time", root.name(), RawPaths.display(r.path()), res.busy());
            return null;
        }
        if (!Arrays.equals(res.sha256(), r.sha256())) {
            stats.inc("files_damaged");
            if (r.status() != FileStatus.DAMAGED) {
                catalog.files().setStatus(r.id(), FileStatus.DAMAGED, clock.millis());
                ctx.event(
                        EventType.DAMAGED,
                        r.rootId(),
                        r.id(),
                        r.path(),
                        "{\"reason\":\"content differs from the recorded hash\"}");
            }
            damaged.add(r);
            ctx.problem(
                    new Problem(
                            root.name(),
                            RawPaths.display(r.path()),
                            "damaged",
                            "content differs from the recorded hash (same size and modification time: bitrot or"
                                    + " tampering); run custos repair"),
                    ExitCode.PROBLEMS);
            return null;
        }
        if (ParityStore.eligible(config, root, r.size())) {
            ParityStore.Health h = parity.check(r.sha256(), r.size(), RawPaths.resolve(rootPath, r.path()));
            if (!h.healthy()) {
                return new Recreate(r, h.reason());
            }
        }
        verified(root, r);
        return null;
    }

    private void verified(Config.Root root, FileRow r) {
        catalog.files().markVerified(r.id(), clock.millis());
        stats.inc("files_verified");
        if (r.status() != FileStatus.OK) {
            catalog.files().setStatus(r.id(), FileStatus.OK, clock.millis());
            ctx.event(EventType.VERIFIED, r.rootId(), r.id(), r.path(), "{\"status\":\"ok\"}");
            log.info("%s/%s holds its recorded content again", root.name(), RawPaths.display(r.path()));
        }
    }

    private void unreadable(Config.Root root, FileRow r, String why) {
        stats.inc("errors");
        ctx.problem(
                new Problem(root.name(), RawPaths.display(r.path()), "unreadable", "cannot read: " + why),
                ExitCode.PROBLEMS);
    }
}
