package io.custos.catalog;

import io.custos.run.CustosException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;

/**
 * The SQLite catalog at {@code <parity_root>/_db/catalog.db}: WAL mode, schema through numbered
 * migrations ({@code db/migration/V<n>__*.sql}, tracked in {@code PRAGMA user_version}).
 */
public final class Catalog implements AutoCloseable {
    /** Every migration in order; the number of a migration is its index + 1. */
    static final List<String> MIGRATIONS =
            List.of("V1__catalog.sql", "V2__parity.sql", "V3__zip.sql", "V4__link.sql", "V5__payload.sql");

    private final Connection conn;
    private final Path file;
    private final FileTable files;
    private final EventTable events;
    private final RunTable runs;
    private final RootTable roots;
    private final ParityTable parity;
    private final ZipStateTable zipState;
    private final LinkTable links;
    private final PayloadTable payloads;
    private final RehomeTable rehome;

    private Catalog(Connection conn, Path file) {
        this.conn = conn;
        this.file = file;
        this.files = new FileTable(conn);
        this.events = new EventTable(conn);
        this.runs = new RunTable(conn);
        this.roots = new RootTable(conn);
        this.parity = new ParityTable(conn);
        this.zipState = new ZipStateTable(conn);
        this.links = new LinkTable(conn);
        this.payloads = new PayloadTable(conn);
        this.rehome = new RehomeTable(conn);
    }

    /** The catalog file under a parity root. */
    public static Path fileIn(Path parityRoot) {
        return parityRoot.resolve("_db").resolve("catalog.db");
    }

