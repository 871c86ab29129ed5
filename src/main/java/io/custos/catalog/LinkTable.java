package io.custos.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Hardlink plans and their actions ({@code link_plans}, {@code link_actions}), and the query that finds duplicates. */
public final class LinkTable {
    /** A stored plan. {@code roots}: JSON array of the root names it was limited to, or null for all. */
    public record Plan(
            long id,
            String name,
            long createdAt,
            Long createdRun,
            String status,
            long minSize,
            String roots,
            long groups,
            long actions,
            long bytes,
            Long startedAt,
            Long finishedAt,
            Long lastRun) {}

    /** One duplicate path to replace with a hardlink of the kept file, with what the plan relied on. */
    public record Action(
            long id,
            long planId,
            long groupNo,
            byte[] sha256,
            long size,
            long device,
            long keepFileId,
            long keepRootId,
            byte[] keepPath,
            long keepInode,
            long keepMtimeNs,
            long dupFileId,
            long dupRootId,
            byte[] dupPath,
            long dupInode,
            long dupMtimeNs,
            String status,
            String reason,
            Long doneAt) {}

    /** A live file with content, as the duplicate search sees it. */
    public record Candidate(
            long id, long rootId, byte[] path, long size, long mtimeNs, long device, long inode, byte[] sha256) {}

    private static final String ACTION_COLUMNS = "id, plan_id, group_no, sha256, size, device, keep_file_id,"
            + " keep_root_id, keep_path, keep_inode, keep_mtime_ns, dup_file_id, dup_root_id, dup_path, dup_inode,"
            + " dup_mtime_ns, status, reason, done_at";
    private static final String PLAN_COLUMNS = "id, name, created_at, created_run, status, min_size, roots, groups,"
            + " actions, bytes, started_at, finished_at, last_run";

    private final Connection conn;
    private PreparedStatement finishAction;

    LinkTable(Connection conn) {
        this.conn = conn;
    }

