package io.custos.torrent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.custos.catalog.Catalog;
import io.custos.catalog.PayloadTable;
import io.custos.config.Config;
import io.custos.fs.RawPaths;
import io.custos.run.CustosException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code payload show} and {@code payload siblings}: what the last {@code payload sync} stored,
 * as JSON-ready maps. A HASH is a torrent's info-hash or a payload hash, or an unambiguous prefix
 * of either (at least 6 hex digits).
 */
public final class PayloadReport {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a HASH named: a torrent (then its instance) or a payload hash. */
    public record Target(PayloadTable.TorrentRow torrent, byte[] payloadHash, PayloadTable.Payload instance) {}

    private final Config config;
    private final Catalog catalog;

    public PayloadReport(Config config, Catalog catalog) {
        this.config = config;
        this.catalog = catalog;
    }

    /** Resolves a HASH; exit 2 when it names nothing or several things. */
    public Target resolve(String text) {
        String h = text.strip().toLowerCase(Locale.ROOT);
        if (!h.matches("[0-9a-f]{6,64}")) {
            throw CustosException.usage("\"" + text + "\" is not a hash: give a torrent's info-hash or a payload hash"
                    + " (or at least 6 of its first hex digits)");
        }
        if (catalog == null) {
            throw CustosException.usage("no payloads known yet: run custos payload sync first");
        }
        List<PayloadTable.TorrentRow> torrents = catalog.payloads().torrentsStartingWith(h);
        List<byte[]> hashes = catalog.payloads().hashesStartingWith(h);
        PayloadTable.TorrentRow exact = catalog.payloads().torrent(h);
        if (exact != null) {
            torrents = List.of(exact);
            hashes = List.of();
        }
        int n = torrents.size() + hashes.size();
        if (n == 0) {
            throw CustosException.usage("no torrent or payload " + h + " in the catalog (run custos payload sync"
                    + " to read qBittorrent again)");
        }
        if (n > 1) {
            throw CustosException.usage(
                    h + " is ambiguous: it starts " + n + " torrent or payload hashes; give more" + " digits");
        }
        if (!torrents.isEmpty()) {
            PayloadTable.TorrentRow t = torrents.get(0);
            PayloadTable.Payload p =
                    t.payloadId() == null ? null : catalog.payloads().payload(t.payloadId());
            return new Target(t, p == null ? null : p.payloadHash(), p);
        }
        return new Target(null, hashes.get(0), null);
    }

    /** {@code payload show}: the payload, its instances with their torrents, its files. */
    public Map<String, Object> show(Target target) {
        Payloads payloads = new Payloads(config, catalog);
        List<PayloadTable.Payload> instances = target.payloadHash() != null
                ? catalog.payloads().payloadsWithHash(target.payloadHash())
                : target.instance() == null ? List.of() : List.of(target.instance());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(
                "payload_hash",
                target.payloadHash() == null ? null : HexFormat.of().formatHex(target.payloadHash()));
        m.put("status", target.payloadHash() == null ? "incomplete" : "complete");
        if (target.torrent() != null) {
            m.put("torrent", target.torrent().hash());
        }
        List<Map<String, Object>> list = new ArrayList<>();
        long files = 0;
        long bytes = 0;
        for (PayloadTable.Payload p : instances) {
            Map<String, Object> im = storedMap(p, payloads.side(p.rootPath()));
            List<Map<String, Object>> ts = new ArrayList<>();
            for (PayloadTable.TorrentRow t : catalog.payloads().torrentsOf(p.id())) {
                ts.add(torrentMap(t, null));
            }
            im.put("torrents", ts);
            list.add(im);
            files = p.files();
            bytes = p.bytes();
        }
        m.put("files", files);
        m.put("bytes", bytes);
        m.put("instances", list);
        // The files as the catalog has them now (the first instance's).
        List<Map<String, Object>> fileList = new ArrayList<>();
        if (!instances.isEmpty()) {
            Payloads.Instance now = payloads.at(instances.get(0).rootPath());
            for (Payloads.Entry e : now.entries()) {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("path", RawPaths.display(e.rel()));
                f.put("size", e.row().size());
                f.put(
                        "sha256",
                        e.row().sha256() == null
                                ? null
                                : HexFormat.of().formatHex(e.row().sha256()));
                f.put("status", e.row().status());
                fileList.add(f);
            }
        }
        m.put("file_list", fileList);
        return m;
    }

