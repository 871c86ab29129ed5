package io.custos.archive;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.custos.config.Config;
import io.custos.exec.ExternalProcess;
import io.custos.fs.Permissions;
import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import io.custos.run.CustosException;
import io.custos.run.RunContext;
import io.custos.run.Version;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The parts of the archive job that touch ZFS and files: a consistent view of a job's source (a
 * snapshot read through {@code .zfs/snapshot} or a read-only clone; the live directory with
 * snapshot mode {@code none}, or in {@code auto} mode off ZFS), and one folder zipped and
 * published with its sidecars, metadata and state.
 */
public class Archiver {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one publish put in place. */
    public record Published(long files, long bytes, long zipBytes, String sha256) {}

    private final RunContext ctx;
    private final Map<String, String> env;
    private final Permissions permissions;

    public Archiver(RunContext ctx, Map<String, String> env) {
        this.ctx = ctx;
        this.env = env;
        this.permissions = new Permissions(ctx.config().process().umask());
    }

    /**
     * This run's view of the job's source. With {@code dryRun} no snapshot is made: the live
     * directory is read, and the snapshot it would have made is named.
     */
    public SourceView open(Config.ZipJob job, boolean dryRun) throws IOException {
        try {
            return openView(job, dryRun);
        } catch (ZfsException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private SourceView openView(Config.ZipJob job, boolean dryRun) throws IOException, ZfsException {
        Path source = RawPaths.path(job.sourcePath());
        String mode = job.snapshot().mode();
        if (mode.equals("none")) {
            return live(source, null);
        }
        if (ExternalProcess.find("zfs", env) == null) {
            if (mode.equals("zfs")) {
                throw CustosException.environment(
                        "zip job " + job.name() + ": snapshot.mode is \"zfs\" but the zfs program was not found;"
                                + " install ZFS or set snapshot.mode to \"auto\" or \"none\"",
                        null);
            }
            ctx.log().info("zip job %s: no zfs program; reading the live folders (snapshot.mode auto)", job.name());
            return live(source, null);
        }
        Zfs zfs = Zfs.find(env, ctx.cancel());
        Zfs.Dataset dataset = zfs.datasetOf(source);
        if (dataset == null) {
            if (mode.equals("zfs")) {
                throw CustosException.environment(
                        "zip job " + job.name() + ": snapshot.mode is \"zfs\" but " + job.sourcePath()
                                + " is not on a ZFS dataset",
                        null);
            }
            ctx.log().info("zip job %s: %s is not on ZFS; reading the live folders", job.name(), job.sourcePath());
            return live(source, null);
        }
        ZfsSnapshots snapshots = new ZfsSnapshots(
                zfs,
                job.name(),
                dataset,
                source,
                job.snapshot().prefix(),
                job.snapshot().retention(),
                ctx.clock(),
                ctx.log());
        if (dryRun) {
            return live(source, snapshots.plannedName());
        }
        Zfs.Snapshot previous = snapshots.previous();
        ZfsSnapshots.View view = snapshots.open();
        Set<String> changed = null;
        if (previous != null) {
            try {
                changed = changedFolders(zfs, previous, view.snapshot(), source);
            } catch (ZfsException e) {
                // Never "nothing changed" on output that cannot be read: the manifests decide.
                ctx.log().warn("zip job %s: zfs diff failed (%s); comparing manifests", job.name(), e.getMessage());
            }
        }
        Set<String> changedFinal = changed;
        return new SourceView() {
            @Override
            public Path dir() {
                return view.dir();
            }

            @Override
            public String snapshot() {
                return view.snapshot().shortName();
            }

            @Override
            public Set<String> changed() {
                return changedFinal;
            }

            @Override
            public void close() throws IOException {
                try {
                    view.close();
                } catch (ZfsException e) {
                    throw new IOException(e.getMessage(), e);
                } finally {
                    try {
                        snapshots.prune();
                    } catch (ZfsException e) {
                        ctx.log().warn("zip job %s: pruning old snapshots failed: %s", job.name(), e.getMessage());
                    }
                }
            }
        };
    }

    /**
     * The first-level folders of {@code source} that {@code zfs diff} says changed between the two
     * snapshots; null where {@code zfs diff} is not available (zfs-fuse) and the manifest decides.
     */
    private Set<String> changedFolders(Zfs zfs, Zfs.Snapshot from, Zfs.Snapshot to, Path source)
            throws IOException, ZfsException {
        var changes = zfs.diff(from.fullName(), to.fullName());
        if (changes == null) {
            return null;
        }
        byte[] root = RawPaths.bytes(source.toRealPath());
        Set<String> out = new TreeSet<>();
        for (Zfs.Change c : changes) {
            addFolder(c.path(), root, out);
            if (c.newPath() != null) {
                addFolder(c.newPath(), root, out);
            }
        }
        return out;
    }

    private static void addFolder(byte[] path, byte[] root, Set<String> out) {
        if (path == null || path.length <= root.length + 1 || !RawPaths.under(path, root)) {
            return;
        }
        int from = root.length + 1;
        int end = from;
        while (end < path.length && path[end] != '/') {
            end++;
        }
        out.add(RawPaths.display(Arrays.copyOfRange(path, from, end)));
    }

    private static SourceView live(Path source, String plannedSnapshot) {
        return new SourceView() {
            @Override
            public Path dir() {
                return source;
            }

            @Override
            public String snapshot() {
                return plannedSnapshot;
            }

            @Override
            public Set<String> changed() {
                return null;
            }

            @Override
            public void close() {}
        };
    }

    /**
     * Two jobs that snapshot the same dataset with the same prefix would prune each other's
     * snapshots and take them as their base: refused (exit 2) before anything is made.
     */
    public void checkPrefixes(List<Config.ZipJob> jobs) {
        if (ExternalProcess.find("zfs", env) == null) {
            return;
        }
        Zfs zfs = Zfs.find(env, ctx.cancel());
        Map<String, String> seen = new HashMap<>();
        for (Config.ZipJob j : jobs) {
            if (j.snapshot().mode().equals("none")) {
                continue;
            }
            Zfs.Dataset d;
            try {
                d = zfs.datasetOf(RawPaths.path(j.sourcePath()));
            } catch (ZfsException | IOException e) {
                continue; // reported when the job runs
            }
            if (d == null) {
                continue;
            }
            String other = seen.putIfAbsent(d.name() + "@" + j.snapshot().prefix(), j.name());
            if (other != null) {
                throw CustosException.usage("zip jobs \"" + other + "\" and \"" + j.name() + "\" both snapshot dataset "
                        + d.name() + " with the prefix \"" + j.snapshot().prefix() + "\": each job prunes the snapshots"
                        + " of its prefix, so give each its own snapshot.prefix");
            }
        }
    }

    /** The manifest hash the folder's last published archive was made from, or null. */
    static String publishedManifest(Path dest) {
        Path state = dest.resolve(".state.json");
        try {
            if (!Files.exists(Publisher.Layout.of(dest).zip())) {
                return null;
            }
            JsonNode n = JSON.readTree(Files.readAllBytes(state));
            JsonNode m = n.get("manifest_sha256");
            return m == null || m.isNull() ? null : m.asText();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Zips {@code src} and publishes it into {@code dest}, all-or-nothing. */
    public Published zipAndPublish(
            Config.ZipJob job,
            SourceView view,
            Path src,
            Path dest,
            String name,
            ObjectNode metadataBase,
            FolderManifest manifest,
            CancelToken cancel)
            throws IOException {
        Publisher publisher = new Publisher(permissions);
        publisher.prepare(dest);
        Path staged = publisher.stagingZip(dest);
        FolderZip zipper = new FolderZip(FolderZip.Compression.parse(job.compression()), ZoneOffset.UTC, ctx.clock());
        FolderZip.Result r;
        try {
            r = zipper.zip(src, staged, cancel, null);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(staged);
            throw e;
        }
        ObjectNode meta = JSON.createObjectNode();
        meta.put("zip_name", name + ".zip");
        ArrayNode files = meta.putArray("files");
        r.files().forEach(files::add);
        meta.put("zip_md5", r.md5Hex());
        meta.put("zip_sha256", r.sha256Hex());
        meta.put("total_files", r.totalFiles());
        meta.put("total_bytes", r.totalBytes());
        meta.put("created_at_utc", Instant.ofEpochMilli(ctx.now()).toString());
        meta.put("snapshot", view.snapshot());
        meta.put("job", job.name());
        meta.put("source", metadataBase.get("source").asText());
        meta.put("host", metadataBase.get("host").asText());
        meta.put("custos_version", Version.of());
        ObjectNode state = JSON.createObjectNode();
        state.put("manifest_sha256", manifest.sha256());
        state.put("snapshot", view.snapshot());
        state.put("zipped_at_utc", Instant.ofEpochMilli(ctx.now()).toString());
        state.put("zip_sha256", r.sha256Hex());
        state.put("run_id", ctx.runId());
        byte[] metaBytes = (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta) + "\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] stateBytes = (JSON.writeValueAsString(state) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (cancel.cancelled()) {
            Files.deleteIfExists(staged);
            throw new IOException("stopped before publishing");
        }
        publisher.publish(
                dest, new Publisher.Generation(staged, r.md5Hex(), r.sha256Hex(), metaBytes, stateBytes), job.keep());
        return new Published(r.totalFiles(), r.totalBytes(), r.zipBytes(), r.sha256Hex());
    }
}