    /** Opens (creating and migrating when needed) the catalog for writing. */
    public static Catalog open(Path file) {
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw CustosException.environment("cannot create " + file.getParent() + ": " + e.getMessage(), e);
        }
        Catalog c = connect(file, false);
        c.migrate();
        return c;
    }

    /** Opens an existing catalog for reading; null when there is none yet. */
    public static Catalog openReadOnly(Path file) {
        if (!Files.exists(file)) {
            return null;
        }
        Catalog c = connect(file, true);
        int version = c.userVersion();
        if (version > MIGRATIONS.size()) {
            c.close();
            throw CustosException.environment(
                    "the catalog " + file + " has schema version " + version + ", newer than this custos knows ("
                            + MIGRATIONS.size() + "); upgrade custos",
                    null);
        }
        if (version < MIGRATIONS.size()) {
            // An older schema: read commands need the current one, which only a writer may create.
            c.close();
            Catalog writer = open(file);
            writer.close();
            c = connect(file, true);
        }
        return c;
    }

    private static Catalog connect(Path file, boolean readOnly) {
        try {
            Properties p = new Properties();
            p.setProperty("open_mode", readOnly ? "1" : "6"); // SQLITE_OPEN_READONLY or READWRITE|CREATE
            p.setProperty("busy_timeout", "10000");
            // The driver would otherwise run a query after every INSERT; FileTable asks when it needs the id.
            p.setProperty("jdbc.get_generated_keys", "false");
            Connection conn = DriverManager.getConnection("jdbc:sqlite:" + file, p);
            try (Statement st = conn.createStatement()) {
                if (!readOnly) {
                    st.execute("PRAGMA journal_mode=WAL");
                    st.execute("PRAGMA synchronous=NORMAL");
                }
                st.execute("PRAGMA foreign_keys=ON");
                st.execute("PRAGMA cache_size=-32768");
                st.execute("PRAGMA temp_store=MEMORY");
            }
            conn.setAutoCommit(true);
            return new Catalog(conn, file);
        } catch (SQLException e) {
            throw CustosException.environment("cannot open the catalog " + file + ": " + e.getMessage(), e);
        }
    }

    private int userVersion() {
        try (Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("PRAGMA user_version")) {
            return rs.next() ? rs.getInt(1) : 0;
        } catch (SQLException e) {
            throw CustosException.environment("the catalog " + file + " is not readable: " + e.getMessage(), e);
        }
    }

    private void migrate() {
        int version = userVersion();
        if (version > MIGRATIONS.size()) {
            throw CustosException.environment(
                    "the catalog " + file + " has schema version " + version + ", newer than this custos knows ("
                            + MIGRATIONS.size() + "); upgrade custos",
                    null);
        }
        for (int i = version; i < MIGRATIONS.size(); i++) {
            String name = MIGRATIONS.get(i);
            String sql = resource("/db/migration/" + name);
            try {
                conn.setAutoCommit(false);
                try (Statement st = conn.createStatement()) {
                    for (String stmt : statements(sql)) {
                        st.execute(stmt);
                    }
                    st.execute("PRAGMA user_version=" + (i + 1));
                }
                conn.commit();
            } catch (SQLException e) {
                rollbackQuietly();
                throw CustosException.environment("catalog migration " + name + " failed: " + e.getMessage(), e);
            } finally {
                autoCommit();
            }
        }
    }

    static List<String> statements(String sql) {
        StringBuilder clean = new StringBuilder();
        for (String line : sql.split("\n")) {
            int dash = line.indexOf("--");
            clean.append(dash >= 0 ? line.substring(0, dash) : line).append('\n');
        }
        return java.util.Arrays.stream(clean.toString().split(";"))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
    }

    private static String resource(String name) {
        try (InputStream in = Catalog.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read resource " + name, e);
        }
    }

    public Path file() {
        return file;
    }

    public FileTable files() {
        return files;
    }

    public EventTable events() {
        return events;
    }

    public RunTable runs() {
        return runs;
    }

    public RootTable roots() {
        return roots;
    }

    public ParityTable parity() {
        return parity;
    }

    public ZipStateTable zipState() {
        return zipState;
    }

    public LinkTable links() {
        return links;
    }

    public PayloadTable payloads() {
        return payloads;
    }

    public RehomeTable rehome() {
        return rehome;
    }

    /** A value kept between runs (e.g. when parity was last checked against the disk); null when unset. */
    public String meta(String key) {
        try (java.sql.PreparedStatement ps = conn.prepareStatement("SELECT value FROM meta WHERE key = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw new CatalogException("reading meta", e);
        }
    }

    public void meta(String key, String value) {
        try (java.sql.PreparedStatement ps = conn.prepareStatement(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")) {
            ps.setString(1, key);
            ps.setString(2, value);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new CatalogException("writing meta", e);
        }
    }

    /** Starts a transaction; {@link #commit} ends it. */
    public void begin() {
        try {
            conn.setAutoCommit(false);
        } catch (SQLException e) {
            throw new CatalogException("begin", e);
        }
    }

    public void commit() {
        try {
            if (!conn.getAutoCommit()) {
                conn.commit();
                conn.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new CatalogException("commit", e);
        }
    }

    /** Runs work in one transaction. */
    public void inTransaction(Runnable work) {
        begin();
        boolean ok = false;
        try {
            work.run();
            ok = true;
        } finally {
            if (ok) {
                commit();
            } else {
                rollbackQuietly();
                autoCommit();
            }
        }
    }

    private void rollbackQuietly() {
        try {
            conn.rollback();
        } catch (SQLException e) {
            // the connection is closing or broken; nothing more to undo
        }
    }

    private void autoCommit() {
        try {
            conn.setAutoCommit(true);
        } catch (SQLException e) {
            // see rollbackQuietly
        }
    }

    /** An online copy of the catalog (SQLite backup API) to {@code target}. */
    public void backupTo(Path target) {
        try (Statement st = conn.createStatement()) {
            st.executeUpdate("backup to " + quote(target.toString()));
        } catch (SQLException e) {
            throw new CatalogException("backup to " + target, e);
        }
    }

    /** The id of the newest event (0 when none): every change to a file is recorded as an event. */
    public long lastEventId() {
        try (Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("SELECT coalesce(max(id), 0) FROM events")) {
            return rs.next() ? rs.getLong(1) : 0;
        } catch (SQLException e) {
            throw new CatalogException("reading events", e);
        }
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    @Override
    public void close() {
        try {
            if (!conn.getAutoCommit()) {
                conn.rollback();
            }
            conn.close();
        } catch (SQLException e) {
            // closing; SQLite rolls back any open transaction itself
        }
    }
}
