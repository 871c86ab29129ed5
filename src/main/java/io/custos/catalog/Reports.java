package io.custos.catalog;

import io.custos.fs.RawPaths;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What {@code status}, {@code history} and {@code events} show, read from the catalog as JSON-ready maps. */
public final class Reports {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private final Catalog catalog;

    public Reports(Catalog catalog) {
        this.catalog = catalog;
    }

    /** Totals per root and status, verification age, the last runs, the files with problems. */
    public Map<String, Object> status(long nowMillis) {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<Long, Map<FileStatus, long[]>> totals = catalog.files().totals();
        List<Map<String, Object>> roots = new ArrayList<>();
        long live = 0;
        long liveBytes = 0;
        long bad = 0;
        for (RootRow r : catalog.roots().all()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", r.name());
            m.put("path", r.path());
            m.put("last_scan_at", iso(r.lastScanAt()));
            Map<String, Object> byStatus = new LinkedHashMap<>();
            Map<FileStatus, long[]> t = totals.getOrDefault(r.id(), Map.of());
            for (FileStatus s : FileStatus.values()) {
                long[] v = t.getOrDefault(s, new long[2]);
                byStatus.put(s.sql(), Map.of("files", v[0], "bytes", v[1]));
                if (s != FileStatus.DELETED) {
                    live += v[0];
                    liveBytes += v[1];
                }
                if (s == FileStatus.DAMAGED || s == FileStatus.TRUNCATED) {
                    bad += v[0];
                }
            }
            m.put("files", byStatus);
            long[] ver = catalog.files().verification(r.id());
            m.put("never_verified", ver[0]);
            m.put("oldest_verification", ver[1] == 0 ? null : iso(ver[1]));
            m.put("oldest_verification_age_days", ver[1] == 0 ? null : (nowMillis - ver[1]) / 86_400_000L);
            roots.add(m);
        }
        out.put("catalog", catalog.file().toString());
        out.put("totals", Map.of("files", live, "bytes", liveBytes, "damaged_or_truncated", bad));
        out.put("roots", roots);
        long[] p = catalog.parity().totals();
        Map<String, Object> parity = new LinkedHashMap<>();
        parity.put("sets", p[0]);
        parity.put("bytes", p[1]);
        parity.put("percent_of_data", liveBytes == 0 ? 0.0 : Math.round(p[1] * 1000.0 / liveBytes) / 10.0);
        parity.put("owed", catalog.parity().owedCount());
        parity.put("trash_sets", p[2]);
        parity.put("trash_bytes", p[3]);
        out.put("parity", parity);
        List<Map<String, Object>> runs = new ArrayList<>();
        for (RunRow r : catalog.runs().latest(10)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("run_id", r.id());
            m.put("command", r.command());
            m.put("started_at", iso(r.startedAt()));
            m.put("finished_at", iso(r.finishedAt()));
            m.put("exit_code", r.exitCode());
            runs.add(m);
        }
        out.put("last_runs", runs);
        List<Map<String, Object>> open = new ArrayList<>();
        Map<Long, String> names = rootNames();
        for (FileRow f : catalog.files().problems(100)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("root", names.get(f.rootId()));
            m.put("path", RawPaths.display(f.path()));
            m.put("status", f.status().sql());
            m.put("since", iso(f.lastSeen()));
            open.add(m);
        }
        out.put("open_problems", open);
        return out;
    }

    /** Where a path a user typed lies: a root and the path's bytes relative to it. */
    public record Located(RootRow root, byte[] relative) {}

    /**
     * Finds the root of {@code path} (absolute, or relative to {@code cwd}); the file need not
     * exist any more. Root paths are compared as configured and as resolved through symlinks.
     */
    public Located locate(String path, Path cwd) {
        byte[] raw = RawPaths.unescape(path);
        byte[] abs = raw.length > 0 && raw[0] == '/' ? raw : join(RawPaths.bytes(cwd.toAbsolutePath()), raw);
        abs = normalize(abs);
        for (RootRow r : catalog.roots().all()) {
            for (byte[] rootBytes : rootForms(r.path())) {
                if (RawPaths.under(abs, rootBytes) && abs.length > rootBytes.length) {
                    int from = rootBytes.length + (rootBytes[rootBytes.length - 1] == '/' ? 0 : 1);
                    return new Located(r, java.util.Arrays.copyOfRange(abs, from, abs.length));
                }
            }
        }
        throw new CustosException(ExitCode.USAGE, path + " is not under any cataloged root");
    }

