package io.custos.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Queries on the {@code runs} table. */
public final class RunTable {
    private final Connection conn;

    RunTable(Connection conn) {
        this.conn = conn;
    }

    /** Records the start of a run; returns its id. */
    public long start(String command, String host, long startedAt) {
        try (PreparedStatement ps =
                conn.prepareStatement("INSERT INTO runs (command, host, started_at) VALUES (?, ?, ?)")) {
            ps.setString(1, command);
            ps.setString(2, host);
            ps.setLong(3, startedAt);
            ps.executeUpdate();
            try (PreparedStatement id = conn.prepareStatement("SELECT last_insert_rowid()");
                    ResultSet rs = id.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new CatalogException("recording a run", e);
        }
    }

    public void finish(long id, long finishedAt, int exitCode, String summary) {
        try (PreparedStatement ps =
                conn.prepareStatement("UPDATE runs SET finished_at = ?, exit_code = ?, summary = ? WHERE id = ?")) {
            ps.setLong(1, finishedAt);
            ps.setInt(2, exitCode);
            ps.setString(3, summary);
            ps.setLong(4, id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("recording a run", e);
        }
    }

    /** The newest runs first. */
    public List<RunRow> latest(int limit) {
        try (PreparedStatement ps = conn.prepareStatement("SELECT id, command, host, started_at, finished_at,"
                + " exit_code, summary FROM runs ORDER BY id DESC LIMIT ?")) {
            ps.setInt(1, limit);
            List<RunRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long fin = rs.getLong(5);
                    Long finished = rs.wasNull() ? null : fin;
                    int code = rs.getInt(6);
                    Integer exit = rs.wasNull() ? null : code;
                    out.add(new RunRow(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getLong(4),
                            finished,
                            exit,
                            rs.getString(7)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading runs", e);
        }
    }

    /** The newest run of each command (finished or not), by command name. */
    public List<RunRow> latestPerCommand() {
        return rows("SELECT " + COLUMNS + " FROM runs WHERE id IN (SELECT max(id) FROM runs GROUP BY command)"
                + " ORDER BY command");
    }

    /**
     * The newest run of each command that ran to its end: finished with exit 0 (nothing wrong) or
     * 1 (finished, found problems), by command name.
     */
    public List<RunRow> latestCompletedPerCommand() {
        return rows("SELECT " + COLUMNS + " FROM runs WHERE id IN (SELECT max(id) FROM runs"
                + " WHERE finished_at IS NOT NULL AND exit_code IN (0, 1) GROUP BY command) ORDER BY command");
    }

    private static final String COLUMNS = "id, command, host, started_at, finished_at, exit_code, summary";

    private List<RunRow> rows(String sql) {
        try (PreparedStatement ps = conn.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            List<RunRow> out = new ArrayList<>();
            while (rs.next()) {
                long fin = rs.getLong(5);
                Long finished = rs.wasNull() ? null : fin;
                int code = rs.getInt(6);
                Integer exit = rs.wasNull() ? null : code;
                out.add(new RunRow(
                        rs.getLong(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getLong(4),
                        finished,
                        exit,
                        rs.getString(7)));
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading runs", e);
        }
    }

    /** Whether the run before {@code id} never finished (killed, power cut): its leftovers need a look. */
    public boolean previousUnfinished(long id) {
        try (PreparedStatement ps =
                conn.prepareStatement("SELECT finished_at IS NULL FROM runs WHERE id < ? ORDER BY id DESC LIMIT 1")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getInt(1) == 1;
            }
        } catch (SQLException e) {
            throw new CatalogException("reading runs", e);
        }
    }
}
