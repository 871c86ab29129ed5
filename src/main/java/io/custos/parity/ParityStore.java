package io.custos.parity;

import io.custos.catalog.Catalog;
import io.custos.catalog.EventType;
import io.custos.catalog.ParityTable;
import io.custos.config.Config;
import io.custos.exec.ExternalProcess;
import io.custos.fs.AtomicFiles;
import io.custos.fs.FileIdentity;
import io.custos.fs.Permissions;
import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.run.Problem;
import io.custos.run.Progress;
import io.custos.run.RunContext;
import io.custos.run.Stats;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The parity sets under the parity root, one per content hash: {@code by_hash/<h[0:2]>/<h>.par2}.
 * Creates the sets the catalog says are owed (par2 in parallel, each in a temp directory on the
 * parity filesystem, renamed into place only when complete and checked), restores sets from
 * {@code _trash/} instead of recreating them, moves sets whose content no live file holds any more
 * to trash (after the replacing content has its set), purges old trash, and checks a set without
 * reading the data again. Disk first, catalog after: a crash in between leaves a set the next run
 * finds and adopts, never a catalog row that promises a set that is not there.
 */
public final class ParityStore {
    /** When the sets on disk were last compared with the catalog (ms since the epoch). */
    static final String META_SWEPT = "parity_swept_at";

    static final long SWEEP_EVERY_MILLIS = TimeUnit.DAYS.toMillis(7);
    private static final long BIG_FILE = 64L << 20;
    private static final int PAGE = 1000;

    /** What a check of a content's set found. {@code reason} is null when healthy. */
    public record Health(boolean present, String reason) {
        public boolean healthy() {
            return present && reason == null;
        }
    }

    private final RunContext ctx;
    private final Config config;
    private final Catalog catalog;
    private final ParityTable table;
    private final Path byHash;
    private final Path trash;
    private final Path tmp;
    private final long runId;
    private final Clock clock;
    private final Log log;
    private final CancelToken cancel;
    private final Stats stats;
    private final Permissions permissions;
    private final Par2 par2;
    private final int cores = Runtime.getRuntime().availableProcessors();
    private final AtomicLong tmpSeq = new AtomicLong();
    private Progress.Task progress;

    public ParityStore(RunContext ctx) {
        this.ctx = ctx;
        this.config = ctx.config();
        this.catalog = ctx.catalog();
        this.table = catalog.parity();
        this.byHash = ctx.parityRoot().resolve("by_hash");
        this.trash = ctx.parityRoot().resolve("_trash");
        this.tmp = ctx.parityRoot().resolve("_tmp");
        this.runId = ctx.runId();
        this.clock = ctx.clock();
        this.log = ctx.log();
        this.cancel = ctx.cancel();
        this.stats = ctx.stats();
        this.permissions = new Permissions(config.process().umask());
        this.par2 = ctx.par2() == null
                ? null
                : new Par2(ctx.par2(), Duration.ofSeconds(config.parity().timeoutSeconds()), cancel);
    }

    /**
     * The par2 program when any of {@code roots} keeps parity; null when none does. Exit 5 with
     * what to do when it is missing.
     */
    public static Path requirePar2(Config config, List<Config.Root> roots, Map<String, String> env) {
        List<String> withParity = new ArrayList<>();
        for (Config.Root r : roots) {
            if (r.parity()) {
                withParity.add(r.name());
            }
        }
        if (withParity.isEmpty()) {
            return null;
        }
        String binary = config.parity().par2Binary();
        Path found = ExternalProcess.find(binary, env);
        if (found == null) {
            throw CustosException.environment(
                    "par2 not found (parity.par2_binary is \"" + binary + "\") but roots "
                            + String.join(", ", withParity)
                            + " keep parity. Install it (Debian/Ubuntu: apt-get install par2; par2cmdline-turbo"
                            + " works too, set parity.par2_binary to its path), or set \"parity\": false on those"
                            + " roots to run without parity",
                    null);
        }
        return found;
    }