    /**
     * {@code payload siblings}: the torrents sharing the payload hash (for an incomplete payload,
     * only those sharing its content path), the asked-for torrent marked {@code self}.
     */
    public Map<String, Object> siblings(Target target) {
        Payloads payloads = new Payloads(config, catalog);
        List<PayloadTable.Payload> instances = target.payloadHash() != null
                ? catalog.payloads().payloadsWithHash(target.payloadHash())
                : target.instance() == null ? List.of() : List.of(target.instance());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("torrent", target.torrent() == null ? null : target.torrent().hash());
        m.put(
                "payload_hash",
                target.payloadHash() == null ? null : HexFormat.of().formatHex(target.payloadHash()));
        m.put("status", target.payloadHash() == null ? "incomplete" : "complete");
        if (target.payloadHash() == null && target.instance() != null) {
            m.put("reason", target.instance().reason());
        }
        List<Map<String, Object>> list = new ArrayList<>();
        for (PayloadTable.Payload p : instances) {
            for (PayloadTable.TorrentRow t : catalog.payloads().torrentsOf(p.id())) {
                Map<String, Object> tm = torrentMap(t, payloads.side(p.rootPath()));
                tm.put(
                        "self",
                        target.torrent() != null && target.torrent().hash().equals(t.hash()));
                list.add(tm);
            }
        }
        if (target.torrent() != null && target.instance() == null) {
            Map<String, Object> tm =
                    torrentMap(target.torrent(), payloads.side(target.torrent().contentPath()));
            tm.put("self", true);
            list.add(tm);
        }
        m.put("siblings", list);
        return m;
    }

    /** An instance as computed now. */
    static Map<String, Object> instanceMap(Payloads.Instance i, Payloads.Side side) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("payload_hash", i.hashHex());
        m.put("status", i.complete() ? "complete" : "incomplete");
        m.put("reason", i.reason());
        m.put("path", i.path());
        m.put("kind", i.kind().sql());
        m.put("location", side.label());
        m.put("root", i.root() == null ? null : i.root().name());
        m.put("files", (long) i.entries().size());
        m.put("bytes", i.bytes());
        return m;
    }

    private static Map<String, Object> storedMap(PayloadTable.Payload p, Payloads.Side side) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", p.rootPath());
        m.put("kind", p.kind());
        m.put("location", side.label());
        m.put("status", p.status());
        m.put("reason", p.reason());
        m.put("files", p.files());
        m.put("bytes", p.bytes());
        m.put("synced_at", Instant.ofEpochMilli(p.syncedAt()).toString());
        return m;
    }

    static Map<String, Object> torrentMap(PayloadTable.TorrentRow t, Payloads.Side side) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hash", t.hash());
        m.put("name", t.name());
        m.put("save_path", t.savePath());
        m.put("content_path", t.contentPath());
        m.put("category", t.category());
        m.put("tags", tags(t.tags()));
        m.put("state", t.state());
        m.put("progress", t.progress());
        m.put("size", t.size());
        if (side != null) {
            m.put("location", side.label());
        }
        m.put("synced_at", Instant.ofEpochMilli(t.syncedAt()).toString());
        return m;
    }

    private static List<String> tags(String json) {
        try {
            return List.of(JSON.readValue(json, String[].class));
        } catch (JsonProcessingException e) {
            return List.of();
        }
    }
}
