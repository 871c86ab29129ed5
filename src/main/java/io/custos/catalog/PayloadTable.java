package io.custos.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * qBittorrent payloads and torrents as {@code payload sync} last saw them ({@code payloads},
 * {@code torrents}), and the queries on {@code files} that payloads are made of.
 */
public final class PayloadTable {
    /** One payload instance: the files under one content path. */
    public record Payload(
            long id,
            String rootPath,
            String kind,
            byte[] payloadHash,
            String status,
            String reason,
            Long rootId,
            long files,
            long bytes,
            long syncedAt) {}

    /** One torrent; {@code tags} is a JSON array; {@code payloadId} null when not mapped. */
    public record TorrentRow(
            String hash,
            String name,
            String savePath,
            String contentPath,
            String category,
            String tags,
            String state,
            double progress,
            long size,
            Long payloadId,
            long syncedAt) {}

    /** A live cataloged file as payloads need it. */
    public record PayloadFile(
            long id,
            long rootId,
            byte[] path,
            long size,
            long mtimeNs,
            long device,
            long inode,
            byte[] sha256,
            String status,
            boolean pending) {}

    private static final String PAYLOAD_COLUMNS =
            "id, root_path, kind, payload_hash, status, reason, root_id, files, bytes, synced_at";
    private static final String TORRENT_COLUMNS =
            "hash, name, save_path, content_path, category, tags, state, progress, size, payload_id, synced_at";
    private static final String FILE_COLUMNS =
            "id, root_id, path, size, mtime_ns, device, inode, sha256, status, pending_sha256 IS NOT NULL";

    private final Connection conn;

    PayloadTable(Connection conn) {
        this.conn = conn;
    }

