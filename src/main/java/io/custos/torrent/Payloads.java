package io.custos.torrent;

import io.custos.catalog.Catalog;
import io.custos.catalog.PayloadTable;
import io.custos.catalog.RootRow;
import io.custos.config.Config;
import io.custos.config.RootSet;
import io.custos.fs.RawPaths;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Payloads from the catalog (SPEC §9). A payload instance is the set of files under a torrent's
 * content path: the directory's files, or the one file of a single-file torrent. Its payload hash
 * is the SHA-256 over the sorted lines {@code relpath|size|sha256hex\n}, {@code relpath} being the
 * raw bytes of the path relative to the content path (for a single file: its name). Two instances
 * with the same hash hold the same files, whatever their folder's name: their torrents are
 * siblings. The hash is null ({@code incomplete}) when the content path is in no scanned root, or a
 * file under it has no hash, is damaged, or changed since it was hashed.
 */
public final class Payloads {
    /** A directory of files, or one file. */
    public enum Kind {
        DIR,
        FILE;

        public String sql() {
            return this == DIR ? "dir" : "file";
        }
    }

    /** Where an instance lies. */
    public enum Side {
        STASH,
        POOL,
        OTHER;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One file of an instance: its path relative to the content path, and its catalog row. */
    public record Entry(byte[] rel, PayloadTable.PayloadFile row) {}

    /**
     * One instance. {@code root} is the configured root holding it (null when none), {@code
     * rootRow} its catalog row (null when never scanned); {@code hash} null means incomplete, with
     * the {@code reason}.
     */
    public record Instance(
            String path,
            Kind kind,
            byte[] hash,
            String reason,
            Config.Root root,
            RootRow rootRow,
            byte[] rootRel,
            List<Entry> entries,
            long bytes) {

        public boolean complete() {
            return hash != null;
        }

        public String hashHex() {
            return hash == null ? null : HexFormat.of().formatHex(hash);
        }

        /** The file of this instance at {@code rel}. */
        public Path file(byte[] rel) {
            return fileOf(path, kind, rel);
        }
    }

    private final Config config;
    private final Catalog catalog;
    private final Map<String, Config.Root> roots;
    private final Map<String, RootRow> rows = new HashMap<>();
    private final Map<String, Instance> cache = new HashMap<>();

    public Payloads(Config config, Catalog catalog) {
        this.config = config;
        this.catalog = catalog;
        this.roots = RootSet.resolve(config).roots();
        if (catalog != null) {
            for (RootRow r : catalog.roots().all()) {
                rows.put(r.name(), r);
            }
        }
    }

    /** The instance at a content path (absolute); computed once per path. */
    public Instance at(String contentPath) {
        String key = normal(contentPath);
        return cache.computeIfAbsent(key, this::compute);
    }

    /** Forgets what was computed (after the catalog changed). */
    public void forget() {
        cache.clear();
        rows.clear();
        if (catalog != null) {
            for (RootRow r : catalog.roots().all()) {
                rows.put(r.name(), r);
            }
        }
    }

    /** The configured root whose directory holds {@code path} (the deepest one), or null. */
    public Config.Root rootOf(String path) {
        byte[] p = RawPaths.bytes(RawPaths.path(normal(path)));
        Config.Root best = null;
        int bestLen = -1;
        for (Config.Root r : roots.values()) {
            byte[] rp = RawPaths.bytes(RawPaths.path(normal(r.path())));
            if (RawPaths.under(p, rp) && rp.length > bestLen) {
                best = r;
                bestLen = rp.length;
            }
        }
        return best;
    }

    /** The catalog row of a configured root; null when never recorded. */
    public RootRow row(Config.Root root) {
        return root == null ? null : rows.get(root.name());
    }

    /** Which side of the rehome layout a path is on. */
    public Side side(String path) {
        Config.Rehome r = config.rehome();
        if (r.stashRoot() != null && under(path, r.stashRoot())) {
            return Side.STASH;
        }
        if (r.poolRoot() != null && under(path, r.poolRoot())) {
            return Side.POOL;
        }
        return Side.OTHER;
    }

