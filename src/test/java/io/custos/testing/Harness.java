package io.custos.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.custos.cli.Cli;
import io.custos.cli.Context;
import io.custos.run.CancelToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs custos in-process through the same {@link Cli} factory as {@code main()}, against a real
 * temp directory tree and a real SQLite catalog, with stdout and stderr captured.
 */
public final class Harness {
    public static final ObjectMapper JSON = new ObjectMapper();

    private final Path tmp;
    private final ObjectNode config = JSON.createObjectNode();
    private final Map<String, String> env = new HashMap<>();
    private Clock clock = Clock.systemUTC();
    private CancelToken cancel = new CancelToken();

    public Harness(Path tmp) {
        this.tmp = tmp;
        config.put("parity_root", tmp.resolve("parity").toString());
        config.putArray("roots");
        // Scan tests count what the scan reads; tests of verification set their own percentage.
        config.putObject("verify").put("percent", 0);
    }

    /** A sub-object of the configuration, created when missing ({@code parity}, {@code verify}...). */
    public ObjectNode section(String name) {
        if (!config.has(name)) {
            config.putObject(name);
        }
        return (ObjectNode) config.get(name);
    }

    /** The parity set of a content: {@code by_hash/<h[0:2]>/<h>.par2} under the parity root. */
    public Path setOf(byte[] content) {
        String x = sha256Hex(content);
        return parity().resolve("by_hash").resolve(x.substring(0, 2)).resolve(x + ".par2");
    }

    /** Every regular file below {@code dir} (none when it does not exist). */
    public static List<Path> files(Path dir) {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String sha256Hex(byte[] content) {
        try {
            return java.util.HexFormat.of()
                    .formatHex(
                            java.security.MessageDigest.getInstance("SHA-256").digest(content));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code count} random bytes, the same for the same seed. */
    public static byte[] bytes(int count, long seed) {
        byte[] b = new byte[count];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    public Path tmp() {
        return tmp;
    }

    public Path parity() {
        return tmp.resolve("parity");
    }

    public ObjectNode config() {
        return config;
    }

    public Map<String, String> env() {
        return env;
    }

    public Harness clock(Clock c) {
        this.clock = c;
        return this;
    }

    public Harness cancel(CancelToken c) {
        this.cancel = c;
        return this;
    }

    /** Adds a root {@code name} at {@code tmp/name} (created) and returns its path. */
    public Path root(String name) {
        Path p = tmp.resolve(name);
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ((ArrayNode) config.get("roots")).addObject().put("name", name).put("path", p.toString());
        return p;
    }

    /** The outcome of one invocation. */
    public record Result(int exit, String out, String err) {
        public JsonNode json() {
            try {
                return JSON.readTree(out);
            } catch (IOException e) {
                throw new AssertionError("stdout is not one JSON object: " + out + "\nstderr: " + err, e);
            }
        }

        public long stat(String name) {
            JsonNode s = json().get("stats");
            if (s == null || !s.has(name)) {
                throw new AssertionError("no stat " + name + " in " + out);
            }
            return s.get(name).asLong();
        }

        @Override
        public String toString() {
            return "exit " + exit + "\nstdout: " + out + "\nstderr: " + err;
        }
    }

    /** Runs custos with {@code --config <file>} prepended. */
    public Result run(String... args) {
        Path cfg = tmp.resolve("config.json");
        try {
            Files.writeString(cfg, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String[] full = new String[args.length + 2];
        full[0] = "--config";
        full[1] = cfg.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        return runRaw(full);
    }

    /** Runs custos with exactly these arguments. */
    public Result runRaw(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        int code = Cli.run(args, new Context(env, clock, o, e, cancel, "testhost", tmp));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** {@code --json scan ARGS}. */
    public Result scan(String... args) {
        String[] full = new String[args.length + 2];
        full[0] = "--json";
        full[1] = "scan";
        System.arraycopy(args, 0, full, 2, args.length);
        return run(full);
    }

    /** Opens the catalog for direct checks. */
    public Connection db() {
        try {
            return DriverManager.getConnection("jdbc:sqlite:" + parity().resolve("_db/catalog.db"));
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public long queryLong(String sql) {
        try (Connection c = db();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getLong(1) : -1;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public String queryString(String sql) {
        try (Connection c = db();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- files --------------------------------------------------------------------------------

    public static Path write(Path p, String content) {
        try {
            Files.createDirectories(p.getParent());
            Files.writeString(p, content);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path write(Path p, byte[] content) {
        try {
            Files.createDirectories(p.getParent());
            Files.write(p, content);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sets the mtime, so a test can change content "without" changing mtime, or the reverse. */
    public static void mtime(Path p, FileTime t) {
        try {
            Files.setLastModifiedTime(p, t);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static FileTime mtime(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a shell command (mkfifo, mount, chattr...) and fails on a non-zero exit. */
    public static String sh(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Whether the tests run as root (mounts, other users); under CI=true they must. */
    public static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }
}
