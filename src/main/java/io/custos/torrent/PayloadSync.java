package io.custos.torrent;

import io.custos.catalog.Catalog;
import io.custos.catalog.PayloadTable;
import io.custos.config.Config;
import io.custos.run.Log;
import io.custos.run.RunSummary;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code payload sync}: every torrent qBittorrent has, mapped to its payload instance (its content
 * path) with the payload hash from the catalog, stored in {@code torrents} and {@code payloads}.
 * Torrents qBittorrent no longer has, and instances no torrent uses, are dropped.
 */
public final class PayloadSync {
    /** The counters of {@code payload sync}. */
    public static final String[] COUNTERS = {
        "torrents", "payloads", "payloads_complete", "payloads_incomplete", "sibling_groups", "torrents_removed"
    };

    /** What one sync found: counters and one map per instance (for JSON). */
    public record Result(Map<String, Long> stats, List<Map<String, Object>> payloads) {}

    private final Config config;
    private final Catalog catalog;
    private final QbClient qb;
    private final Log log;

    public PayloadSync(Config config, Catalog catalog, QbClient qb, Log log) {
        this.config = config;
        this.catalog = catalog;
        this.qb = qb;
        this.log = log;
    }

    /** Reads qBittorrent and the catalog; writes the tables unless {@code dryRun}. */
    public Result sync(long now, boolean dryRun) {
        List<Torrent> torrents = qb.torrents();
        Payloads payloads = new Payloads(config, catalog);
        Map<String, Payloads.Instance> instances = new LinkedHashMap<>();
        Map<String, List<Torrent>> byPath = new LinkedHashMap<>();
        for (Torrent t : torrents) {
            Payloads.Instance i = payloads.at(t.contentPath());
            instances.putIfAbsent(i.path(), i);
            byPath.computeIfAbsent(i.path(), k -> new ArrayList<>()).add(t);
        }
        Map<String, Integer> torrentsPerHash = new HashMap<>();
        long complete = 0;
        for (Payloads.Instance i : instances.values()) {
            if (i.complete()) {
                complete++;
                torrentsPerHash.merge(i.hashHex(), byPath.get(i.path()).size(), Integer::sum);
            }
        }
        long siblingGroups =
                torrentsPerHash.values().stream().filter(n -> n > 1).count();
        long[] removed = {0};
        if (!dryRun) {
            catalog.inTransaction(() -> {
                for (Payloads.Instance i : instances.values()) {
                    long id = catalog.payloads().upsertPayload(row(i, now));
                    for (Torrent t : byPath.get(i.path())) {
                        catalog.payloads().upsertTorrent(row(t, id, now));
                    }
                }
                removed[0] = catalog.payloads().removeTorrentsNotSyncedAt(now);
                catalog.payloads().removeUnreferencedPayloads();
            });
        }
        Map<String, Long> stats = new LinkedHashMap<>();
        stats.put("torrents", (long) torrents.size());
        stats.put("payloads", (long) instances.size());
        stats.put("payloads_complete", complete);
        stats.put("payloads_incomplete", instances.size() - complete);
        stats.put("sibling_groups", siblingGroups);
        stats.put("torrents_removed", removed[0]);
        List<Map<String, Object>> out = new ArrayList<>();
        for (Payloads.Instance i : instances.values()) {
            Map<String, Object> m = PayloadReport.instanceMap(i, payloads.side(i.path()));
            List<String> hashes = new ArrayList<>();
            byPath.get(i.path()).forEach(t -> hashes.add(t.hash()));
            m.put("torrents", hashes);
            out.add(m);
            if (!i.complete()) {
                log.debug("payload %s: incomplete: %s", i.path(), i.reason());
            }
        }
        log.info(
                "payload sync: %d torrents, %d payloads (%d complete, %d incomplete), %d sibling groups",
                torrents.size(), instances.size(), complete, instances.size() - complete, siblingGroups);
        return new Result(stats, out);
    }

    /** Stores the torrents of a few instances again (after a rehome moved them). */
    public static void store(Catalog catalog, List<Torrent> torrents, Payloads payloads, long now) {
        for (Torrent t : torrents) {
            Payloads.Instance i = payloads.at(t.contentPath());
            long id = catalog.payloads().upsertPayload(row(i, now));
            catalog.payloads().upsertTorrent(row(t, id, now));
        }
        catalog.payloads().removeUnreferencedPayloads();
    }

    static PayloadTable.Payload row(Payloads.Instance i, long now) {
        return new PayloadTable.Payload(
                0,
                i.path(),
                i.kind().sql(),
                i.hash(),
                i.complete() ? "complete" : "incomplete",
                i.reason(),
                i.rootRow() == null ? null : i.rootRow().id(),
                i.entries().size(),
                i.bytes(),
                now);
    }

    static PayloadTable.TorrentRow row(Torrent t, Long payloadId, long now) {
        return new PayloadTable.TorrentRow(
                t.hash().toLowerCase(java.util.Locale.ROOT),
                t.name(),
                t.savePath(),
                Payloads.normal(t.contentPath()),
                t.category(),
                RunSummary.toJson(t.tags()),
                t.state(),
                t.progress(),
                t.size(),
                payloadId,
                now);
    }
}