    /** Whether {@code path} is {@code dir} or below it. */
    public static boolean under(String path, String dir) {
        return RawPaths.under(RawPaths.bytes(RawPaths.path(normal(path))), RawPaths.bytes(RawPaths.path(normal(dir))));
    }

    /** {@code path} without a trailing slash and without "." or ".." parts. */
    public static String normal(String path) {
        String n = RawPaths.path(path).normalize().toString();
        return n.isEmpty() ? "/" : n;
    }

    private Instance compute(String contentPath) {
        Config.Root root = rootOf(contentPath);
        Path content = RawPaths.path(contentPath);
        Kind diskKind = Files.isRegularFile(content, LinkOption.NOFOLLOW_LINKS) ? Kind.FILE : Kind.DIR;
        if (root == null) {
            return incomplete(contentPath, diskKind, "it is in no configured root", null, null, null);
        }
        RootRow row = rows.get(root.name());
        byte[] rel = RawPaths.bytes(RawPaths.path(normal(root.path())).relativize(RawPaths.path(contentPath)));
        if (row == null || row.lastScanAt() == null) {
            return incomplete(contentPath, diskKind, "root " + root.name() + " has not been scanned", root, row, rel);
        }
        List<PayloadTable.PayloadFile> files = catalog.payloads().filesUnder(row.id(), rel);
        if (files.isEmpty()) {
            return incomplete(
                    contentPath,
                    diskKind,
                    "no cataloged file under it (scan root " + root.name() + " again)",
                    root,
                    row,
                    rel);
        }
        boolean single = files.size() == 1 && Arrays.equals(files.get(0).path(), rel) && rel.length > 0;
        Kind kind = single ? Kind.FILE : Kind.DIR;
        List<Entry> entries = new ArrayList<>(files.size());
        String reason = null;
        long bytes = 0;
        byte[] name = RawPaths.bytes(content.getFileName() == null ? content : content.getFileName());
        for (PayloadTable.PayloadFile f : files) {
            byte[] r = single
                    ? name
                    : rel.length == 0 ? f.path() : Arrays.copyOfRange(f.path(), rel.length + 1, f.path().length);
            entries.add(new Entry(r, f));
            bytes += f.size();
            if (reason == null) {
                String shown = root.name() + "/" + RawPaths.display(f.path());
                if (f.sha256() == null) {
                    reason = "file " + shown + " has no hash yet";
                } else if (!f.status().equals("ok")) {
                    reason = "file " + shown + " is " + f.status();
                } else if (f.pending()) {
                    reason = "file " + shown + " changed since it was hashed";
                }
            }
        }
        entries.sort((a, b) -> Arrays.compareUnsigned(a.rel(), b.rel()));
        byte[] hash = reason == null ? hash(entries) : null;
        return new Instance(normal(contentPath), kind, hash, reason, root, row, rel, List.copyOf(entries), bytes);
    }

    private static Instance incomplete(
            String path, Kind kind, String reason, Config.Root root, RootRow row, byte[] rel) {
        return new Instance(normal(path), kind, null, reason, root, row, rel, List.of(), 0);
    }

    /** The payload hash of entries sorted by {@code rel} (unsigned bytes). */
    public static byte[] hash(List<Entry> sorted) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            HexFormat hex = HexFormat.of();
            for (Entry e : sorted) {
                line.reset();
                line.writeBytes(e.rel());
                line.writeBytes(
                        ("|" + e.row().size() + "|" + hex.formatHex(e.row().sha256()) + "\n")
                                .getBytes(StandardCharsets.US_ASCII));
                md.update(line.toByteArray());
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The file at {@code rel} of an instance at {@code path}: the path itself for a single file. */
    public static Path fileOf(String path, Kind kind, byte[] rel) {
        Path p = RawPaths.path(path);
        return kind == Kind.FILE ? p : RawPaths.resolve(p, rel);
    }
}
