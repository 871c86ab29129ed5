package io.custos.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Reads a custos catalog the way an outside observer would: read-only JDBC, one short connection
 * per question, so that it never holds a lock a running custos needs.
 */
final class CatalogDb {
    private final Path file;

    CatalogDb(Path file) {
        this.file = file;
    }

    Path file() {
        return file;
    }

    /** {@code PRAGMA integrity_check}: "ok" when the database is sound. */
    String integrityCheck() {
        return query("PRAGMA integrity_check").get(0).values().iterator().next().toString();
    }

    /** Rows of {@code files}, any status. */
    long fileRows() {
        return count("SELECT count(*) FROM files");
    }

    /** Rows of {@code files} that are not {@code deleted}. */
    long liveFiles() {
        return count("SELECT count(*) FROM files WHERE status <> 'deleted'");
    }

    /** Distinct (root, path) pairs among the live rows. */
    long distinctLivePaths() {
        return count("SELECT count(*) FROM (SELECT DISTINCT root_id, path FROM files WHERE status <> 'deleted')");
    }

    /**
     * Committed rows of {@code files} while custos may still be creating the catalog: 0 when the
     * file or the table does not exist yet.
     */
    long committedFilesSoFar() {
        if (!Files.exists(file)) {
            return 0;
        }
        try {
            return fileRows();
        } catch (IllegalStateException e) {
            return 0; // migration not committed yet
        }
    }

    /** The rows at a relative path of a root (any status), oldest first, as column → value. */
    List<Map<String, Object>> rowsAt(String root, String relPath) {
        return query(
                "SELECT f.id, f.status, f.size, f.mtime_ns, hex(f.sha256) AS sha256 FROM files f"
                        + " JOIN roots r ON r.id = f.root_id WHERE r.name = ? AND f.path = ? ORDER BY f.id",
                root,
                relPath.getBytes(StandardCharsets.UTF_8));
    }

    /** Live rows as relative path → lower-case SHA-256 hex. */
    Map<String, String> liveHashes() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map<String, Object> r : query("SELECT path, sha256 FROM files WHERE status <> 'deleted' ORDER BY id")) {
            out.put(
                    new String((byte[]) r.get("path"), StandardCharsets.UTF_8),
                    r.get("sha256") == null ? null : HexFormat.of().formatHex((byte[]) r.get("sha256")));
        }
        return out;
    }

    /** Events of a type. */
    long events(String type) {
        return count("SELECT count(*) FROM events WHERE type = ?", type);
    }

    long count(String sql, Object... args) {
        return ((Number) query(sql, args).get(0).values().iterator().next()).longValue();
    }

    List<Map<String, Object>> query(String sql, Object... args) {
        Properties p = new Properties();
        p.setProperty("open_mode", "1"); // SQLITE_OPEN_READONLY
        p.setProperty("busy_timeout", "10000");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file, p);
                PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            List<Map<String, Object>> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= n; i++) {
                        row.put(rs.getMetaData().getColumnLabel(i), rs.getObject(i));
                    }
                    rows.add(row);
                }
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException("catalog " + file + ": " + sql + ": " + e.getMessage(), e);
        }
    }
}