    /**
     * The live files of a root at {@code path} (a file) or below it (a directory), in path order.
     * An empty {@code path} means the whole root.
     */
    public List<PayloadFile> filesUnder(long rootId, byte[] path) {
        String sql;
        if (path.length == 0) {
            sql = "SELECT " + FILE_COLUMNS + " FROM files WHERE root_id = ? AND status <> 'deleted' ORDER BY path";
        } else {
            // Below "a/b": from "a/b/" up to, not including, "a/b0" ('0' follows '/').
            sql = "SELECT " + FILE_COLUMNS + " FROM files WHERE root_id = ? AND status <> 'deleted'"
                    + " AND (path = ? OR (path >= ? AND path < ?)) ORDER BY path";
        }
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setLong(1, rootId);
            if (path.length > 0) {
                byte[] lo = Arrays.copyOf(path, path.length + 1);
                lo[path.length] = '/';
                byte[] hi = Arrays.copyOf(path, path.length + 1);
                hi[path.length] = '/' + 1;
                ps.setBytes(2, path);
                ps.setBytes(3, lo);
                ps.setBytes(4, hi);
            }
            return files(ps);
        } catch (SQLException e) {
            throw new CatalogException("reading payload files", e);
        }
    }

    /** Every live row naming this inode, in any root. */
    public List<PayloadFile> namesOf(long device, long inode) {
        try (PreparedStatement ps = conn.prepareStatement("SELECT " + FILE_COLUMNS
                + " FROM files WHERE device = ? AND inode = ? AND status <> 'deleted' ORDER BY root_id, path")) {
            ps.setLong(1, device);
            ps.setLong(2, inode);
            return files(ps);
        } catch (SQLException e) {
            throw new CatalogException("reading hardlinks", e);
        }
    }

    private static List<PayloadFile> files(PreparedStatement ps) throws SQLException {
        List<PayloadFile> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new PayloadFile(
                        rs.getLong(1),
                        rs.getLong(2),
                        rs.getBytes(3),
                        rs.getLong(4),
                        rs.getLong(5),
                        rs.getLong(6),
                        rs.getLong(7),
                        rs.getBytes(8),
                        rs.getString(9),
                        rs.getInt(10) == 1));
            }
        }
        return out;
    }

    // ---- payloads and torrents

    /** Inserts or replaces the instance at {@code p.rootPath()}; returns its id. */
    public long upsertPayload(Payload p) {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO payloads (root_path, kind, payload_hash,"
                + " status, reason, root_id, files, bytes, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT(root_path) DO UPDATE SET kind = excluded.kind, payload_hash = excluded.payload_hash,"
                + " status = excluded.status, reason = excluded.reason, root_id = excluded.root_id,"
                + " files = excluded.files, bytes = excluded.bytes, synced_at = excluded.synced_at")) {
            ps.setString(1, p.rootPath());
            ps.setString(2, p.kind());
            ps.setBytes(3, p.payloadHash());
            ps.setString(4, p.status());
            ps.setString(5, p.reason());
            if (p.rootId() == null) {
                ps.setNull(6, Types.INTEGER);
            } else {
                ps.setLong(6, p.rootId());
            }
            ps.setLong(7, p.files());
            ps.setLong(8, p.bytes());
            ps.setLong(9, p.syncedAt());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("recording a payload", e);
        }
        return payloadByPath(p.rootPath()).id();
    }

    public void upsertTorrent(TorrentRow t) {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO torrents (" + TORRENT_COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(hash) DO UPDATE SET name = excluded.name,"
                + " save_path = excluded.save_path, content_path = excluded.content_path,"
                + " category = excluded.category, tags = excluded.tags, state = excluded.state,"
                + " progress = excluded.progress, size = excluded.size, payload_id = excluded.payload_id,"
                + " synced_at = excluded.synced_at")) {
            ps.setString(1, t.hash());
            ps.setString(2, t.name());
            ps.setString(3, t.savePath());
            ps.setString(4, t.contentPath());
            ps.setString(5, t.category());
            ps.setString(6, t.tags());
            ps.setString(7, t.state());
            ps.setDouble(8, t.progress());
            ps.setLong(9, t.size());
            if (t.payloadId() == null) {
                ps.setNull(10, Types.INTEGER);
            } else {
                ps.setLong(10, t.payloadId());
            }
            ps.setLong(11, t.syncedAt());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("recording a torrent", e);
        }
    }

    /** Removes the torrents not synced at {@code syncedAt}; returns how many. */
    public int removeTorrentsNotSyncedAt(long syncedAt) {
        return update("DELETE FROM torrents WHERE synced_at <> ?", syncedAt);
    }

    /** Removes the payload instances no torrent points at any more; returns how many. */
    public int removeUnreferencedPayloads() {
        return update("DELETE FROM payloads WHERE id NOT IN (SELECT payload_id FROM torrents"
                + " WHERE payload_id IS NOT NULL)");
    }

    public Payload payloadByPath(String rootPath) {
        List<Payload> l = payloads("SELECT " + PAYLOAD_COLUMNS + " FROM payloads WHERE root_path = ?", rootPath);
        return l.isEmpty() ? null : l.get(0);
    }

    public Payload payload(long id) {
        List<Payload> l = payloads("SELECT " + PAYLOAD_COLUMNS + " FROM payloads WHERE id = ?", id);
        return l.isEmpty() ? null : l.get(0);
    }

    /** The instances of a payload hash, by path. */
    public List<Payload> payloadsWithHash(byte[] payloadHash) {
        return payloads(
                "SELECT " + PAYLOAD_COLUMNS + " FROM payloads WHERE payload_hash = ? ORDER BY root_path", payloadHash);
    }

    /** Payload hashes (hex) starting with {@code prefix} (lower-case hex). */
    public List<byte[]> hashesStartingWith(String prefix) {
        List<byte[]> out = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("SELECT DISTINCT payload_hash FROM payloads"
                + " WHERE payload_hash IS NOT NULL AND lower(hex(payload_hash)) LIKE ? ORDER BY payload_hash")) {
            ps.setString(1, prefix + "%");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getBytes(1));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading payloads", e);
        }
    }

    public List<Payload> allPayloads() {
        return payloads("SELECT " + PAYLOAD_COLUMNS + " FROM payloads ORDER BY root_path");
    }

    public TorrentRow torrent(String hash) {
        List<TorrentRow> l = torrents("SELECT " + TORRENT_COLUMNS + " FROM torrents WHERE hash = ?", hash);
        return l.isEmpty() ? null : l.get(0);
    }

    /** Torrent hashes starting with {@code prefix} (lower-case hex). */
    public List<TorrentRow> torrentsStartingWith(String prefix) {
        return torrents(
                "SELECT " + TORRENT_COLUMNS + " FROM torrents WHERE hash LIKE ? ORDER BY hash LIMIT 10", prefix + "%");
    }

    public List<TorrentRow> torrentsOf(long payloadId) {
        return torrents(
                "SELECT " + TORRENT_COLUMNS + " FROM torrents WHERE payload_id = ? ORDER BY name, hash", payloadId);
    }

    public List<TorrentRow> allTorrents() {
        return torrents("SELECT " + TORRENT_COLUMNS + " FROM torrents ORDER BY name, hash");
    }

    private List<Payload> payloads(String sql, Object... args) {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            bind(ps, args);
            List<Payload> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long root = rs.getLong(7);
                    Long rootId = rs.wasNull() ? null : root;
                    out.add(new Payload(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getBytes(4),
                            rs.getString(5),
                            rs.getString(6),
                            rootId,
                            rs.getLong(8),
                            rs.getLong(9),
                            rs.getLong(10)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading payloads", e);
        }
    }

    private List<TorrentRow> torrents(String sql, Object... args) {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            bind(ps, args);
            List<TorrentRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long pid = rs.getLong(10);
                    Long payloadId = rs.wasNull() ? null : pid;
                    out.add(new TorrentRow(
                            rs.getString(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getString(4),
                            rs.getString(5),
                            rs.getString(6),
                            rs.getString(7),
                            rs.getDouble(8),
                            rs.getLong(9),
                            payloadId,
                            rs.getLong(11)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading torrents", e);
        }
    }

    private int update(String sql, Object... args) {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("updating payloads", e);
        }
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof byte[] b) {
                ps.setBytes(i + 1, b);
            } else if (a instanceof Long l) {
                ps.setLong(i + 1, l);
            } else {
                ps.setObject(i + 1, a);
            }
        }
    }

    static long lastId(Connection conn) throws SQLException {
        try (Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("SELECT last_insert_rowid()")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
