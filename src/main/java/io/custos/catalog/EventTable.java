package io.custos.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

/** Queries on the {@code events} table. */
public final class EventTable {
    private final Connection conn;
    private PreparedStatement insert;

    EventTable(Connection conn) {
        this.conn = conn;
    }

    public void add(long runId, long time, EventType type, Long rootId, Long fileId, byte[] path, String detail) {
        try {
            if (insert == null) {
                insert = conn.prepareStatement("INSERT INTO events (run_id, time, type, root_id, file_id, path, detail)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?)");
            }
            insert.setLong(1, runId);
            insert.setLong(2, time);
            insert.setString(3, type.sql());
            setNullable(insert, 4, rootId);
            setNullable(insert, 5, fileId);
            insert.setBytes(6, path);
            insert.setString(7, detail);
            insert.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("recording an event", e);
        }
    }

    /** "root/path" of the files that got an event of {@code type} in run {@code runId}, in order. */
    public List<String> pathsOf(long runId, EventType type) {
        String sql = "SELECT r.name, e.path FROM events e LEFT JOIN roots r ON r.id = e.root_id"
                + " WHERE e.run_id = ? AND e.type = ? ORDER BY e.id";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setLong(1, runId);
            ps.setString(2, type.sql());
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byte[] path = rs.getBytes(2);
                    out.add(rs.getString(1) + "/" + (path == null ? "" : io.custos.fs.RawPaths.display(path)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading events", e);
        }
    }

    /** Events of these files, oldest first. */
    public List<Event> forFiles(List<Long> fileIds) {
        if (fileIds.isEmpty()) {
            return List.of();
        }
        String marks = String.join(",", java.util.Collections.nCopies(fileIds.size(), "?"));
        String sql = "SELECT id, run_id, time, type, root_id, file_id, path, detail FROM events WHERE file_id IN ("
                + marks + ") ORDER BY time, id";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int i = 0; i < fileIds.size(); i++) {
                ps.setLong(i + 1, fileIds.get(i));
            }
            return list(ps);
        } catch (SQLException e) {
            throw new CatalogException("reading events", e);
        }
    }

    /** Events newest first, filtered; {@code types} empty = all; {@code limit} 0 = all. */
    public List<Event> query(Long sinceMillis, List<String> types, Long rootId, int limit) {
        StringBuilder sql = new StringBuilder(
                "SELECT id, run_id, time, type, root_id, file_id, path, detail FROM events WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (sinceMillis != null) {
            sql.append(" AND time >= ?");
            args.add(sinceMillis);
        }
        if (!types.isEmpty()) {
            sql.append(" AND type IN (")
                    .append(String.join(",", java.util.Collections.nCopies(types.size(), "?")))
                    .append(")");
            args.addAll(types);
        }
        if (rootId != null) {
            sql.append(" AND root_id = ?");
            args.add(rootId);
        }
        sql.append(" ORDER BY time DESC, id DESC");
        if (limit > 0) {
            sql.append(" LIMIT ").append(limit);
        }
        try (PreparedStatement ps = conn.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            return list(ps);
        } catch (SQLException e) {
            throw new CatalogException("reading events", e);
        }
    }

    /** Removes events older than {@code before} (retention). */
    public int purge(long before) {
        try (PreparedStatement ps = conn.prepareStatement("DELETE FROM events WHERE time < ?")) {
            ps.setLong(1, before);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("purging events", e);
        }
    }

    private static List<Event> list(PreparedStatement ps) throws SQLException {
        List<Event> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long run = rs.getLong(2);
                Long runId = rs.wasNull() ? null : run;
                long root = rs.getLong(5);
                Long rootId = rs.wasNull() ? null : root;
                long file = rs.getLong(6);
                Long fileId = rs.wasNull() ? null : file;
                out.add(new Event(
                        rs.getLong(1),
                        runId,
                        rs.getLong(3),
                        rs.getString(4),
                        rootId,
                        fileId,
                        rs.getBytes(7),
                        rs.getString(8)));
            }
        }
        return out;
    }

    private static void setNullable(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.INTEGER);
        } else {
            ps.setLong(i, v);
        }
    }
}
