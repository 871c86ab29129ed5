package io.custos.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Queries on the {@code parity} table (one row per parity set, keyed by content hash) and on the
 * parity bookkeeping columns of {@code files} and {@code roots}. The sets on disk are the truth;
 * these rows say what custos put where, and what it still owes.
 */
public final class ParityTable {
    /** A parity set as recorded. {@code trashDay} is null while the set is in {@code by_hash/}. */
    public record Row(
            byte[] sha256,
            long fileSize,
            long bytes,
            int blockSize,
            int recoveryBlocks,
            long createdAt,
            Long trashedAt,
            String trashDay,
            boolean releaseDue,
            byte[] releaseAfter) {
        public boolean present() {
            return trashedAt == null;
        }
    }

    /** A file whose content may lack parity: one per content hash, the first row found. */
    public record Due(long fileId, long rootId, byte[] path, long size, long mtimeNs, byte[] sha256) {}

    private static final String COLUMNS = "sha256, file_size, bytes, block_size, recovery_blocks, created_at,"
            + " trashed_at, trash_day, release_due, release_after";

    private final Connection conn;
    private PreparedStatement get;
    private PreparedStatement liveCount;
    private PreparedStatement clearDue;

    ParityTable(Connection conn) {
        this.conn = conn;
    }

    public Row get(byte[] sha256) {
        try {
            if (get == null) {
                get = conn.prepareStatement("SELECT " + COLUMNS + " FROM parity WHERE sha256 = ?");
            }
            get.setBytes(1, sha256);
            try (ResultSet rs = get.executeQuery()) {
                return rs.next() ? row(rs) : null;
            }
        } catch (SQLException e) {
            throw new CatalogException("reading parity", e);
        }
    }

    /** Records a set now in {@code by_hash/} (created, restored or found there); clears any release. */
    public void present(byte[] sha256, long fileSize, long bytes, int blockSize, int recoveryBlocks, long at) {
        update(
                "INSERT INTO parity (sha256, file_size, bytes, block_size, recovery_blocks, created_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(sha256) DO UPDATE SET file_size = excluded.file_size,"
                        + " bytes = excluded.bytes, block_size = excluded.block_size,"
                        + " recovery_blocks = excluded.recovery_blocks, created_at = excluded.created_at,"
                        + " trashed_at = NULL, trash_day = NULL, release_due = 0, release_after = NULL",
                sha256,
                fileSize,
                bytes,
                blockSize,
                recoveryBlocks,
                at);
    }

    /** A restored set keeps its creation time. */
    public void restored(byte[] sha256) {
        update(
                "UPDATE parity SET trashed_at = NULL, trash_day = NULL, release_due = 0, release_after = NULL"
                        + " WHERE sha256 = ?",
                sha256);
    }

    public void trashed(byte[] sha256, long at, String day) {
        update(
                "UPDATE parity SET trashed_at = ?, trash_day = ?, release_due = 0, release_after = NULL"
                        + " WHERE sha256 = ?",
                at,
                day,
                sha256);
    }

    public void forget(byte[] sha256) {
        update("DELETE FROM parity WHERE sha256 = ?", sha256);
    }

    /**
     * The last file of this content may be gone: check at the end of the scan. {@code after}: the
     * content that replaced it, whose set must exist first (null for a deletion).
     */
    public void releaseLater(byte[] sha256, byte[] after) {
        update(
                "UPDATE parity SET release_due = 1, release_after = ? WHERE sha256 = ? AND trashed_at IS NULL",
                after,
                sha256);
    }

    public void keep(byte[] sha256) {
        update("UPDATE parity SET release_due = 0, release_after = NULL WHERE sha256 = ?", sha256);
    }

    public List<Row> releaseDue() {
        return rows("SELECT " + COLUMNS + " FROM parity WHERE release_due = 1 ORDER BY sha256");
    }

