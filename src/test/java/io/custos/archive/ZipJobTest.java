package io.custos.archive;

import static io.custos.testing.Harness.bytes;
import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.custos.testing.Harness;
import io.custos.testing.Harness.Result;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive job end to end (SPEC §7) on ordinary directories (snapshot mode none). */
class ZipJobTest {
    @TempDir
    Path tmp;

    Harness h;
    Path source;
    Path target;
    ObjectNode job;

    @BeforeEach
    void setUp() {
        Programs.need("unzip", "unzip");
        h = new Harness(tmp);
        source = tmp.resolve("source");
        target = tmp.resolve("target");
        job = h.section("zip").putArray("jobs").addObject();
        job.put("name", "office")
                .put("source_path", source.toString())
                .put("target_path", target.toString())
                .put("retry_backoff_seconds", 0);
        job.putObject("snapshot").put("mode", "none");
    }

    @Test
    void onlyFirstLevelFoldersMatchingThePatternAreZipped() throws IOException {
        for (String name : List.of("ABCD", "A1B2", "abcd", "ABCDE", "AB-C")) {
            write(source.resolve(name + "/doc.txt"), "in " + name);
        }
        write(source.resolve("elsewhere/WXYZ/doc.txt"), "a real folder, not at the first level");
        Files.createSymbolicLink(source.resolve("WXYZ"), source.resolve("elsewhere/WXYZ"));
        write(source.resolve("QQQQ"), "a file, not a folder");
        Result r = zip();
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(folders(r)).containsExactly("A1B2", "ABCD");
        try (Stream<Path> s = Files.list(target)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("A1B2", "ABCD");
        }
    }