    /** Every event of the file(s) that are or were at this path, oldest first. */
    public Map<String, Object> history(Located at) {
        List<FileRow> rows = catalog.files().historyRows(at.root().id(), at.relative());
        if (rows.isEmpty()) {
            throw new CustosException(
                    ExitCode.USAGE,
                    "no cataloged file at " + at.root().name() + "/" + RawPaths.display(at.relative())
                            + " (now or before)");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("root", at.root().name());
        out.put("path", RawPaths.display(at.relative()));
        List<Map<String, Object>> files = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        Map<Long, String> names = rootNames();
        for (FileRow f : rows) {
            ids.add(f.id());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file_id", f.id());
            m.put("root", names.get(f.rootId()));
            m.put("path", RawPaths.display(f.path()));
            m.put("status", f.status().sql());
            m.put("size", f.size());
            m.put("sha256", f.sha256() == null ? null : HexFormat.of().formatHex(f.sha256()));
            m.put("first_seen", iso(f.firstSeen()));
            m.put("last_seen", iso(f.lastSeen()));
            m.put("last_verified", iso(f.lastVerified()));
            files.add(m);
        }
        out.put("files", files);
        out.put("events", events(catalog.events().forFiles(ids), names));
        return out;
    }

    /** Events newest first. */
    public List<Map<String, Object>> events(Long sinceMillis, List<String> types, String rootName, int limit) {
        Map<Long, String> names = rootNames();
        Long rootId = null;
        if (rootName != null) {
            RootRow r = catalog.roots().byName(rootName);
            if (r == null) {
                throw new CustosException(
                        ExitCode.USAGE,
                        "unknown root \"" + rootName + "\"; cataloged roots: " + String.join(", ", names.values()));
            }
            rootId = r.id();
        }
        return events(catalog.events().query(sinceMillis, types, rootId, limit), names);
    }

    private static List<Map<String, Object>> events(List<Event> events, Map<Long, String> names) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Event e : events) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("time", iso(e.time()));
            m.put("type", e.type());
            m.put("run_id", e.runId());
            m.put("root", e.rootId() == null ? null : names.get(e.rootId()));
            m.put("path", e.path() == null ? null : RawPaths.display(e.path()));
            m.put("file_id", e.fileId());
            m.put("detail", e.detail() == null ? null : parse(e.detail()));
            out.add(m);
        }
        return out;
    }

    private static Object parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return json;
        }
    }

    private Map<Long, String> rootNames() {
        Map<Long, String> names = new LinkedHashMap<>();
        for (RootRow r : catalog.roots().all()) {
            names.put(r.id(), r.name());
        }
        return names;
    }

    private static List<byte[]> rootForms(String rootPath) {
        List<byte[]> forms = new ArrayList<>();
        forms.add(normalize(RawPaths.unescape(rootPath)));
        try {
            forms.add(RawPaths.bytes(RawPaths.path(rootPath).toRealPath()));
        } catch (java.io.IOException | RuntimeException e) {
            // the root is not there now; its configured path is enough
        }
        return forms;
    }

    private static byte[] join(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + 1 + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        out[a.length] = '/';
        System.arraycopy(b, 0, out, a.length + 1, b.length);
        return out;
    }

    /** Removes "." and ".." components and repeated slashes, without touching the disk. */
    static byte[] normalize(byte[] path) {
        List<byte[]> parts = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= path.length; i++) {
            if (i == path.length || path[i] == '/') {
                byte[] part = java.util.Arrays.copyOfRange(path, start, i);
                start = i + 1;
                if (part.length == 0 || (part.length == 1 && part[0] == '.')) {
                    continue;
                }
                if (part.length == 2 && part[0] == '.' && part[1] == '.') {
                    if (!parts.isEmpty()) {
                        parts.remove(parts.size() - 1);
                    }
                    continue;
                }
                parts.add(part);
            }
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.write('/');
            out.write(p, 0, p.length);
        }
        return out.size() == 0 ? new byte[] {'/'} : out.toByteArray();
    }

    static String iso(Long millis) {
        return millis == null ? null : Instant.ofEpochMilli(millis).toString();
    }
}
