package io.custos.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Queries on {@code zip_state}: how the last attempt of each job's folder went. */
public final class ZipStateTable {
    /** One folder's record; {@code failed}: its last attempt failed, so the next run zips it again. */
    public record Row(
            String job,
            String folder,
            long lastAttemptAt,
            Long lastSuccessAt,
            boolean failed,
            int attempts,
            String error,
            String snapshot,
            String manifestSha256) {}

    private final Connection conn;

    ZipStateTable(Connection conn) {
        this.conn = conn;
    }

    public Row get(String job, String folder) {
        try (PreparedStatement ps = conn.prepareStatement("SELECT job, folder, last_attempt_at, last_success_at,"
                + " failed, attempts, error, snapshot, manifest_sha256 FROM zip_state WHERE job = ? AND folder = ?")) {
            ps.setString(1, job);
            ps.setString(2, folder);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                long ok = rs.getLong(4);
                Long lastSuccess = rs.wasNull() ? null : ok;
                return new Row(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getLong(3),
                        lastSuccess,
                        rs.getInt(5) == 1,
                        rs.getInt(6),
                        rs.getString(7),
                        rs.getString(8),
                        rs.getString(9));
            }
        } catch (SQLException e) {
            throw new CatalogException("reading zip state", e);
        }
    }

    public void succeeded(String job, String folder, long at, int attempts, String snapshot, String manifest) {
        write(job, folder, at, at, false, attempts, null, snapshot, manifest);
    }

    public void failed(String job, String folder, long at, int attempts, String error, String snapshot) {
        Row before = get(job, folder);
        write(
                job,
                folder,
                at,
                before == null ? null : before.lastSuccessAt(),
                true,
                attempts,
                error,
                snapshot,
                before == null ? null : before.manifestSha256());
    }

    private void write(
            String job,
            String folder,
            long at,
            Long success,
            boolean failed,
            int attempts,
            String error,
            String snapshot,
            String manifest) {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO zip_state (job, folder, last_attempt_at,"
                + " last_success_at, failed, attempts, error, snapshot, manifest_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT(job, folder) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,"
                + " last_success_at = excluded.last_success_at, failed = excluded.failed,"
                + " attempts = excluded.attempts, error = excluded.error, snapshot = excluded.snapshot,"
                + " manifest_sha256 = excluded.manifest_sha256")) {
            ps.setString(1, job);
            ps.setString(2, folder);
            ps.setLong(3, at);
            ps.setObject(4, success);
            ps.setInt(5, failed ? 1 : 0);
            ps.setInt(6, attempts);
            ps.setString(7, error);
            ps.setString(8, snapshot);
            ps.setString(9, manifest);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("recording zip state", e);
        }
    }
}