    @Test
    void firstRunPublishesAZipTheSidecarsAndMetadataThatCheckOut() throws IOException {
        write(source.resolve("ABCD/b.txt"), "bravo ".repeat(1000));
        write(source.resolve("ABCD/sub/a.jpg"), bytes(50_000, 1));
        write(source.resolve("ABCD/sub/deeper/c.txt"), "charlie");
        Result r = zip();
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("folders_zipped")).isEqualTo(1);
        Path dir = target.resolve("ABCD");
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder(
                            "ABCD.zip", "ABCD.zip.md5", "ABCD.zip.sha256", "metadata.json", ".state.json");
        }
        Programs.ok(dir, "unzip", "-tq", "ABCD.zip");
        Programs.ok(dir, "sha256sum", "-c", "ABCD.zip.sha256");
        Programs.ok(dir, "md5sum", "-c", "ABCD.zip.md5");
        JsonNode meta = Harness.JSON.readTree(dir.resolve("metadata.json").toFile());
        List<String> keys = new ArrayList<>();
        meta.fieldNames().forEachRemaining(keys::add);
        assertThat(keys)
                .containsExactly(
                        "zip_name",
                        "files",
                        "zip_md5",
                        "zip_sha256",
                        "total_files",
                        "total_bytes",
                        "created_at_utc",
                        "snapshot",
                        "job",
                        "source",
                        "host",
                        "custos_version");
        assertThat(meta.get("zip_name").asText()).isEqualTo("ABCD.zip");
        assertThat(meta.get("snapshot").isNull()).isTrue();
        assertThat(meta.get("total_files").asLong()).isEqualTo(3);
        assertThat(meta.get("total_bytes").asLong()).isEqualTo(6000 + 50_000 + 7);
        assertThat(meta.get("zip_sha256").asText())
                .isEqualTo(Harness.sha256Hex(Files.readAllBytes(dir.resolve("ABCD.zip"))));
        List<String> listed = new ArrayList<>();
        meta.get("files").forEach(f -> listed.add(f.asText()));
        List<String> entries = new ArrayList<>();
        try (ZipFile z = new ZipFile(dir.resolve("ABCD.zip").toFile())) {
            z.stream().filter(e -> !e.isDirectory()).forEach(e -> entries.add(e.getName()));
        }
        assertThat(listed)
                .containsExactly("b.txt", "sub/a.jpg", "sub/deeper/c.txt")
                .isEqualTo(entries);
    }

    @Test
    void anUnchangedFolderIsSkippedAndAChangeKeepsTwoGenerations() throws IOException {
        Path f = write(source.resolve("ABCD/a.txt"), "version 1");
        zip();
        Result again = zip();
        assertThat(again.stat("folders_unchanged")).isEqualTo(1);
        assertThat(again.stat("folders_zipped")).isZero();
        byte[] first = Files.readAllBytes(target.resolve("ABCD/ABCD.zip"));

        Files.writeString(f, "version 2, longer");
        Result second = zip();
        assertThat(second.stat("folders_zipped")).isEqualTo(1);
        Path dir = target.resolve("ABCD");
        assertThat(Files.readAllBytes(dir.resolve("ABCD.prev.zip"))).isEqualTo(first);
        checkAllSidecars(dir);

        write(source.resolve("ABCD/b.txt"), "another file");
        assertThat(zip().stat("folders_zipped")).isEqualTo(1);
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".zip")))
                    .containsExactlyInAnyOrder("ABCD.zip", "ABCD.prev.zip");
        }
        checkAllSidecars(dir);
        try (ZipFile z = new ZipFile(dir.resolve("ABCD.prev.zip").toFile())) {
            assertThat(z.size())
                    .as("the previous generation is the second archive")
                    .isEqualTo(1);
        }
    }

    @Test
    void aFailingPublishKeepsThePreviousArchiveRetriesAndNotifies() throws Exception {
        Requirements.root("chattr +i needs root");
        try (Hook receiver = new Hook()) {
            ArrayNode targets = h.section("notify").putArray("targets");
            targets.addObject().put("type", "webhook").put("url", receiver.url());
            job.put("retries", 2);
            write(source.resolve("ABCD/a.txt"), "version 1");
            zip();
            Map<String, String> before = contents(target.resolve("ABCD"));
            write(source.resolve("ABCD/a.txt"), "version 2");
            Harness.sh("chattr", "+i", target.resolve("ABCD").toString());
            Result r;
            try {
                r = zip();
            } finally {
                Harness.sh("chattr", "-i", target.resolve("ABCD").toString());
            }
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.stat("folders_failed")).isEqualTo(1);
            JsonNode folder = r.json().get("jobs").get(0).get("folders").get(0);
            assertThat(folder.get("attempts").asInt()).isEqualTo(3);
            assertThat(contents(target.resolve("ABCD"))).isEqualTo(before);
            JsonNode doc = Harness.JSON.readTree(receiver.lastBody("zip.failed"));
            assertThat(doc.get("folder").asText()).isEqualTo("ABCD");
            assertThat(doc.get("attempts").asInt()).isEqualTo(3);
            assertThat(doc.get("job").asText()).isEqualTo("office");
            // the next run tries again, and now it works
            Result next = zip();
            assertThat(next.exit()).as(next.toString()).isZero();
            assertThat(next.stat("folders_zipped")).isEqualTo(1);
        }
    }

    @Test
    void aFailedFolderIsRetriedEvenWhenNothingChanged() throws IOException {
        Requirements.root("chattr +i needs root");
        write(source.resolve("ABCD/a.txt"), "version 1");
        Files.createDirectories(target.resolve("ABCD"));
        Harness.sh("chattr", "+i", target.resolve("ABCD").toString());
        try {
            assertThat(zip().stat("folders_failed")).isEqualTo(1);
        } finally {
            Harness.sh("chattr", "-i", target.resolve("ABCD").toString());
        }
        Result r = zip();
        assertThat(r.stat("folders_zipped")).isEqualTo(1);
    }

    @Test
    void theTaskTimeoutStopsTheWorkAndLeavesNoTempFiles() throws IOException {
        write(source.resolve("ABCD/big.txt"), bytes(1, 1)); // make the directory
        try (var out = Files.newOutputStream(source.resolve("ABCD/big.bin"))) {
            byte[] chunk = bytes(1 << 20, 7);
            for (int i = 0; i < 400; i++) {
                out.write(chunk);
            }
        }
        job.put("task_timeout_seconds", 1).put("retries", 0).put("compression", "deflate");
        long t0 = System.nanoTime();
        Result r = zip();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.json().get("problems").toString()).contains("task_timeout_seconds");
        assertThat(ms).isLessThan(20_000);
        try (Stream<Path> s = Files.walk(target)) {
            assertThat(s.filter(Files::isRegularFile)).isEmpty();
        }
    }

    @Test
    void dryRunSaysWhatWouldBeZippedAndChangesNothing() throws IOException {
        write(source.resolve("ABCD/a.txt"), "alpha");
        Result r = h.run("--json", "zip", "--dry-run");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.json()
                        .get("jobs")
                        .get(0)
                        .get("folders")
                        .get(0)
                        .get("state")
                        .asText())
                .isEqualTo("would zip");
        assertThat(Files.exists(target)).isFalse();
        assertThat(Files.exists(h.parity())).isFalse();
    }

    @Test
    void folderOptionRunsOneFolderAndAnUnknownJobIsAUsageError() throws IOException {
        write(source.resolve("ABCD/a.txt"), "alpha");
        write(source.resolve("EFGH/a.txt"), "echo");
        Result r = h.run("--json", "zip", "office", "--folder", "EFGH");
        assertThat(folders(r)).containsExactly("EFGH");
        assertThat(h.run("--json", "zip", "nosuchjob").exit()).isEqualTo(2);
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** A webhook receiver on 127.0.0.1 that keeps every body it gets. */
    static final class Hook implements AutoCloseable {
        final com.sun.net.httpserver.HttpServer server;
        final List<String> bodies = java.util.Collections.synchronizedList(new ArrayList<>());

        Hook() throws IOException {
            server = com.sun.net.httpserver.HttpServer.create(
                    new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/", ex -> {
                bodies.add(new String(ex.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
                ex.sendResponseHeaders(200, -1);
                ex.close();
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        }

        /** The last body whose event is {@code event}. */
        String lastBody(String event) {
            synchronized (bodies) {
                for (int i = bodies.size() - 1; i >= 0; i--) {
                    if (bodies.get(i).contains("\"event\":\"" + event + "\"")) {
                        return bodies.get(i);
                    }
                }
            }
            throw new AssertionError("no " + event + " notice in " + bodies);
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    private Result zip() {
        return h.run("--json", "zip");
    }

    private static List<String> folders(Result r) {
        List<String> out = new ArrayList<>();
        r.json().get("jobs").get(0).get("folders").forEach(f -> {
            if (f.get("state").asText().equals("zipped")) {
                out.add(f.get("name").asText());
            }
        });
        return out;
    }

    private static void checkAllSidecars(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.endsWith(".sha256")) {
                    Programs.ok(dir, "sha256sum", "-c", n);
                } else if (n.endsWith(".md5")) {
                    Programs.ok(dir, "md5sum", "-c", n);
                }
            }
        }
    }

    /** File name → SHA-256 of its content. */
    private static Map<String, String> contents(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                out.put(p.getFileName().toString(), Harness.sha256Hex(Files.readAllBytes(p)));
            }
        }
        return out;
    }
}
