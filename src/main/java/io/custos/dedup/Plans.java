package io.custos.dedup;

import io.custos.catalog.Catalog;
import io.custos.catalog.LinkTable;
import io.custos.catalog.RootRow;
import io.custos.config.Config;
import io.custos.config.RootSet;
import io.custos.fs.RawPaths;
import io.custos.run.CustosException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** What link's commands share: the roots they work on, the scan-first checks, plans as JSON-ready maps. */
public final class Plans {
    /** A root scanned longer ago than this is named in a warning: the plan may miss newer duplicates. */
    public static final long STALE_AFTER_MS = TimeUnit.DAYS.toMillis(7);

    /** The roots to work on and the warnings for people. */
    public record Scope(Map<Long, Duplicates.Root> roots, List<String> warnings) {}

    private Plans() {}

    /**
     * The configured roots the catalog knows, keyed by catalog id; only the named ones when
     * {@code names} is not empty (an unknown name is a usage error). A root never scanned is
     * left out with a warning; when no root is left, the user is told to scan first (exit 2).
     */
    public static Scope scope(Config cfg, Catalog catalog, List<String> names, long now) {
        RootSet.Resolved resolved = RootSet.resolve(cfg);
        List<Config.Root> wanted = RootSet.select(cfg, resolved, names);
        Map<String, RootRow> known = new LinkedHashMap<>();
        if (catalog != null) {
            for (RootRow r : catalog.roots().all()) {
                known.put(r.name(), r);
            }
        }
        Map<Long, Duplicates.Root> out = new LinkedHashMap<>();
        List<String> warnings = new ArrayList<>();
        for (Config.Root r : wanted) {
            RootRow row = known.get(r.name());
            if (row == null || row.lastScanAt() == null) {
                warnings.add("root " + r.name() + " has not been scanned: run custos scan " + r.name()
                        + " first to include it");
                continue;
            }
            if (now - row.lastScanAt() > STALE_AFTER_MS) {
                warnings.add("root " + r.name() + " was last scanned "
                        + Instant.ofEpochMilli(row.lastScanAt()) + ": run custos scan " + r.name()
                        + " first for an up-to-date result");
            }
            out.put(row.id(), new Duplicates.Root(row.id(), r.name(), r.path()));
        }
        if (out.isEmpty()) {
            throw CustosException.usage("the catalog has no scanned root to look for duplicates in"
                    + (names.isEmpty() ? "" : " (" + String.join(", ", names) + ")")
                    + ": run custos scan first");
        }
        return new Scope(out, warnings);
    }

    /** Every configured root the catalog knows, keyed by catalog id, with its configured path. */
    public static Map<Long, Duplicates.Root> rootsById(Config cfg, Catalog c) {
        Map<Long, Duplicates.Root> out = new LinkedHashMap<>();
        Map<String, Config.Root> configured = RootSet.resolve(cfg).roots();
        for (RootRow r : c.roots().all()) {
            Config.Root cr = configured.get(r.name());
            if (cr != null) {
                out.put(r.id(), new Duplicates.Root(r.id(), r.name(), cr.path()));
            }
        }
        return out;
    }

    public static Map<String, Object> toMap(LinkTable.Plan p, Map<String, long[]> counts) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", p.id());
        m.put("name", p.name());
        m.put("status", p.status());
        m.put("created_at", iso(p.createdAt()));
        m.put("started_at", iso(p.startedAt()));
        m.put("finished_at", iso(p.finishedAt()));
        m.put("min_size", p.minSize());
        m.put("roots", p.roots() == null ? null : rootNames(p.roots()));
        m.put("groups", p.groups());
        m.put("actions", p.actions());
        m.put("reclaimable_bytes", p.bytes());
        if (counts != null) {
            Map<String, Object> c = new LinkedHashMap<>();
            counts.forEach((k, v) -> c.put(k, v[0]));
            m.put("action_status", c);
            m.put("linked_bytes", counts.get("done")[1]);
        }
        return m;
    }

    public static Map<String, Object> actionMap(
            LinkTable.Action a, Map<Long, Duplicates.Root> roots, String result, String reason) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", a.id());
        m.put("group", a.groupNo());
        m.put("sha256", HexFormat.of().formatHex(a.sha256()));
        m.put("size", a.size());
        m.put("keep", where(roots, a.keepRootId(), a.keepPath()));
        m.put("duplicate", where(roots, a.dupRootId(), a.dupPath()));
        m.put("status", result);
        m.put("reason", reason);
        return m;
    }

    /** {@code {root, path}} for JSON; the root's catalog id when it is no longer configured. */
    static Map<String, Object> where(Map<Long, Duplicates.Root> roots, long rootId, byte[] path) {
        Map<String, Object> m = new LinkedHashMap<>();
        Duplicates.Root r = roots.get(rootId);
        m.put("root", r == null ? "#" + rootId : r.name());
        m.put("path", RawPaths.display(path));
        return m;
    }

    /** The root names stored with a plan (a JSON array). */
    static List<String> rootNames(String json) {
        try {
            return List.of(new com.fasterxml.jackson.databind.ObjectMapper().readValue(json, String[].class));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return List.of(json);
        }
    }

    private static String iso(Long millis) {
        return millis == null ? null : Instant.ofEpochMilli(millis).toString();
    }

    /** A group as JSON: content, size, device, reclaimable bytes, its files (the kept one first). */
    public static Map<String, Object> groupMap(Duplicates.Group g) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sha256", HexFormat.of().formatHex(g.sha256()));
        m.put("size", g.size());
        m.put("device", g.device());
        m.put("inodes", g.inodes());
        m.put("reclaimable_bytes", g.reclaimable());
        List<Map<String, Object>> files = new ArrayList<>();
        for (Duplicates.Member f : g.members()) {
            files.add(memberMap(f));
        }
        m.put("files", files);
        return m;
    }

    public static Map<String, Object> crossDeviceMap(Duplicates.CrossDevice c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sha256", HexFormat.of().formatHex(c.sha256()));
        m.put("size", c.size());
        m.put("devices", c.devices());
        List<Map<String, Object>> files = new ArrayList<>();
        for (Duplicates.Member f : c.members()) {
            Map<String, Object> fm = memberMap(f);
            fm.put("device", f.device());
            files.add(fm);
        }
        m.put("files", files);
        return m;
    }

    private static Map<String, Object> memberMap(Duplicates.Member f) {
        Map<String, Object> fm = new LinkedHashMap<>();
        fm.put("root", f.root().name());
        fm.put("path", RawPaths.display(f.path()));
        fm.put("inode", f.inode());
        return fm;
    }
}