    /** Trashed sets of days before {@code day} (yyyy-MM-dd sorts as text). */
    public int forgetTrashedBefore(String day) {
        return update("DELETE FROM parity WHERE trashed_at IS NOT NULL AND trash_day < ?", day);
    }

    /** Live (not deleted) files holding this content. */
    public int liveFiles(byte[] sha256) {
        try {
            if (liveCount == null) {
                liveCount =
                        conn.prepareStatement("SELECT count(*) FROM files WHERE sha256 = ? AND status <> 'deleted'");
            }
            liveCount.setBytes(1, sha256);
            try (ResultSet rs = liveCount.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        } catch (SQLException e) {
            throw new CatalogException("counting files", e);
        }
    }

    /** Up to {@code limit} owed contents with a hash above {@code after}, one file each, in hash order. */
    public void forEachDueAfter(byte[] after, int limit, Consumer<Due> action) {
        String sql = "SELECT id, root_id, path, size, mtime_ns, sha256 FROM files"
                + " WHERE parity_due = 1 AND status = 'ok' AND sha256 > ? ORDER BY sha256";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setBytes(1, after);
            try (ResultSet rs = ps.executeQuery()) {
                byte[] last = null;
                int n = 0;
                while (rs.next()) {
                    byte[] sha = rs.getBytes(6);
                    if (last != null && java.util.Arrays.equals(last, sha)) {
                        continue;
                    }
                    if (n++ == limit) {
                        break;
                    }
                    last = sha;
                    action.accept(
                            new Due(rs.getLong(1), rs.getLong(2), rs.getBytes(3), rs.getLong(4), rs.getLong(5), sha));
                }
            }
        } catch (SQLException e) {
            throw new CatalogException("reading files that need parity", e);
        }
    }

