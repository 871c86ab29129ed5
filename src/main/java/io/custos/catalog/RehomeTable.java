package io.custos.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Every {@code rehome apply} ({@code rehome_runs}) and its steps ({@code rehome_steps}), each written at once. */
public final class RehomeTable {
    public record RehomeRun(
            long id,
            Long runId,
            String planFile,
            String fingerprint,
            String direction,
            String decision,
            String payloadHash,
            String source,
            String target,
            String status,
            long startedAt,
            Long finishedAt,
            String error) {}

    public record Step(
            long id,
            long rehomeId,
            int seq,
            String action,
            String torrent,
            String path,
            String status,
            String detail,
            long at) {}

    private final Connection conn;

    RehomeTable(Connection conn) {
        this.conn = conn;
    }

    /** Records the start of an apply; returns its id. */
    public long start(
            long runId,
            String planFile,
            String fingerprint,
            String direction,
            String decision,
            String payloadHash,
            String source,
            String target,
            long at) {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO rehome_runs (run_id, plan_file, fingerprint,"
                + " direction, decision, payload_hash, source, target, status, started_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)")) {
            ps.setLong(1, runId);
            ps.setString(2, planFile);
            ps.setString(3, fingerprint);
            ps.setString(4, direction);
            ps.setString(5, decision);
            ps.setString(6, payloadHash);
            ps.setString(7, source);
            ps.setString(8, target);
            ps.setLong(9, at);
            ps.executeUpdate();
            return PayloadTable.lastId(conn);
        } catch (SQLException e) {
            throw new CatalogException("recording a rehome run", e);
        }
    }

    public void step(
            long rehomeId, int seq, String action, String torrent, String path, String status, String detail, long at) {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO rehome_steps (rehome_id, seq, action, torrent,"
                + " path, status, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, rehomeId);
            ps.setInt(2, seq);
            ps.setString(3, action);
            ps.setString(4, torrent);
            ps.setString(5, path);
            ps.setString(6, status);
            ps.setString(7, detail);
            ps.setLong(8, at);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("recording a rehome step", e);
        }
    }

    public void finish(long rehomeId, String status, String error, long at) {
        try (PreparedStatement ps =
                conn.prepareStatement("UPDATE rehome_runs SET status = ?, error = ?, finished_at = ? WHERE id = ?")) {
            ps.setString(1, status);
            ps.setString(2, error);
            ps.setLong(3, at);
            ps.setLong(4, rehomeId);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("recording a rehome run", e);
        }
    }

    public RehomeRun run(long id) {
        try (PreparedStatement ps = conn.prepareStatement("SELECT id, run_id, plan_file, fingerprint, direction,"
                + " decision, payload_hash, source, target, status, started_at, finished_at, error"
                + " FROM rehome_runs WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                long r = rs.getLong(2);
                Long runId = rs.wasNull() ? null : r;
                long f = rs.getLong(12);
                Long finished = rs.wasNull() ? null : f;
                return new RehomeRun(
                        rs.getLong(1),
                        runId,
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getString(7),
                        rs.getString(8),
                        rs.getString(9),
                        rs.getString(10),
                        rs.getLong(11),
                        finished,
                        rs.getString(13));
            }
        } catch (SQLException e) {
            throw new CatalogException("reading a rehome run", e);
        }
    }

    public List<Step> steps(long rehomeId) {
        try (PreparedStatement ps = conn.prepareStatement("SELECT id, rehome_id, seq, action, torrent, path, status,"
                + " detail, at FROM rehome_steps WHERE rehome_id = ? ORDER BY seq, id")) {
            ps.setLong(1, rehomeId);
            List<Step> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Step(
                            rs.getLong(1),
                            rs.getLong(2),
                            rs.getInt(3),
                            rs.getString(4),
                            rs.getString(5),
                            rs.getString(6),
                            rs.getString(7),
                            rs.getString(8),
                            rs.getLong(9)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading rehome steps", e);
        }
    }
}
