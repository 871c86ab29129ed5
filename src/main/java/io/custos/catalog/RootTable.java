package io.custos.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Queries on the {@code roots} table. Roots are known by name; rows keep paths relative to them. */
public final class RootTable {
    private final Connection conn;

    RootTable(Connection conn) {
        this.conn = conn;
    }

    /** The row of a root, created when new; its path is updated to the configured one. */
    public RootRow ensure(String name, String path) {
        try {
            try (PreparedStatement ps = conn.prepareStatement(
                    "INSERT INTO roots (name, path) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET path = excluded.path")) {
                ps.setString(1, name);
                ps.setString(2, path);
                ps.executeUpdate();
            }
            return byName(name);
        } catch (SQLException e) {
            throw new CatalogException("recording a root", e);
        }
    }

    public RootRow byName(String name) {
        for (RootRow r : all()) {
            if (r.name().equals(name)) {
                return r;
            }
        }
        return null;
    }

    public List<RootRow> all() {
        try (PreparedStatement ps = conn.prepareStatement(
                        "SELECT id, name, path, last_scan_at, last_scan_run FROM roots ORDER BY name");
                ResultSet rs = ps.executeQuery()) {
            List<RootRow> out = new ArrayList<>();
            while (rs.next()) {
                long at = rs.getLong(4);
                Long lastScanAt = rs.wasNull() ? null : at;
                long run = rs.getLong(5);
                Long lastRun = rs.wasNull() ? null : run;
                out.add(new RootRow(rs.getLong(1), rs.getString(2), rs.getString(3), lastScanAt, lastRun));
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading roots", e);
        }
    }

    public void scanned(long id, long at, long runId) {
        try (PreparedStatement ps =
                conn.prepareStatement("UPDATE roots SET last_scan_at = ?, last_scan_run = ? WHERE id = ?")) {
            ps.setLong(1, at);
            ps.setLong(2, runId);
            ps.setLong(3, id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("recording a scan", e);
        }
    }
}