    /** Whether a live file of this content still waits for its set. */
    public boolean owed(byte[] sha256) {
        try (PreparedStatement ps = conn.prepareStatement("SELECT EXISTS (SELECT 1 FROM files WHERE sha256 = ?"
                + " AND parity_due = 1 AND status <> 'deleted')")) {
            ps.setBytes(1, sha256);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getInt(1) == 1;
            }
        } catch (SQLException e) {
            throw new CatalogException("reading files", e);
        }
    }

    /** Marks the live ok files of this content as owed a set (it went missing). */
    public void owe(byte[] sha256) {
        update("UPDATE files SET parity_due = 1 WHERE sha256 = ? AND status = 'ok'", sha256);
    }

    /** The file that last held this content (any status), to name in events. */
    public Due lastFile(byte[] sha256) {
        String sql = "SELECT id, root_id, path, size, mtime_ns, sha256 FROM files WHERE sha256 = ?"
                + " ORDER BY last_seen DESC, id DESC LIMIT 1";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setBytes(1, sha256);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? new Due(
                                rs.getLong(1),
                                rs.getLong(2),
                                rs.getBytes(3),
                                rs.getLong(4),
                                rs.getLong(5),
                                rs.getBytes(6))
                        : null;
            }
        } catch (SQLException e) {
            throw new CatalogException("reading files", e);
        }
    }

    /** Hashes of every set recorded in by_hash/. */
    public List<byte[]> presentHashes() {
        List<byte[]> out = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("SELECT sha256 FROM parity WHERE trashed_at IS NULL");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getBytes(1));
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading parity", e);
        }
    }

    /** Every live ok file of this content other than {@code except}, for a second try when one cannot be read. */
    public List<Due> others(byte[] sha256, long except) {
        String sql = "SELECT id, root_id, path, size, mtime_ns, sha256 FROM files"
                + " WHERE sha256 = ? AND status = 'ok' AND id <> ? ORDER BY id";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setBytes(1, sha256);
            ps.setLong(2, except);
            List<Due> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Due(
                            rs.getLong(1),
                            rs.getLong(2),
                            rs.getBytes(3),
                            rs.getLong(4),
                            rs.getLong(5),
                            rs.getBytes(6)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading files", e);
        }
    }

    /** The content has its set: no file of it is due any more. */
    public void satisfied(byte[] sha256) {
        try {
            if (clearDue == null) {
                clearDue = conn.prepareStatement("UPDATE files SET parity_due = 0 WHERE sha256 = ? AND parity_due = 1");
            }
            clearDue.setBytes(1, sha256);
            clearDue.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("updating files", e);
        }
    }

    public void setDue(long fileId, boolean due) {
        update("UPDATE files SET parity_due = ? WHERE id = ?", due ? 1 : 0, fileId);
    }

    /** The root's parity settings changed: mark its live files due when eligible under the new ones. */
    public void policyChanged(long rootId, String policy, long minSize, long maxSize) {
        if (policy == null) {
            update("UPDATE files SET parity_due = 0 WHERE root_id = ? AND parity_due = 1", rootId);
        } else {
            update(
                    "UPDATE files SET parity_due = (size > 0 AND size >= ? AND (? = 0 OR size <= ?))"
                            + " WHERE root_id = ? AND status <> 'deleted'",
                    minSize,
                    maxSize,
                    maxSize,
                    rootId);
        }
        update("UPDATE roots SET parity_policy = ? WHERE id = ?", policy, rootId);
    }

    public String policy(long rootId) {
        try (PreparedStatement ps = conn.prepareStatement("SELECT parity_policy FROM roots WHERE id = ?")) {
            ps.setLong(1, rootId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw new CatalogException("reading roots", e);
        }
    }

    /** [sets, bytes] in by_hash/ and [sets, bytes] in trash. */
    public long[] totals() {
        String sql = "SELECT sum(trashed_at IS NULL), coalesce(sum(CASE WHEN trashed_at IS NULL THEN bytes END), 0),"
                + " sum(trashed_at IS NOT NULL), coalesce(sum(CASE WHEN trashed_at IS NOT NULL THEN bytes END), 0)"
                + " FROM parity";
        try (PreparedStatement ps = conn.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)};
        } catch (SQLException e) {
            throw new CatalogException("reading parity totals", e);
        }
    }

    /** [contents, bytes] of live files still waiting for a set. */
    public long[] owedTotals() {
        try (PreparedStatement ps = conn.prepareStatement("SELECT count(*), coalesce(sum(size), 0) FROM (SELECT"
                        + " max(size) AS size FROM files WHERE parity_due = 1 AND status = 'ok' GROUP BY sha256)");
                ResultSet rs = ps.executeQuery()) {
            return rs.next() ? new long[] {rs.getLong(1), rs.getLong(2)} : new long[2];
        } catch (SQLException e) {
            throw new CatalogException("reading parity", e);
        }
    }

    /** Contents of live files still waiting for a set. */
    public long owedCount() {
        try (PreparedStatement ps = conn.prepareStatement(
                        "SELECT count(DISTINCT sha256) FROM files WHERE parity_due = 1 AND status = 'ok'");
                ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        } catch (SQLException e) {
            throw new CatalogException("reading parity", e);
        }
    }

    private List<Row> rows(String sql) {
        try (PreparedStatement ps = conn.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            List<Row> out = new ArrayList<>();
            while (rs.next()) {
                out.add(row(rs));
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading parity", e);
        }
    }

    private int update(String sql, Object... args) {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("writing parity", e);
        }
    }

    private static Row row(ResultSet rs) throws SQLException {
        long trashed = rs.getLong(7);
        Long trashedAt = rs.wasNull() ? null : trashed;
        return new Row(
                rs.getBytes(1),
                rs.getLong(2),
                rs.getLong(3),
                rs.getInt(4),
                rs.getInt(5),
                rs.getLong(6),
                trashedAt,
                rs.getString(8),
                rs.getInt(9) == 1,
                rs.getBytes(10));
    }
}
