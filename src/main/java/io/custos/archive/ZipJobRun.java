package io.custos.archive;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.custos.config.Config;
import io.custos.fs.FileIdentity;
import io.custos.fs.RawPaths;
import io.custos.notify.Notice;
import io.custos.notify.Notifier;
import io.custos.run.CancelToken;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.Problem;
import io.custos.run.RunContext;
import io.custos.run.RunSummary;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * One {@code zip} run (SPEC §7): for each job, a consistent view of the source (a ZFS snapshot,
 * or the live folder), every first-level folder whose name matches the job's pattern zipped when
 * it changed (or failed last time), published all-or-nothing with its sidecars, retried with
 * backoff, stopped at the job's per-folder timeout. {@code --dry-run} says what would happen and
 * touches nothing: no snapshot, no temp file, no catalog row.
 */
public final class ZipJobRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code jobs}: names to run (empty = all); {@code folder}: only this folder. */
    public record Options(List<String> jobs, String folder, boolean dryRun) {}

    /** What became of one folder. */
    record FolderOutcome(String name, String state, int attempts, String error, long files, long bytes, long zipBytes) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("state", state);
            m.put("attempts", attempts);
            m.put("error", error);
            m.put("files", files);
            m.put("bytes", bytes);
            m.put("zip_bytes", zipBytes);
            return m;
        }
    }

    private final RunContext ctx;
    private final String host;
    private final Archiver archiver;

    /**
     * {@code archiver}: zips one folder and publishes it (the real one writes zips; tests may
     * inject faults).
     */
    public ZipJobRun(RunContext ctx, String host, Archiver archiver) {
        this.ctx = ctx;
        this.host = host;
        this.archiver = archiver;
    }

    /** The jobs of the configuration with these names (all when none); unknown names are exit 2. */
    public static List<Config.ZipJob> select(Config config, List<String> names) {
        List<Config.ZipJob> all = config.zip().jobs();
        if (names.isEmpty()) {
            return all;
        }
        List<Config.ZipJob> out = new ArrayList<>();
        for (String n : names) {
            Config.ZipJob found = null;
            for (Config.ZipJob j : all) {
                if (j.name().equals(n)) {
                    found = j;
                }
            }
            if (found == null) {
                List<String> known = new ArrayList<>();
                all.forEach(j -> known.add(j.name()));
                throw CustosException.usage("no zip job \"" + n + "\" in the configuration (jobs: "
                        + (known.isEmpty() ? "none" : String.join(", ", known)) + ")");
            }
            out.add(found);
        }
        return out;
    }

    public void run(List<Config.ZipJob> jobs, Options o, RunSummary summary) {
        archiver.checkPrefixes(ctx.config().zip().jobs());
        List<Map<String, Object>> report = new ArrayList<>();
        for (Config.ZipJob job : jobs) {
            if (ctx.cancel().cancelled()) {
                break;
            }
            report.add(runJob(job, o));
        }
        if (ctx.cancel().cancelled()) {
            ctx.findings().interrupted();
        }
        ctx.findings().fill(summary);
        summary.put("dry_run", o.dryRun()).put("jobs", report);
    }

    private Map<String, Object> runJob(Config.ZipJob job, Options o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", job.name());
        m.put("source", job.sourcePath());
        m.put("target", job.targetPath());
        List<Map<String, Object>> folders = new ArrayList<>();
        m.put("snapshot", null);
        m.put("folders", folders);
        Path source = RawPaths.path(job.sourcePath());
        Path target = RawPaths.path(job.targetPath());
        String why = preflight(job, source, target, o.dryRun());
        if (why != null) {
            ctx.problem(new Problem(null, job.name(), "zip_failed", why), ExitCode.PROBLEMS);
            m.put("error", why);
            return m;
        }
        try (SourceView view = archiver.open(job, o.dryRun())) {
            m.put("snapshot", view.snapshot());
            List<String> names = folders(view.dir(), job, o.folder());
            ctx.stats().add("folders_found", names.size());
            ctx.log()
                    .info(
                            "zip %s: %d folders in %s%s",
                            job.name(),
                            names.size(),
                            job.sourcePath(),
                            view.snapshot() == null ? "" : " (snapshot " + view.snapshot() + ")");
            List<FolderOutcome> outcomes = zipAll(job, view, target, names, o.dryRun());
            outcomes.forEach(f -> folders.add(f.json()));
        } catch (IOException | RuntimeException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            // A missing zfs, or a source not on ZFS with snapshot.mode zfs, is an environment error (exit 5).
            ExitCode code = e instanceof CustosException ce ? ce.exitCode() : ExitCode.PROBLEMS;
            ctx.problem(new Problem(null, job.name(), "zip_failed", msg), code);
            m.put("error", msg);
        }
        return m;
    }

    /** Source readable, target writable (or creatable), temp directory on the target's filesystem. */
    private String preflight(Config.ZipJob job, Path source, Path target, boolean dryRun) {
        if (!Files.isDirectory(source)) {
            return "source_path " + job.sourcePath() + " is not a directory";
        }
        Path existing = target;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !Files.isDirectory(existing) || !Files.isWritable(existing)) {
            return "target_path " + job.targetPath() + " is not writable";
        }
        if (job.tmpDir() != null) {
            Path tmp = RawPaths.path(job.tmpDir());
            try {
                if (!Files.isDirectory(tmp) || !Files.isWritable(tmp)) {
                    return "tmp_dir " + job.tmpDir() + " is not a writable directory";
                }
                if (FileIdentity.of(tmp.toRealPath()).device()
                        != FileIdentity.of(existing.toRealPath()).device()) {
                    return "tmp_dir " + job.tmpDir() + " is not on the filesystem of target_path " + job.targetPath()
                            + " (publishing must be a rename)";
                }
            } catch (IOException e) {
                return "tmp_dir " + job.tmpDir() + ": " + e.getMessage();
            }
        }
        return null;
    }

    /** First-level directories (not symlinks) whose name matches the pattern, sorted. */
    static List<String> folders(Path dir, Config.ZipJob job, String only) throws IOException {
        Pattern p = Pattern.compile(job.folderPattern());
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path f : ds) {
                String name = f.getFileName().toString();
                if (!p.matcher(name).matches() || (only != null && !only.equals(name))) {
                    continue;
                }
                if (FileIdentity.of(f).kind() == FileIdentity.Kind.DIRECTORY) {
                    out.add(name);
                }
            }
        }
        out.sort(null);
        return out;
    }

    private List<FolderOutcome> zipAll(
            Config.ZipJob job, SourceView view, Path target, List<String> names, boolean dryRun) {
        List<FolderOutcome> out = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, job.maxWorkers()), r -> {
            Thread t = new Thread(r, "custos-zip-" + job.name());
            t.setDaemon(true);
            return t;
        });
        try (io.custos.run.Progress.Task progress = ctx.progress().start("zipping " + job.name(), names.size(), 0)) {
            List<Future<FolderOutcome>> futures = new ArrayList<>();
            for (String name : names) {
                futures.add(pool.submit(() -> folder(job, view, target, name, dryRun)));
            }
            for (Future<FolderOutcome> f : futures) {
                try {
                    out.add(f.get());
                    progress.advance(1, 0);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    ctx.cancel().cancel();
                } catch (java.util.concurrent.ExecutionException e) {
                    ctx.log().error("zip %s: %s", job.name(), e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    /** One folder: unchanged, or zipped and published (with retries), or failed. */
    private FolderOutcome folder(Config.ZipJob job, SourceView view, Path target, String name, boolean dryRun)
            throws IOException {
        Path src = view.dir().resolve(name);
        Path dest = target.resolve(name);
        FolderManifest manifest = FolderManifest.of(src);
        boolean failedLast = false;
        var state = dryRun || ctx.catalog() == null
                ? null
                : ctx.catalog().zipState().get(job.name(), name);
        if (state != null) {
            failedLast = state.failed();
        }
        String published = Archiver.publishedManifest(dest);
        boolean changed = failedLast
                || published == null
                || !published.equals(manifest.sha256())
                || (view.changed() != null && view.changed().contains(name));
        if (!changed) {
            ctx.stats().inc("folders_unchanged");
            ctx.log().info("zip %s/%s: unchanged", job.name(), name);
            return new FolderOutcome(name, "unchanged", 0, null, manifest.files(), manifest.bytes(), 0);
        }
        if (dryRun) {
            return new FolderOutcome(
                    name, failedLast ? "would retry" : "would zip", 0, null, manifest.files(), manifest.bytes(), 0);
        }
        String problem = freeSpace(job, target, manifest.bytes());
        if (problem != null) {
            return failed(job, view, name, 0, problem, manifest);
        }
        String error = null;
        int attempts = 0;
        for (int attempt = 0; attempt <= job.retries() && !ctx.cancel().cancelled(); attempt++) {
            attempts++;
            if (attempt > 0) {
                long wait = job.retryBackoffSeconds() * 1000L * (1L << Math.min(attempt - 1, 10));
                ctx.log().info("zip %s/%s: attempt %d in %d s", job.name(), name, attempt + 1, wait / 1000);
                if (!sleep(wait)) {
                    break;
                }
            }
            try {
                Archiver.Published p = attemptWithTimeout(job, view, src, dest, name, manifest);
                ctx.catalog()
                        .inTransaction(() -> ctx.catalog()
                                .zipState()
                                .succeeded(job.name(), name, ctx.now(), 1, view.snapshot(), manifest.sha256()));
                ctx.stats().inc("folders_zipped");
                ctx.stats().add("files_zipped", p.files());
                ctx.stats().add("bytes_zipped", p.bytes());
                ctx.log().info("zip %s/%s: %d files, %d bytes zipped", job.name(), name, p.files(), p.zipBytes());
                if (job.notifySuccess()) {
                    notify(job, view, name, "zip.completed", attempts, null, p);
                }
                return new FolderOutcome(name, "zipped", attempts, null, p.files(), p.bytes(), p.zipBytes());
            } catch (IOException | RuntimeException e) {
                error = e.getMessage() == null ? e.toString() : e.getMessage();
                ctx.log().warn("zip %s/%s: attempt %d failed: %s", job.name(), name, attempts, error);
            }
        }
        if (ctx.cancel().cancelled() && error == null) {
            error = "interrupted";
        }
        return failed(job, view, name, attempts, error, manifest);
    }

    private Archiver.Published attemptWithTimeout(
            Config.ZipJob job, SourceView view, Path src, Path dest, String name, FolderManifest manifest)
            throws IOException {
        CancelToken folderCancel = new CancelToken();
        long timeout = job.taskTimeoutSeconds();
        Thread watchdog = null;
        if (timeout > 0) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeout);
            watchdog = new Thread(
                    () -> {
                        while (!folderCancel.cancelled()) {
                            if (System.nanoTime() > deadline || ctx.cancel().cancelled()) {
                                folderCancel.cancel();
                                return;
                            }
                            try {
                                Thread.sleep(50);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    },
                    "custos-zip-timeout");
            watchdog.setDaemon(true);
            watchdog.start();
        } else {
            watchdog = new Thread(
                    () -> {
                        while (!folderCancel.cancelled()) {
                            if (ctx.cancel().cancelled()) {
                                folderCancel.cancel();
                                return;
                            }
                            try {
                                Thread.sleep(100);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    },
                    "custos-zip-cancel");
            watchdog.setDaemon(true);
            watchdog.start();
        }
        try {
            Archiver.Published p = archiver.zipAndPublish(
                    job, view, src, dest, name, metadata(job, view, name), manifest, folderCancel);
            return p;
        } catch (IOException e) {
            if (folderCancel.cancelled() && !ctx.cancel().cancelled()) {
                throw new IOException("stopped after task_timeout_seconds (" + timeout + " s)", e);
            }
            throw e;
        } finally {
            folderCancel.cancel();
            watchdog.interrupt();
        }
    }

    private ObjectNode metadata(Config.ZipJob job, SourceView view, String name) {
        ObjectNode m = JSON.createObjectNode();
        m.put("job", job.name());
        m.put("source", job.sourcePath() + "/" + name);
        m.put("host", host);
        m.put("snapshot", view.snapshot());
        m.put("created_at_utc", Instant.ofEpochMilli(ctx.now()).toString());
        return m;
    }

    private String freeSpace(Config.ZipJob job, Path target, long folderBytes) {
        try {
            Path existing = target;
            while (!Files.exists(existing)) {
                existing = existing.getParent();
            }
            FileStore store = Files.getFileStore(existing);
            long need = folderBytes + job.minFreeBytes();
            if (store.getUsableSpace() < need) {
                return "not enough free space on " + existing + ": " + store.getUsableSpace() + " bytes free, " + need
                        + " needed (the folder's size plus min_free_bytes)";
            }
            return null;
        } catch (IOException e) {
            return "cannot check free space: " + e.getMessage();
        }
    }

    private FolderOutcome failed(
            Config.ZipJob job, SourceView view, String name, int attempts, String error, FolderManifest manifest) {
        ctx.catalog()
                .inTransaction(() ->
                        ctx.catalog().zipState().failed(job.name(), name, ctx.now(), attempts, error, view.snapshot()));
        ctx.stats().inc("folders_failed");
        ctx.problem(
                new Problem(
                        null,
                        job.name() + "/" + name,
                        "zip_failed",
                        "folder " + name + " of job " + job.name() + " failed after " + attempts + " attempt(s): "
                                + error + "; the previous archive is unchanged and the next run tries again"),
                ExitCode.PROBLEMS);
        notify(job, view, name, "zip.failed", attempts, error, null);
        return new FolderOutcome(name, "failed", attempts, error, manifest.files(), manifest.bytes(), 0);
    }

    private void notify(
            Config.ZipJob job,
            SourceView view,
            String name,
            String event,
            int attempts,
            String error,
            Archiver.Published p) {
        if (ctx.config().notifications().targets().isEmpty()) {
            return;
        }
        boolean ok = error == null;
        String title = "custos: " + (ok ? "zipped " : "zip failed: ") + job.name() + "/" + name;
        String message = ok
                ? "Folder " + name + " of job " + job.name() + " on " + host + " zipped: " + p.files() + " files into "
                        + job.targetPath() + "/" + name + "/" + name + ".zip"
                : "Folder " + name + " of job " + job.name() + " on " + host + " could not be zipped after " + attempts
                        + " attempt(s): " + error + ". The previous archive is unchanged; the next run tries again.";
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("event", event);
        doc.put("host", host);
        doc.put("command", "zip");
        doc.put("run_id", ctx.runId());
        doc.put("job", job.name());
        doc.put("folder", name);
        doc.put("snapshot", view.snapshot());
        doc.put("attempts", attempts);
        doc.put("error", error);
        doc.put("time", Instant.ofEpochMilli(ctx.now()).toString());
        doc.put("title", title);
        doc.put("message", message);
        synchronized (this) {
            new Notifier(ctx.config().notifications().targets(), ctx.log())
                    .send(new Notice(event, title, message, doc));
        }
    }

    private boolean sleep(long millis) {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            if (ctx.cancel().cancelled()) {
                return false;
            }
            try {
                Thread.sleep(Math.min(100, Math.max(1, end - System.currentTimeMillis())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
