package io.custos.run;

import io.custos.catalog.Catalog;
import io.custos.catalog.EventType;
import io.custos.config.Config;
import io.custos.fs.AtomicFiles;
import io.custos.fs.Permissions;
import io.custos.fs.RawPaths;
import io.custos.fs.RunLock;
import io.custos.notify.HealthPings;
import io.custos.notify.MetricsTextfile;
import io.custos.notify.Notice;
import io.custos.notify.Notifier;
import io.custos.notify.RunNotices;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place where a mutating command takes the run lock, opens the catalog and records its
 * run; on {@link #finish} it writes the run's JSON summary to {@code _logs/} and backs the
 * catalog up.
 */
public final class Workspace implements AutoCloseable {
    private static final DateTimeFormatter FILE_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final Config config;
    private final Path parityRoot;
    private final RunLock lock;
    private final Catalog catalog;
    private final long runId;
    private final Clock clock;
    private final Log log;
    private final Permissions permissions;
    private final String host;
    private final HealthPings pings;
    /** Set by {@link #finish}: what is told to notification targets once the lock is released. */
    private RunSummary finished;

    private List<String> repaired = List.of();
    /** The newest event before the run: a run that records no event changed no file. */
    private final long eventAtStart;

    private Workspace(
            Config config,
            Path parityRoot,
            RunLock lock,
            Catalog catalog,
            long runId,
            String host,
            Clock clock,
            Log log,
            HealthPings pings) {
        this.host = host;
        this.pings = pings;
        this.config = config;
        this.parityRoot = parityRoot;
        this.lock = lock;
        this.catalog = catalog;
        this.runId = runId;
        this.clock = clock;
        this.log = log;
        this.permissions = new Permissions(config.process().umask());
        this.eventAtStart = catalog.lastEventId();
    }

    public static Path parityRoot(Config config) {
        return RawPaths.path(config.parityRoot());
    }

    /** Lock (exit 3 when held), catalog (exit 5 when unusable), run row. */
    public static Workspace open(Config config, String command, String host, Clock clock, Log log) {
        Path root = parityRoot(config);
        Permissions permissions = new Permissions(config.process().umask());
        try {
            permissions.createDirectories(root.resolve("_db"));
        } catch (IOException e) {
            throw CustosException.environment("the parity root " + root + " is not writable: " + e.getMessage(), e);
        }
        RunLock lock = RunLock.acquire(root.resolve("_db").resolve("run.lock"), command, host, clock.instant());
        Catalog catalog;
        try {
            catalog = Catalog.open(Catalog.fileIn(root));
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
        permissions.apply(catalog.file());
        permissions.apply(root.resolve("_db").resolve("run.lock"));
        long runId = catalog.runs().start(command, host, clock.millis());
        log.runId(runId);
        HealthPings pings = new HealthPings(config.metrics().healthchecksUrl(), log);
        pings.start(runId);
        return new Workspace(config, root, lock, catalog, runId, host, clock, log, pings);
    }

    public Catalog catalog() {
        return catalog;
    }

    public long runId() {
        return runId;
    }

    public Path parityRoot() {
        return parityRoot;
    }

    /** What the parts of this run share; {@code par2} null when no root of the run keeps parity. */
    public RunContext context(Path par2, CancelToken cancel, Progress progress) {
        return context(par2, cancel, progress, Stats.SCAN);
    }

    /** The same with the counters of another command ({@link Stats#ZIP}...). */
    public RunContext context(Path par2, CancelToken cancel, Progress progress, String... counters) {
        return new RunContext(
                config, catalog, parityRoot, par2, runId, clock, log, cancel, new Findings(log, counters), progress);
    }

    /** Records the end of the run, writes {@code _logs/<time>-<run id>.json}, backs up the catalog. */
    public void finish(RunSummary summary) {
        Instant end = clock.instant();
        boolean changed = catalog.lastEventId() != eventAtStart;
        summary.runId(runId).finishedAt(end);
        String json = summary.toJson();
        catalog.runs().finish(runId, end.toEpochMilli(), summary.exitCode().code(), json);
        try {
            Path logs = permissions.createDirectories(parityRoot.resolve("_logs"));
            Path file = logs.resolve(FILE_TIME.format(summary.startedAt()) + "-" + runId + ".json");
            // Not fsynced: the run is recorded durably in the catalog; this copy is for people and scripts.
            AtomicFiles.write(file, (json + "\n").getBytes(StandardCharsets.UTF_8), false);
            permissions.apply(file);
        } catch (IOException e) {
            log.warn("cannot write the run summary to _logs: %s", e.getMessage());
        }
        if (summary.exitCode() != ExitCode.INTERRUPTED) {
            backup(end, changed);
        }
        MetricsTextfile.afterRun(config, catalog, clock.millis(), log);
        repaired = catalog.events().pathsOf(runId, EventType.REPAIRED);
        finished = summary;
    }

    /**
     * A copy of the catalog after a run that recorded a change (and after any run when there is no
     * copy yet). A run that changed no file would copy the same catalog again: at a million files
     * that is some 300 MB written per idle night, for nothing.
     */
    private void backup(Instant end, boolean changed) {
        int keep = config.catalogBackups();
        if (keep <= 0) {
            return;
        }
        Path dir = parityRoot.resolve("_db").resolve("backups");
        if (!changed && hasBackup(dir)) {
            log.debug("catalog unchanged by this run: no new backup");
            return;
        }
        try {
            permissions.createDirectories(dir);
            String name = "catalog-" + FILE_TIME.format(end) + "-" + runId + ".db";
            Path tmp = dir.resolve("." + name + ".tmp");
            Files.deleteIfExists(tmp);
            catalog.backupTo(tmp);
            permissions.apply(tmp);
            AtomicFiles.moveIntoPlace(tmp, dir.resolve(name));
            List<Path> all = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "catalog-*.db")) {
                ds.forEach(all::add);
            }
            // Newest first by run id: names that share a second (or a clock that stepped back) must not decide.
            all.sort((a, b) -> Long.compare(backupRun(b), backupRun(a)));
            for (int i = keep; i < all.size(); i++) {
                Files.deleteIfExists(all.get(i));
            }
        } catch (IOException | RuntimeException e) {
            log.warn("catalog backup failed: %s", e.getMessage());
        }
    }

    private static boolean hasBackup(Path dir) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "catalog-*.db")) {
            return ds.iterator().hasNext();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The run id in {@code catalog-<time>-<run id>.db}; -1 for a name of another shape. */
    static long backupRun(Path p) {
        String n = p.getFileName().toString();
        int dash = n.lastIndexOf('-');
        int dot = n.lastIndexOf(".db");
        try {
            return Long.parseLong(n.substring(dash + 1, dot));
        } catch (RuntimeException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        try {
            catalog.close();
        } finally {
            lock.close();
        }
        if (finished != null) {
            tell(finished);
        }
    }

    /**
     * Notifications and the closing health ping, after the lock is released: a dead target may
     * take its timeouts and retries, and no other run should wait for that. Never changes the
     * exit code.
     */
    private void tell(RunSummary summary) {
        List<Notice> notices = RunNotices.of(summary, host, repaired);
        Notifier notifier = new Notifier(config.notifications().targets(), log);
        for (Notice n : notices) {
            notifier.send(n);
        }
        pings.finish(
                runId,
                summary.exitCode().code(),
                notices.isEmpty() ? "" : notices.get(0).message());
    }
}