    /**
     * Streams the files that share their content with at least one other file: status ok, no
     * pending modification, size at least {@code minSize}, in the given roots (all when empty);
     * ordered by content, size, device and inode, so that each group comes in one piece.
     */
    public void forEachSharedContent(long minSize, List<Long> rootIds, Consumer<Candidate> action) {
        String inRoots = rootIds.isEmpty() ? "" : " AND root_id IN (" + placeholders(rootIds.size()) + ")";
        String live = "status <> 'deleted' AND status = 'ok' AND pending_sha256 IS NULL AND sha256 IS NOT NULL"
                + " AND size >= ?" + inRoots;
        String sql = "SELECT id, root_id, path, size, mtime_ns, device, inode, sha256 FROM files WHERE " + live
                + " AND sha256 IN (SELECT sha256 FROM files WHERE " + live + " GROUP BY sha256 HAVING COUNT(*) > 1)"
                + " ORDER BY sha256, size, device, inode";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            int i = 1;
            for (int round = 0; round < 2; round++) {
                ps.setLong(i++, minSize);
                for (long id : rootIds) {
                    ps.setLong(i++, id);
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    action.accept(new Candidate(
                            rs.getLong(1),
                            rs.getLong(2),
                            rs.getBytes(3),
                            rs.getLong(4),
                            rs.getLong(5),
                            rs.getLong(6),
                            rs.getLong(7),
                            rs.getBytes(8)));
                }
            }
        } catch (SQLException e) {
            throw new CatalogException("finding duplicates", e);
        }
    }

    private static String placeholders(int n) {
        return String.join(", ", java.util.Collections.nCopies(n, "?"));
    }

    /** Stores a new plan (status pending); returns its id. Call inside a transaction with its actions. */
    public long insertPlan(String name, long createdAt, Long runId, long minSize, String roots) {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO link_plans (name, created_at, created_run,"
                + " status, min_size, roots, groups, actions, bytes) VALUES (?, ?, ?, 'pending', ?, ?, 0, 0, 0)")) {
            ps.setString(1, name);
            ps.setLong(2, createdAt);
            setLong(ps, 3, runId);
            ps.setLong(4, minSize);
            ps.setString(5, roots);
            ps.executeUpdate();
            return lastId();
        } catch (SQLException e) {
            throw new CatalogException("storing a link plan", e);
        }
    }

    /** The plan's totals, once its actions are stored. */
    public void planTotals(long planId, long groups, long actions, long bytes) {
        try (PreparedStatement ps =
                conn.prepareStatement("UPDATE link_plans SET groups = ?, actions = ?, bytes = ? WHERE id = ?")) {
            ps.setLong(1, groups);
            ps.setLong(2, actions);
            ps.setLong(3, bytes);
            ps.setLong(4, planId);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("storing a link plan", e);
        }
    }

    /** Stores the actions of one plan (inside the caller's transaction). */
    public void insertActions(long planId, List<Action> actions) {
        String sql = "INSERT INTO link_actions (plan_id, group_no, sha256, size, device, keep_file_id, keep_root_id,"
                + " keep_path, keep_inode, keep_mtime_ns, dup_file_id, dup_root_id, dup_path, dup_inode, dup_mtime_ns,"
                + " status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (Action a : actions) {
                ps.setLong(1, planId);
                ps.setLong(2, a.groupNo());
                ps.setBytes(3, a.sha256());
                ps.setLong(4, a.size());
                ps.setLong(5, a.device());
                ps.setLong(6, a.keepFileId());
                ps.setLong(7, a.keepRootId());
                ps.setBytes(8, a.keepPath());
                ps.setLong(9, a.keepInode());
                ps.setLong(10, a.keepMtimeNs());
                ps.setLong(11, a.dupFileId());
                ps.setLong(12, a.dupRootId());
                ps.setBytes(13, a.dupPath());
                ps.setLong(14, a.dupInode());
                ps.setLong(15, a.dupMtimeNs());
                ps.addBatch();
            }
            ps.executeBatch();
        } catch (SQLException e) {
            throw new CatalogException("storing link actions", e);
        }
    }

    public Plan plan(long id) {
        try (PreparedStatement ps = conn.prepareStatement("SELECT " + PLAN_COLUMNS + " FROM link_plans WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? plan(rs) : null;
            }
        } catch (SQLException e) {
            throw new CatalogException("reading a link plan", e);
        }
    }

    /** Every plan, newest first. */
    public List<Plan> plans() {
        try (PreparedStatement ps =
                        conn.prepareStatement("SELECT " + PLAN_COLUMNS + " FROM link_plans ORDER BY id DESC");
                ResultSet rs = ps.executeQuery()) {
            List<Plan> out = new ArrayList<>();
            while (rs.next()) {
                out.add(plan(rs));
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading link plans", e);
        }
    }

    /** The actions of a plan in the order they are carried out; only those of the given statuses when any. */
    public List<Action> actions(long planId, List<String> statuses) {
        String filter = statuses.isEmpty() ? "" : " AND status IN (" + placeholders(statuses.size()) + ")";
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT " + ACTION_COLUMNS + " FROM link_actions WHERE plan_id = ?" + filter + " ORDER BY id")) {
            ps.setLong(1, planId);
            for (int i = 0; i < statuses.size(); i++) {
                ps.setString(i + 2, statuses.get(i));
            }
            List<Action> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(action(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading link actions", e);
        }
    }

    /** Actions and bytes per status: {@code {status: [actions, bytes]}}. */
    public Map<String, long[]> counts(long planId) {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (String s : List.of("pending", "done", "skipped", "failed")) {
            out.put(s, new long[2]);
        }
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT status, COUNT(*), SUM(size) FROM link_actions WHERE plan_id = ? GROUP BY status")) {
            ps.setLong(1, planId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3)});
                }
            }
            return out;
        } catch (SQLException e) {
            throw new CatalogException("reading link actions", e);
        }
    }

    /** The outcome of one action. */
    public void finishAction(long id, String status, String reason, long at, long runId) {
        try {
            if (finishAction == null) {
                finishAction = conn.prepareStatement(
                        "UPDATE link_actions SET status = ?, reason = ?, done_at = ?, run_id = ? WHERE id = ?");
            }
            PreparedStatement ps = finishAction;
            ps.setString(1, status);
            ps.setString(2, reason);
            ps.setLong(3, at);
            ps.setLong(4, runId);
            ps.setLong(5, id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("recording a link action", e);
        }
    }

    /** Failed actions go back to pending, to be tried again. */
    public int retryFailed(long planId) {
        try (PreparedStatement ps =
                conn.prepareStatement("UPDATE link_actions SET status = 'pending', reason = NULL, done_at = NULL"
                        + " WHERE plan_id = ? AND status = 'failed'")) {
            ps.setLong(1, planId);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("recording a link action", e);
        }
    }

    /** A plan's status; {@code started_at} is set on the first start, {@code finished_at} on an end. */
    public void planStatus(long planId, String status, long at, long runId) {
        boolean end = status.equals("completed") || status.equals("failed");
        try (PreparedStatement ps = conn.prepareStatement("UPDATE link_plans SET status = ?, last_run = ?,"
                + " started_at = COALESCE(started_at, ?), finished_at = ? WHERE id = ?")) {
            ps.setString(1, status);
            ps.setLong(2, runId);
            ps.setLong(3, at);
            if (end) {
                ps.setLong(4, at);
            } else {
                ps.setNull(4, Types.INTEGER);
            }
            ps.setLong(5, planId);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("recording a link plan", e);
        }
    }

    private long lastId() throws SQLException {
        try (Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("SELECT last_insert_rowid()")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.INTEGER);
        } else {
            ps.setLong(i, v);
        }
    }

    private static Long nullable(ResultSet rs, int i) throws SQLException {
        long v = rs.getLong(i);
        return rs.wasNull() ? null : v;
    }

    private static Plan plan(ResultSet rs) throws SQLException {
        return new Plan(
                rs.getLong(1),
                rs.getString(2),
                rs.getLong(3),
                nullable(rs, 4),
                rs.getString(5),
                rs.getLong(6),
                rs.getString(7),
                rs.getLong(8),
                rs.getLong(9),
                rs.getLong(10),
                nullable(rs, 11),
                nullable(rs, 12),
                nullable(rs, 13));
    }

    private static Action action(ResultSet rs) throws SQLException {
        return new Action(
                rs.getLong(1),
                rs.getLong(2),
                rs.getLong(3),
                rs.getBytes(4),
                rs.getLong(5),
                rs.getLong(6),
                rs.getLong(7),
                rs.getLong(8),
                rs.getBytes(9),
                rs.getLong(10),
                rs.getLong(11),
                rs.getLong(12),
                rs.getLong(13),
                rs.getBytes(14),
                rs.getLong(15),
                rs.getLong(16),
                rs.getString(17),
                rs.getString(18),
                nullable(rs, 19));
    }
}
