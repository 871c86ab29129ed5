package io.custos.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Queries on the {@code files} table. Statements are prepared once and reused. */
public final class FileTable {
    private static final String COLUMNS = "id, root_id, path, size, mtime_ns, device, inode, sha256, status,"
            + " first_seen, last_seen, last_verified, pending_sha256, pending_size, pending_mtime_ns, pending_inode";

    private final Connection conn;
    private PreparedStatement insert;
    private PreparedStatement updateContent;
    private PreparedStatement updateIdentity;
    private PreparedStatement relinked;
    private PreparedStatement move;
    private PreparedStatement setStatus;
    private PreparedStatement setPending;
    private PreparedStatement liveByInode;
    private PreparedStatement lastId;
    private PreparedStatement byId;

    FileTable(Connection conn) {
        this.conn = conn;
    }

    /** Streams the live (not deleted) rows of a root in path order (unsigned bytes, as SQLite sorts BLOBs). */
    public void forEachLive(long rootId, Consumer<FileRow> action) {
        String sql = "SELECT " + COLUMNS + " FROM files WHERE root_id = ? AND status <> 'deleted' ORDER BY path";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setLong(1, rootId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    action.accept(row(rs));
                }
            }
        } catch (SQLException e) {
            throw new CatalogException("reading files", e);
        }
    }

    /**
     * What a rescan needs of a live row to tell an unchanged file: {@code flags} bit 1 = status
     * not ok, bit 2 = a pending modification. Far fewer columns than {@link FileRow}, which the
     * scan reads by id for the few rows that changed.
     */
    public record LiveEntry(long id, byte[] path, long size, long mtimeNs, long device, long inode, int flags) {
        public static final int NOT_OK = 1;
        public static final int PENDING = 2;
    }

    /** Streams the live rows of a root, brief, in path order (unsigned bytes, as SQLite sorts BLOBs). */
    public void forEachLiveEntry(long rootId, Consumer<LiveEntry> action) {
        String sql = "SELECT id, path, size, mtime_ns, device, inode,"
                + " (status <> 'ok') | ((pending_sha256 IS NOT NULL) << 1)"
                + " FROM files WHERE root_id = ? AND status <> 'deleted' ORDER BY path";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setLong(1, rootId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    action.accept(new LiveEntry(
                            rs.getLong(1),
                            rs.getBytes(2),
                            rs.getLong(3),
                            rs.getLong(4),
                            rs.getLong(5),
                            rs.getLong(6),
                            rs.getInt(7)));
                }
            }
        } catch (SQLException e) {
            throw new CatalogException("reading files", e);
        }
    }

    /** One row by id. */
    public FileRow byId(long id) {
        try {
            if (byId == null) {
                byId = conn.prepareStatement("SELECT " + COLUMNS + " FROM files WHERE id = ?");
            }
            byId.setLong(1, id);
            try (ResultSet rs = byId.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException("no file row " + id);
                }
                return row(rs);
            }
        } catch (SQLException e) {
            throw new CatalogException("reading a file", e);
        }
    }

    /** Whether a root has any live row. */
    public boolean hasLive(long rootId) {
        return queryInt("SELECT EXISTS (SELECT 1 FROM files WHERE root_id = ? AND status <> 'deleted')", rootId) == 1;
    }

    public int countLive(long rootId) {
        return queryInt("SELECT count(*) FROM files WHERE root_id = ? AND status <> 'deleted'", rootId);
    }

    /** Every row (any status) at a path of a root, and every row that an event places there. */
    public List<FileRow> historyRows(long rootId, byte[] path) {
        String sql = "SELECT " + COLUMNS + " FROM files WHERE id IN ("
                + "SELECT id FROM files WHERE root_id = ? AND path = ?"
                + " UNION SELECT file_id FROM events WHERE root_id = ? AND path = ? AND file_id IS NOT NULL)"
                + " ORDER BY first_seen, id";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setLong(1, rootId);
            ps.setBytes(2, path);
            ps.setLong(3, rootId);
            ps.setBytes(4, path);
            List<FileRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(row(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading history", e);
        }
    }

    /** A live row with this identity and an unchanged size and mtime: its hash is the content's hash. */
    public FileRow liveByIdentity(long device, long inode, long size, long mtimeNs) {
        try {
            if (liveByInode == null) {
                liveByInode = conn.prepareStatement("SELECT " + COLUMNS + " FROM files WHERE device = ? AND inode = ?"
                        + " AND size = ? AND mtime_ns = ? AND status = 'ok' AND sha256 IS NOT NULL LIMIT 1");
            }
            liveByInode.setLong(1, device);
            liveByInode.setLong(2, inode);
            liveByInode.setLong(3, size);
            liveByInode.setLong(4, mtimeNs);
            try (ResultSet rs = liveByInode.executeQuery()) {
                return rs.next() ? row(rs) : null;
            }
        } catch (SQLException e) {
            throw new CatalogException("looking up an inode", e);
        }
    }

    /** Inserts a new live row; returns its id. */
    public long insert(
            long rootId,
            byte[] path,
            long size,
            long mtimeNs,
            long device,
            long inode,
            byte[] sha256,
            long now,
            boolean parityDue) {
        try {
            if (insert == null) {
                insert = conn.prepareStatement(
                        "INSERT INTO files (root_id, path, size, mtime_ns, device, inode, sha256,"
                                + " status, first_seen, last_seen, parity_due) VALUES (?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?)");
            }
            insert.setLong(1, rootId);
            insert.setBytes(2, path);
            insert.setLong(3, size);
            insert.setLong(4, mtimeNs);
            insert.setLong(5, device);
            insert.setLong(6, inode);
            insert.setBytes(7, sha256);
            insert.setLong(8, now);
            insert.setLong(9, now);
            insert.setInt(10, parityDue ? 1 : 0);
            insert.executeUpdate();
            return lastId();
        } catch (SQLException e) {
            throw new CatalogException("inserting a file", e);
        }
    }

    /** New size, mtime, identity and hash (touched or modified); status back to ok, pending cleared. */
    public void updateContent(long id, long size, long mtimeNs, long device, long inode, byte[] sha256, long now) {
        try {
            if (updateContent == null) {
                updateContent = conn.prepareStatement("UPDATE files SET size = ?, mtime_ns = ?, device = ?, inode = ?,"
                        + " sha256 = ?, status = 'ok', last_seen = ?, pending_sha256 = NULL, pending_size = NULL,"
                        + " pending_mtime_ns = NULL, pending_inode = NULL WHERE id = ?");
            }
            updateContent.setLong(1, size);
            updateContent.setLong(2, mtimeNs);
            updateContent.setLong(3, device);
            updateContent.setLong(4, inode);
            updateContent.setBytes(5, sha256);
            updateContent.setLong(6, now);
            updateContent.setLong(7, id);
            updateContent.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("updating a file", e);
        }
    }

    /** Same content, same size and mtime, but another device or inode (copied back, restored). */
    public void updateIdentity(long id, long device, long inode) {
        try {
            if (updateIdentity == null) {
                updateIdentity = conn.prepareStatement("UPDATE files SET device = ?, inode = ? WHERE id = ?");
            }
            updateIdentity.setLong(1, device);
            updateIdentity.setLong(2, inode);
            updateIdentity.setLong(3, id);
            updateIdentity.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("updating a file", e);
        }
    }

    /**
     * The path now names another inode with the same content (a hardlink made by {@code link}):
     * the row takes that inode's device, inode and mtime; content and status stay.
     */
    public void relinked(long id, long mtimeNs, long device, long inode) {
        try {
            if (relinked == null) {
                relinked = conn.prepareStatement("UPDATE files SET mtime_ns = ?, device = ?, inode = ? WHERE id = ?");
            }
            PreparedStatement ps = relinked;
            ps.setLong(1, mtimeNs);
            ps.setLong(2, device);
            ps.setLong(3, inode);
            ps.setLong(4, id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("updating a file", e);
        }
    }

    /** A renamed file: the row follows it to its new root and path. */
    public void move(long id, long rootId, byte[] path, long size, long mtimeNs, long device, long inode, long now) {
        try {
            if (move == null) {
                move = conn.prepareStatement("UPDATE files SET root_id = ?, path = ?, size = ?, mtime_ns = ?,"
                        + " device = ?, inode = ?, last_seen = ? WHERE id = ?");
            }
            move.setLong(1, rootId);
            move.setBytes(2, path);
            move.setLong(3, size);
            move.setLong(4, mtimeNs);
            move.setLong(5, device);
            move.setLong(6, inode);
            move.setLong(7, now);
            move.setLong(8, id);
            move.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("moving a file", e);
        }
    }

    public void setStatus(long id, FileStatus status, long lastSeen) {
        try {
            if (setStatus == null) {
                setStatus = conn.prepareStatement("UPDATE files SET status = ?, last_seen = ? WHERE id = ?");
            }
            setStatus.setString(1, status.sql());
            setStatus.setLong(2, lastSeen);
            setStatus.setLong(3, id);
            setStatus.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("updating a file", e);
        }
    }

    /** The file was read and found to hold its recorded content. */
    public void markVerified(long id, long at) {
        try (PreparedStatement ps = conn.prepareStatement("UPDATE files SET last_verified = ? WHERE id = ?")) {
            ps.setLong(1, at);
            ps.setLong(2, id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("updating a file", e);
        }
    }

    /** Records a found but not applied modification; null hash clears it. */
    public void setPending(long id, byte[] sha256, long size, long mtimeNs, long inode) {
        try {
            if (setPending == null) {
                setPending = conn.prepareStatement("UPDATE files SET pending_sha256 = ?, pending_size = ?,"
                        + " pending_mtime_ns = ?, pending_inode = ? WHERE id = ?");
            }
            setPending.setBytes(1, sha256);
            if (sha256 == null) {
                setPending.setNull(2, Types.INTEGER);
                setPending.setNull(3, Types.INTEGER);
                setPending.setNull(4, Types.INTEGER);
            } else {
                setPending.setLong(2, size);
                setPending.setLong(3, mtimeNs);
                setPending.setLong(4, inode);
            }
            setPending.setLong(5, id);
            setPending.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("updating a file", e);
        }
    }

    /** Totals per root and status: {root_id: {status: [files, bytes]}}. */
    public Map<Long, Map<FileStatus, long[]>> totals() {
        Map<Long, Map<FileStatus, long[]>> out = new LinkedHashMap<>();
        String sql = "SELECT root_id, status, count(*), coalesce(sum(size), 0) FROM files GROUP BY root_id, status"
                + " ORDER BY root_id";
        try (PreparedStatement ps = conn.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.computeIfAbsent(rs.getLong(1), k -> new LinkedHashMap<>())
                        .put(FileStatus.of(rs.getString(2)), new long[] {rs.getLong(3), rs.getLong(4)});
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading totals", e);
        }
    }

    /** Verification age per root: [never verified live files, oldest last_verified or 0]. */
    public long[] verification(long rootId) {
        String sql = "SELECT sum(last_verified IS NULL), min(last_verified) FROM files WHERE root_id = ?"
                + " AND status <> 'deleted'";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setLong(1, rootId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new long[] {rs.getLong(1), rs.getLong(2)} : new long[] {0, 0};
            }
        } catch (SQLException e) {
            throw new CatalogException("reading verification ages", e);
        }
    }

    /**
     * Verification ages of a root's ok files: how many were never verified, and the oldest and
     * median {@code last_verified} of the others (null when none was verified). For an even count
     * the median is the newer of the two middle values.
     */
    public record VerificationAges(long neverVerified, long verified, Long oldest, Long median) {}

    public VerificationAges verificationAges(long rootId) {
        // Both queries read the files_verify index (root_id, last_verified) WHERE status = 'ok'.
        String counts = "SELECT count(*) - count(last_verified), count(last_verified), min(last_verified) FROM files"
                + " WHERE root_id = ? AND status = 'ok'";
        String median = "SELECT last_verified FROM files WHERE root_id = ? AND status = 'ok'"
                + " AND last_verified IS NOT NULL ORDER BY last_verified LIMIT 1 OFFSET ?";
        try {
            long never;
            long verified;
            Long oldest;
            try (PreparedStatement ps = conn.prepareStatement(counts)) {
                ps.setLong(1, rootId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    never = rs.getLong(1);
                    verified = rs.getLong(2);
                    long min = rs.getLong(3);
                    oldest = rs.wasNull() ? null : min;
                }
            }
            if (verified == 0) {
                return new VerificationAges(never, 0, null, null);
            }
            try (PreparedStatement ps = conn.prepareStatement(median)) {
                ps.setLong(1, rootId);
                ps.setLong(2, verified / 2);
                try (ResultSet rs = ps.executeQuery()) {
                    return new VerificationAges(never, verified, oldest, rs.next() ? rs.getLong(1) : oldest);
                }
            }
        } catch (SQLException e) {
            throw new CatalogException("reading verification ages", e);
        }
    }

    /**
     * The verification sample of a root: every ok file not verified (or, never verified, not seen
     * first) since {@code olderThan} when set, then {@code n} ok files, never verified first, then
     * the oldest verified, ties at random. Rows last seen at or after {@code changedSince} are left
     * out (the run just read them).
     */
    public List<FileRow> verifySample(long rootId, int n, Long olderThan, long changedSince) {
        Map<Long, FileRow> out = new LinkedHashMap<>();
        String base = "SELECT " + COLUMNS + " FROM files WHERE root_id = ? AND status = 'ok' AND last_seen < ?";
        try {
            if (olderThan != null) {
                try (PreparedStatement ps = conn.prepareStatement(
                        base
                                + " AND coalesce(last_verified, first_seen) < ? ORDER BY last_verified IS NOT NULL, last_verified")) {
                    ps.setLong(1, rootId);
                    ps.setLong(2, changedSince);
                    ps.setLong(3, olderThan);
                    collect(ps, out);
                }
            }
            if (n > 0) {
                try (PreparedStatement ps = conn.prepareStatement(
                        base + " ORDER BY last_verified IS NOT NULL, last_verified, random() LIMIT ?")) {
                    ps.setLong(1, rootId);
                    ps.setLong(2, changedSince);
                    ps.setInt(3, n);
                    collect(ps, out);
                }
            }
            return new ArrayList<>(out.values());
        } catch (SQLException e) {
            throw new CatalogException("choosing files to verify", e);
        }
    }

    /**
     * A page of a root's files for {@code verify}: live rows of the given statuses with an id above
     * {@code afterId}, in id order.
     */
    public List<FileRow> page(long rootId, long afterId, int limit, List<FileStatus> statuses) {
        StringBuilder in = new StringBuilder();
        for (FileStatus st : statuses) {
            in.append(in.length() == 0 ? "'" : ", '").append(st.sql()).append('\'');
        }
        String sql = "SELECT " + COLUMNS + " FROM files WHERE root_id = ? AND id > ? AND status IN (" + in
                + ") ORDER BY id LIMIT ?";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setLong(1, rootId);
            ps.setLong(2, afterId);
            ps.setInt(3, limit);
            Map<Long, FileRow> out = new LinkedHashMap<>();
            collect(ps, out);
            return new ArrayList<>(out.values());
        } catch (SQLException e) {
            throw new CatalogException("reading files", e);
        }
    }

    private static void collect(PreparedStatement ps, Map<Long, FileRow> out) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                FileRow r = row(rs);
                out.putIfAbsent(r.id(), r);
            }
        }
    }

    /** Every live row holding this content. */
    public List<FileRow> withContent(byte[] sha256) {
        String sql = "SELECT " + COLUMNS + " FROM files WHERE sha256 = ? AND status <> 'deleted' ORDER BY id";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setBytes(1, sha256);
            Map<Long, FileRow> out = new LinkedHashMap<>();
            collect(ps, out);
            return new ArrayList<>(out.values());
        } catch (SQLException e) {
            throw new CatalogException("reading files", e);
        }
    }

    /** Live rows with status damaged or truncated, in root and path order. */
    public List<FileRow> needingRepair() {
        String sql =
                "SELECT " + COLUMNS + " FROM files WHERE status IN ('damaged', 'truncated') ORDER BY root_id, path";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            Map<Long, FileRow> out = new LinkedHashMap<>();
            collect(ps, out);
            return new ArrayList<>(out.values());
        } catch (SQLException e) {
            throw new CatalogException("reading files", e);
        }
    }

    /** Files with status damaged or truncated, at most {@code limit}. */
    public List<FileRow> problems(int limit) {
        String sql = "SELECT " + COLUMNS + " FROM files WHERE status IN ('damaged', 'truncated') ORDER BY root_id, path"
                + " LIMIT ?";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setInt(1, limit);
            List<FileRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(row(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading problems", e);
        }
    }

    /** Removes deleted rows last seen before {@code before} (retention). Returns how many. */
    public int purgeDeleted(long before) {
        try (PreparedStatement ps =
                conn.prepareStatement("DELETE FROM files WHERE status = 'deleted' AND last_seen < ?")) {
            ps.setLong(1, before);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("purging deleted files", e);
        }
    }

    /** The id of the row just inserted on this connection. */
    private long lastId() throws SQLException {
        if (lastId == null) {
            lastId = conn.prepareStatement("SELECT last_insert_rowid()");
        }
        try (ResultSet rs = lastId.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private int queryInt(String sql, long arg) {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setLong(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        } catch (SQLException e) {
            throw new CatalogException("counting files", e);
        }
    }

    private static FileRow row(ResultSet rs) throws SQLException {
        return new FileRow(
                rs.getLong(1),
                rs.getLong(2),
                rs.getBytes(3),
                rs.getLong(4),
                rs.getLong(5),
                rs.getLong(6),
                rs.getLong(7),
                rs.getBytes(8),
                FileStatus.of(rs.getString(9)),
                rs.getLong(10),
                rs.getLong(11),
                nullableLong(rs, 12),
                rs.getBytes(13),
                nullableLong(rs, 14),
                nullableLong(rs, 15),
                nullableLong(rs, 16));
    }

    private static Long nullableLong(ResultSet rs, int col) throws SQLException {
        long v = rs.getLong(col);
        return rs.wasNull() ? null : v;
    }
}