    /** Whether a file of {@code size} in {@code root} gets a parity set. */
    public static boolean eligible(Config config, Config.Root root, long size) {
        Config.Parity p = config.parity();
        return root != null
                && root.parity()
                && size > 0
                && size >= p.minFileSize()
                && (p.maxFileSize() == 0 || size <= p.maxFileSize());
    }

    /** The settings that decide which files of a root get parity; null when it keeps none. */
    public static String policy(Config config, Config.Root root) {
        if (!root.parity()) {
            return null;
        }
        return config.parity().minFileSize() + ".." + config.parity().maxFileSize();
    }

    public Path setFile(byte[] sha256) {
        String h = hex(sha256);
        return byHash.resolve(h.substring(0, 2)).resolve(h + ".par2");
    }

    /** Removes what an earlier run left in {@code _tmp/} (it holds the lock, so nothing there is in use). */
    public void prepare() {
        if (Files.isDirectory(tmp, LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmp)) {
                for (Path p : ds) {
                    deleteTree(p);
                }
            } catch (IOException e) {
                log.warn("cannot clean %s: %s", tmp, e.getMessage());
            }
        }
    }

    // ---- creating what is owed ----------------------------------------------------------------

    /**
     * Gives every content the catalog marks as owed a set: one already in {@code by_hash/} is
     * adopted, one in trash is restored, anything else is created with par2, several at once.
     * {@code roots} maps root ids to their configuration (files of other roots wait).
     */
    public void createDue(Map<Long, Config.Root> roots) {
        if (par2 == null) {
            return;
        }
        List<Job> jobs = new ArrayList<>();
        byte[][] after = {new byte[0]};
        int[] seen = {0};
        ExecutorService pool = Executors.newFixedThreadPool(cores, r -> {
            Thread t = new Thread(r, "custos-par2");
            t.setDaemon(true);
            return t;
        });
        ExecutorCompletionService<Job> done = new ExecutorCompletionService<>(pool);
        long[] owed = table.owedTotals();
        progress = owed[0] == 0 ? null : ctx.progress().start("making parity", owed[0], owed[1]);
        // Fair: a big file waiting for every core is not overtaken forever by small ones.
        Semaphore slots = new Semaphore(cores, true);
        int inFlight = 0;
        try {
            while (!cancel.cancelled()) {
                List<ParityTable.Due> page = due(after[0]);
                if (page.isEmpty()) {
                    break;
                }
                after[0] = page.get(page.size() - 1).sha256();
                jobs.clear();
                catalog.inTransaction(() -> {
                    for (ParityTable.Due d : page) {
                        seen[0]++;
                        Job j = settle(d, roots);
                        if (j != null) {
                            jobs.add(j);
                        } else if (progress != null) {
                            progress.advance(1, d.size());
                        }
                    }
                });
                for (Job j : jobs) {
                    if (cancel.cancelled()) {
                        break;
                    }
                    done.submit(() -> j.run(slots));
                    inFlight++;
                    // Bounded: a million owed sets must not become a million queued jobs.
                    while (inFlight >= 4 * cores) {
                        inFlight -= record(done, true);
                    }
                }
            }
            while (inFlight > 0) {
                inFlight -= record(done, true);
            }
        } finally {
            pool.shutdownNow();
            try {
                pool.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (progress != null) {
            progress.done();
            progress = null;
        }
        if (seen[0] > 0) {
            log.debug("parity: %d contents were owed a set", seen[0]);
        }
    }

    private List<ParityTable.Due> due(byte[] after) {
        List<ParityTable.Due> out = new ArrayList<>();
        table.forEachDueAfter(after, PAGE, out::add);
        return out;
    }

    /** Settles what can be settled without par2; returns a creation job for the rest. */
    private Job settle(ParityTable.Due d, Map<Long, Config.Root> roots) {
        Config.Root r = roots.get(d.rootId());
        if (r == null || !eligible(config, r, d.size())) {
            // Not (or no longer) eligible here; another file of this content may be, and is due itself.
            table.setDue(d.fileId(), false);
            return null;
        }
        byte[] h = d.sha256();
        Path set = setFile(h);
        ParityTable.Row row = table.get(h);
        if (Files.exists(set, LinkOption.NOFOLLOW_LINKS)) {
            if (row != null && row.present() && row.fileSize() == d.size()) {
                table.satisfied(h);
                return null;
            }
            // Made by a run that stopped before recording it: keep it when it is sound.
            Par2Set.Info info = read(set);
            if (info != null && info.healthy() && info.fileSize() == d.size()) {
                table.present(h, d.size(), info.bytes(), info.blockSize(), info.recoveryBlocks(), clock.millis());
                table.satisfied(h);
                return null;
            }
            deleteQuietly(set);
        }
        Path trashed = findInTrash(h, row);
        if (trashed != null) {
            Par2Set.Info info = read(trashed);
            if (info != null && info.healthy() && info.fileSize() == d.size()) {
                try {
                    permissions.createDirectories(set.getParent());
                    AtomicFiles.moveIntoPlace(trashed, set);
                    table.present(
                            h,
                            d.size(),
                            info.bytes(),
                            info.blockSize(),
                            info.recoveryBlocks(),
                            row == null ? clock.millis() : row.createdAt());
                    table.satisfied(h);
                    stats.inc("parity_restored");
                    event(EventType.PARITY_RESTORED, d.rootId(), d.fileId(), d.path(), detail(h, info.bytes()));
                    return null;
                } catch (IOException e) {
                    log.warn("cannot restore parity of %s from trash: %s", hex(h), e.getMessage());
                }
            } else {
                deleteQuietly(trashed);
            }
        }
        Path file = RawPaths.resolve(RawPaths.path(r.path()), d.path());
        Par2Layout layout = Par2Layout.choose(d.size(), config.parity().redundancyPercent(), nameBytes(d.path()));
        if (layout == null) {
            table.setDue(d.fileId(), false);
            return null;
        }
        return new Job(d, r, file, layout, false);
    }

    /** Waits for one finished job and records it; returns 1. */
    private int record(ExecutorCompletionService<Job> done, boolean block) {
        Future<Job> f;
        try {
            f = block ? done.take() : done.poll();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancel.cancel();
            return 1;
        }
        if (f == null) {
            return 0;
        }
        Job j;
        try {
            j = f.get();
        } catch (Exception e) {
            log.warn("parity worker failed: %s", e);
            return 1;
        }
        catalog.inTransaction(() -> recordJob(j));
        if (progress != null) {
            progress.advance(1, j.due.size());
        }
        return 1;
    }

    private void recordJob(Job j) {
        ParityTable.Due d = j.due;
        if (j.created != null) {
            Par2Layout l = j.created.layout();
            table.present(d.sha256(), d.size(), j.created.bytes(), l.blockSize(), l.recoveryBlocks(), clock.millis());
            table.satisfied(d.sha256());
            stats.inc(j.recreate ? "parity_recreated" : "parity_created");
            event(
                    j.recreate ? EventType.PARITY_RECREATED : EventType.PARITY_CREATED,
                    d.rootId(),
                    d.fileId(),
                    d.path(),
                    detail(d.sha256(), j.created.bytes()));
        } else if (j.busy != null) {
            log.info(
                    "%s/%s %s; its parity is made on the next scan", j.root.name(), RawPaths.display(d.path()), j.busy);
        } else if (!cancel.cancelled()) {
            stats.inc("errors");
            ctx.problem(
                    new Problem(
                            j.root.name(),
                            RawPaths.display(d.path()),
                            "parity_failed",
                            "no parity could be made: " + j.error + "; it is tried again on the next scan"),
                    ExitCode.PROBLEMS);
        }
    }

    /** One par2 creation, run on a worker thread: touches only files, never the catalog. */
    private final class Job {
        final ParityTable.Due due;
        final Config.Root root;
        final Path file;
        final Par2Layout layout;
        final boolean recreate;
        Par2.Created created;
        String busy;
        String error;

        Job(ParityTable.Due due, Config.Root root, Path file, Par2Layout layout, boolean recreate) {
            this.due = due;
            this.root = root;
            this.file = file;
            this.layout = layout;
            this.recreate = recreate;
        }

        Job run(Semaphore slots) {
            if (cancel.cancelled()) {
                error = "interrupted";
                return this;
            }
            int threads = due.size() >= BIG_FILE ? cores : 1;
            try {
                slots.acquire(threads);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                error = "interrupted";
                return this;
            }
            Path dir = null;
            try {
                if (!sameAsRecorded()) {
                    busy = "changed since it was hashed";
                    return this;
                }
                dir = permissions.createDirectories(tmp).resolve(runId + "-" + tmpSeq.incrementAndGet());
                Files.createDirectory(dir);
                Par2.Created c = par2.create(file, dir, hex(due.sha256()), layout, threads);
                Par2Set.Info info = Par2Set.read(c.file());
                if (!info.healthy() || info.fileSize() != due.size()) {
                    error = "par2 wrote a set custos cannot read back"
                            + (info.problem() == null ? "" : " (" + info.problem() + ")");
                    return this;
                }
                // The set must describe the recorded content: same size and mtime as when hashed,
                // and the same first 16 KiB as the set describes.
                if (!sameAsRecorded() || !Arrays.equals(Par2Set.md5First16k(file), info.md5First16k())) {
                    busy = "changed while its parity was made";
                    return this;
                }
                Path target = setFile(due.sha256());
                permissions.createDirectories(target.getParent());
                permissions.apply(c.file());
                AtomicFiles.moveIntoPlace(c.file(), target);
                created = new Par2.Created(target, c.bytes(), c.layout());
            } catch (Par2Exception e) {
                error = e.getMessage();
            } catch (NoSuchFileException e) {
                busy = "vanished before its parity was made";
            } catch (IOException | RuntimeException e) {
                error = e.getMessage() == null ? e.toString() : e.getMessage();
            } finally {
                if (dir != null) {
                    deleteTree(dir);
                }
                slots.release(threads);
            }
            return this;
        }

        private boolean sameAsRecorded() throws IOException {
            FileIdentity a = FileIdentity.of(file);
            return a.kind() == FileIdentity.Kind.FILE && a.size() == due.size() && a.mtimeNs() == due.mtimeNs();
        }
    }

    // ---- verification -------------------------------------------------------------------------

    /**
     * Checks the set of a content whose data was just found to hash right, without reading the
     * data again: every packet's checksum, the file it describes (size, first 16 KiB), and the
     * recovery blocks it should hold.
     */
    public Health check(byte[] sha256, long size, Path file) {
        Path set = setFile(sha256);
        if (!Files.exists(set, LinkOption.NOFOLLOW_LINKS)) {
            return new Health(false, "parity set missing");
        }
        Par2Set.Info info = read(set);
        if (info == null) {
            return new Health(true, "parity set unreadable");
        }
        if (!info.healthy()) {
            return new Health(true, info.problem());
        }
        if (info.fileSize() != size) {
            return new Health(true, "parity set describes a file of " + info.fileSize() + " bytes, not " + size);
        }
        ParityTable.Row row = table.get(sha256);
        if (row != null && row.present() && info.recoveryBlocks() < row.recoveryBlocks()) {
            return new Health(
                    true,
                    "parity set holds " + info.recoveryBlocks() + " of its " + row.recoveryBlocks()
                            + " recovery blocks");
        }
        try {
            if (!Arrays.equals(Par2Set.md5First16k(file), info.md5First16k())) {
                return new Health(true, "parity set describes other content");
            }
        } catch (IOException e) {
            return new Health(true, "cannot read " + file + ": " + e.getMessage());
        }
        if (row == null || !row.present()) {
            table.present(sha256, size, info.bytes(), info.blockSize(), info.recoveryBlocks(), clock.millis());
        }
        return new Health(true, null);
    }

    /**
     * Makes the set of a content again from a file just found to hold it (its set was missing or
     * damaged); replaces the old set only once the new one is complete. Must be called outside a
     * transaction. Returns whether it worked (a failure is reported as a problem).
     */
    public boolean recreate(ParityTable.Due d, Config.Root r) {
        if (par2 == null) {
            return false;
        }
        Par2Layout layout = Par2Layout.choose(d.size(), config.parity().redundancyPercent(), nameBytes(d.path()));
        if (layout == null) {
            return false;
        }
        Job j = new Job(d, r, RawPaths.resolve(RawPaths.path(r.path()), d.path()), layout, true);
        j.run(new Semaphore(cores));
        catalog.inTransaction(() -> recordJob(j));
        return j.created != null;
    }

    // ---- releasing ----------------------------------------------------------------------------

    /**
     * Moves to trash the sets whose content no live file holds any more. A set replaced by a
     * modification waits until the new content has its set.
     */
    public void release() {
        String day = today();
        for (ParityTable.Row row : table.releaseDue()) {
            if (cancel.cancelled()) {
                return;
            }
            catalog.inTransaction(() -> releaseOne(row, day));
        }
    }

    private void releaseOne(ParityTable.Row row, String day) {
        byte[] h = row.sha256();
        if (table.liveFiles(h) > 0) {
            table.keep(h);
            return;
        }
        if (row.releaseAfter() != null && table.owed(row.releaseAfter())) {
            log.debug("parity of %s kept until the new content has its set", hex(h));
            return;
        }
        ParityTable.Due last = table.lastFile(h);
        if (moveToTrash(h, day)) {
            table.trashed(h, clock.millis(), day);
            stats.inc("parity_trashed");
            event(
                    EventType.PARITY_TRASHED,
                    last == null ? null : last.rootId(),
                    last == null ? null : last.fileId(),
                    last == null ? null : last.path(),
                    detail(h, row.bytes()));
        }
    }

    private boolean moveToTrash(byte[] h, String day) {
        Path set = setFile(h);
        if (!Files.exists(set, LinkOption.NOFOLLOW_LINKS)) {
            table.forget(h);
            return false;
        }
        try {
            Path target = trashFile(h, day);
            permissions.createDirectories(target.getParent());
            AtomicFiles.moveIntoPlace(set, target);
            return true;
        } catch (IOException e) {
            log.warn("cannot move parity of %s to trash: %s", hex(h), e.getMessage());
            return false;
        }
    }

    private Path trashFile(byte[] h, String day) {
        String x = hex(h);
        return trash.resolve(day).resolve(x.substring(0, 2)).resolve(x + ".par2");
    }

    private Path findInTrash(byte[] h, ParityTable.Row row) {
        if (row != null && row.trashDay() != null) {
            Path p = trashFile(h, row.trashDay());
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                return p;
            }
        }
        // A set trashed by a run that stopped before recording it.
        for (String day : trashDays()) {
            Path p = trashFile(h, day);
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                return p;
            }
        }
        return null;
    }

    private List<String> trashDays() {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(trash)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(trash)) {
            for (Path p : ds) {
                out.add(p.getFileName().toString());
            }
        } catch (IOException e) {
            log.warn("cannot list %s: %s", trash, e.getMessage());
        }
        out.sort(null);
        return out;
    }

    /** Deletes trash older than {@code parity.trash_days}. */
    public void purgeTrash() {
        LocalDate cutoff = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC)
                .minusDays(config.parity().trashDays());
        String cut = cutoff.toString();
        int removed = 0;
        for (String day : trashDays()) {
            try {
                LocalDate.parse(day);
            } catch (DateTimeParseException e) {
                continue; // not ours
            }
            if (day.compareTo(cut) < 0) {
                deleteTree(trash.resolve(day));
                removed++;
            }
        }
        int rows = table.forgetTrashedBefore(cut);
        if (removed > 0 || rows > 0) {
            log.info(
                    "parity trash: removed %d day(s) older than %d days (%d sets)",
                    removed, config.parity().trashDays(), rows);
        }
    }

    // ---- the disk against the catalog ---------------------------------------------------------

    /**
     * Compares {@code by_hash/} with the catalog: a set no live file needs (an orphan) goes to
     * trash, a set the catalog does not know but a live file needs is adopted, a recorded set
     * missing on disk is owed again. Runs when forced ({@code verify --all}), after a run that did
     * not finish, or once a week; otherwise the per-run bookkeeping keeps them in step.
     */
    public void sweep(boolean force) {
        String last = catalog.meta(META_SWEPT);
        long now = clock.millis();
        boolean due = force
                || last == null
                || now - Long.parseLong(last) > SWEEP_EVERY_MILLIS
                || catalog.runs().previousUnfinished(runId);
        if (!due) {
            return;
        }
        String day = today();
        int[] orphans = {0};
        List<Path> dirs = new ArrayList<>();
        if (Files.isDirectory(byHash)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(byHash)) {
                ds.forEach(dirs::add);
            } catch (IOException e) {
                log.warn("cannot list %s: %s", byHash, e.getMessage());
                return;
            }
        }
        dirs.sort(null);
        for (Path dir : dirs) {
            if (cancel.cancelled()) {
                return;
            }
            List<Path> sets = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.par2")) {
                ds.forEach(sets::add);
            } catch (IOException e) {
                continue;
            }
            catalog.inTransaction(() -> {
                for (Path set : sets) {
                    byte[] h = hashOf(set);
                    if (h == null) {
                        continue;
                    }
                    if (table.liveFiles(h) == 0) {
                        if (moveToTrash(h, day)) {
                            ParityTable.Row row = table.get(h);
                            if (row == null) {
                                table.present(h, 0, sizeOf(trashFile(h, day)), 0, 0, now);
                            }
                            table.trashed(h, now, day);
                            orphans[0]++;
                        }
                    } else if (table.get(h) == null || !table.get(h).present()) {
                        Par2Set.Info info = read(set);
                        if (info != null && info.healthy()) {
                            table.present(
                                    h, info.fileSize(), info.bytes(), info.blockSize(), info.recoveryBlocks(), now);
                        }
                    }
                }
            });
        }
        catalog.inTransaction(() -> {
            for (byte[] h : table.presentHashes()) {
                if (!Files.exists(setFile(h), LinkOption.NOFOLLOW_LINKS)) {
                    table.forget(h);
                    table.owe(h);
                }
            }
            catalog.meta(META_SWEPT, Long.toString(now));
        });
        stats.add("orphan_parity_cleaned", orphans[0]);
        if (orphans[0] > 0) {
            log.info("moved %d parity sets no cataloged file needs to trash", orphans[0]);
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    private Par2Set.Info read(Path set) {
        try {
            return Par2Set.read(set);
        } catch (IOException e) {
            log.warn("cannot read %s: %s", set, e.getMessage());
            return null;
        }
    }

    private static byte[] hashOf(Path set) {
        String n = set.getFileName().toString();
        if (n.length() != 64 + 5) {
            return null;
        }
        try {
            return HexFormat.of().parseHex(n.substring(0, 64));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private String today() {
        return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC).toString();
    }

    private void event(EventType type, Long rootId, Long fileId, byte[] path, String detail) {
        ctx.event(type, rootId, fileId, path, detail);
    }

    private static String detail(byte[] h, long bytes) {
        return "{\"sha256\":\"" + hex(h) + "\",\"bytes\":" + bytes + "}";
    }

    private static int nameBytes(byte[] relPath) {
        int slash = -1;
        for (int i = 0; i < relPath.length; i++) {
            if (relPath[i] == '/') {
                slash = i;
            }
        }
        return relPath.length - slash - 1;
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    private void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            log.warn("cannot delete %s: %s", p, e.getMessage());
        }
    }

    static void deleteTree(Path p) {
        try {
            Files.walkFileTree(p, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // best effort: a leftover temp directory is removed by the next run
        }
    }
}
