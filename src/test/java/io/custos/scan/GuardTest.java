package io.custos.scan;

import static io.custos.testing.Harness.mtime;
import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;

import io.custos.fs.RunLock;
import io.custos.testing.Harness;
import io.custos.testing.Harness.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuardTest {
    @TempDir
    Path tmp;

    Harness h;
    Path data;

    @BeforeEach
    void setUp() {
        h = new Harness(tmp);
        data = h.root("data");
        h.config()
                .putObject("guard")
                .put("min_files", 10)
                .put("max_deleted_percent", 25)
                .put("max_modified_percent", 25);
    }

    private void files(int n) {
        for (int i = 0; i < n; i++) {
            write(data.resolve("d" + (i % 4) + "/f" + i + ".txt"), "file " + i);
        }
    }

    private long live() {
        return h.queryLong("SELECT count(*) FROM files WHERE status <> 'deleted'");
    }

    @Test
    void emptyRootWithCatalogedFilesTripsTheGuardAndDeletesNothing() throws Exception {
        files(3);
        h.scan();
        // when: everything is gone (an unmounted disk shows an empty mount point)
        for (int i = 0; i < 4; i++) {
            Harness.sh("rm", "-rf", data.resolve("d" + i).toString());
        }
        Result r = h.scan();
        // then
        assertThat(r.exit()).as(r.toString()).isEqualTo(4);
        assertThat(r.stat("files_deleted")).isZero();
        assertThat(live()).isEqualTo(3);
        assertThat(r.json().get("problems").get(0).get("kind").asText()).isEqualTo("root_empty");
        assertThat(r.json().get("roots").get(0).get("state").asText()).isEqualTo("empty");
    }

    @Test
    void acceptChangesLetsAnEmptiedRootThrough() throws Exception {
        files(3);
        h.scan();
        for (int i = 0; i < 4; i++) {
            Harness.sh("rm", "-rf", data.resolve("d" + i).toString());
        }
        assertThat(h.scan().exit()).isEqualTo(4);
        Result r = h.scan("--accept-changes");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_deleted")).isEqualTo(3);
        assertThat(live()).isZero();
    }

    @Test
    void rootRemovedFromTheConfigurationKeepsItsFilesUntilAccepted() throws Exception {
        Path other = h.root("other");
        files(2);
        write(other.resolve("o.txt"), "o");
        h.scan();
        // when: "other" is no longer configured
        ((com.fasterxml.jackson.databind.node.ArrayNode) h.config().get("roots")).remove(1);
        Result r = h.scan();
        assertThat(r.exit()).isEqualTo(4);
        assertThat(r.json().get("problems").get(0).get("root").asText()).isEqualTo("other");
        assertThat(live()).isEqualTo(3);
        Result ok = h.scan("--accept-changes");
        assertThat(ok.exit()).as(ok.toString()).isZero();
        assertThat(ok.stat("files_deleted")).isEqualTo(1);
        assertThat(live()).isEqualTo(2);
    }

    @Test
    void dataDirThatCannotBeListedTripsTheGuardEvenWhenAccepted() throws Exception {
        Path dd = tmp.resolve("dd");
        write(dd.resolve("photos/p.jpg"), "p");
        h.config().remove("roots");
        h.config().put("data_dir", dd.toString());
        assertThat(h.scan().exit()).isZero();
        // when: data_dir is not a directory any more (a failed mount can leave a file, or nothing)
        Harness.sh("rm", "-rf", dd.toString());
        write(dd, "not a directory");
        Result r = h.scan("--accept-changes");
        // then
        assertThat(r.exit()).as(r.toString()).isEqualTo(4);
        assertThat(r.err()).contains("cannot be listed");
        assertThat(live()).isEqualTo(1);
    }

    @Test
    void missingRootTripsTheGuardAndDeletesNothing() throws Exception {
        files(3);
        h.scan();
        Harness.sh("rm", "-rf", data.toString());
        Result r = h.scan();
        assertThat(r.exit()).isEqualTo(4);
        assertThat(live()).isEqualTo(3);
        assertThat(r.json().get("problems").get(0).get("kind").asText()).isEqualTo("root_unavailable");
        assertThat(r.json().get("problems").get(0).get("message").asText()).contains("does not exist");
    }

    @Test
    void rootWithoutItsMarkerFileIsNotScanned() throws Exception {
        ((com.fasterxml.jackson.databind.node.ObjectNode)
                        h.config().get("roots").get(0))
                .put("marker", ".custos-root");
        write(data.resolve(".custos-root"), "");
        files(3);
        assertThat(h.scan().exit()).isZero();
        Files.delete(data.resolve(".custos-root"));
        Files.delete(data.resolve("d0/f0.txt"));
        Result r = h.scan();
        assertThat(r.exit()).isEqualTo(4);
        assertThat(r.json().get("problems").get(0).get("message").asText()).contains("marker");
        assertThat(live()).isEqualTo(4); // 3 files + the marker, none deleted
    }

    @Test
    void massDeletionOverTheThresholdIsHeldBackUntilAccepted() throws Exception {
        files(20);
        h.scan();
        // when: 8 of 20 (40% > 25%) disappear
        for (int i = 0; i < 8; i++) {
            Files.delete(data.resolve("d" + (i % 4) + "/f" + i + ".txt"));
        }
        Result r = h.scan();
        // then: nothing deleted, exit 4, a large_change event
        assertThat(r.exit()).as(r.toString()).isEqualTo(4);
        assertThat(r.stat("files_deleted")).isZero();
        assertThat(live()).isEqualTo(20);
        assertThat(h.queryLong("SELECT count(*) FROM events WHERE type = 'large_change'"))
                .isEqualTo(1);
        assertThat(r.json().get("problems").get(0).get("kind").asText()).isEqualTo("large_change");
        assertThat(r.json().get("problems").get(0).get("message").asText()).contains("--accept-changes");
        // and a plain rescan still holds it back
        assertThat(h.scan().exit()).isEqualTo(4);
        // when accepted
        Result ok = h.scan("--accept-changes");
        assertThat(ok.exit()).as(ok.toString()).isZero();
        assertThat(ok.stat("files_deleted")).isEqualTo(8);
        assertThat(live()).isEqualTo(12);
    }

    @Test
    void deletionsBelowTheThresholdAreApplied() throws Exception {
        files(20);
        h.scan();
        for (int i = 0; i < 5; i++) { // 25%: not more than the threshold
            Files.delete(data.resolve("d" + (i % 4) + "/f" + i + ".txt"));
        }
        Result r = h.scan();
        assertThat(r.exit()).isZero();
        assertThat(r.stat("files_deleted")).isEqualTo(5);
    }

    @Test
    void guardDoesNotApplyToRootsWithFewerThanMinFiles() throws Exception {
        files(5);
        h.scan();
        for (int i = 0; i < 4; i++) {
            Files.delete(data.resolve("d" + (i % 4) + "/f" + i + ".txt"));
        }
        Result r = h.scan();
        assertThat(r.exit()).isZero();
        assertThat(r.stat("files_deleted")).isEqualTo(4);
    }

    @Test
    void massModificationKeepsTheOldHashesAndIsNotReadAgainWhenAccepted() throws Exception {
        files(20);
        h.scan();
        String before = h.queryString("SELECT group_concat(hex(sha256)) FROM (SELECT sha256 FROM files ORDER BY id)");
        // when: 10 of 20 files are rewritten (ransomware looks like this)
        for (int i = 0; i < 10; i++) {
            Path f = data.resolve("d" + (i % 4) + "/f" + i + ".txt");
            write(f, "encrypted garbage " + i);
            mtime(f, FileTime.fromMillis(mtime(f).toMillis() + 60_000));
        }
        Result r = h.scan();
        // then: held back, recorded hashes untouched
        assertThat(r.exit()).as(r.toString()).isEqualTo(4);
        assertThat(r.stat("files_modified")).isZero();
        assertThat(h.queryString("SELECT group_concat(hex(sha256)) FROM (SELECT sha256 FROM files ORDER BY id)"))
                .isEqualTo(before);
        // when accepted: applied from what the first run found, without reading the files again
        Result ok = h.scan("--accept-changes");
        assertThat(ok.exit()).as(ok.toString()).isZero();
        assertThat(ok.stat("files_modified")).isEqualTo(10);
        assertThat(ok.stat("bytes_hashed")).isZero();
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE pending_sha256 IS NOT NULL"))
                .isZero();
        assertThat(h.queryString("SELECT lower(hex(sha256)) FROM files WHERE path = CAST('d0/f0.txt' AS BLOB)"))
                .isEqualTo(ScanTest.sha256Hex("encrypted garbage 0"));
    }

    @Test
    void guardOfOneRootDoesNotHoldBackAnother() throws Exception {
        Path other = h.root("other");
        files(20);
        write(other.resolve("x.txt"), "x");
        write(other.resolve("y.txt"), "y");
        h.scan();
        Harness.sh(
                "rm", "-rf", data.resolve("d0").toString(), data.resolve("d1").toString());
        Files.delete(other.resolve("y.txt"));
        Result r = h.scan();
        assertThat(r.exit()).isEqualTo(4);
        assertThat(h.queryString("SELECT status FROM files WHERE path = CAST('y.txt' AS BLOB)"))
                .isEqualTo("deleted");
        assertThat(h.queryLong("SELECT count(*) FROM files f JOIN roots r ON r.id = f.root_id"
                        + " WHERE r.name = 'data' AND f.status = 'ok'"))
                .isEqualTo(20);
    }

    @Test
    void sameDirectoryConfiguredTwiceIsRefused() throws Exception {
        Files.createSymbolicLink(tmp.resolve("alias"), data);
        ((com.fasterxml.jackson.databind.node.ArrayNode) h.config().get("roots"))
                .addObject()
                .put("name", "alias")
                .put("path", tmp.resolve("alias").toString());
        write(data.resolve("a.txt"), "a");
        Result r = h.scan();
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("same directory").contains("data").contains("alias");
        assertThat(Files.exists(h.parity().resolve("_db/catalog.db"))).isFalse();
    }

    @Test
    void nestedRootAndParityRootAreNotCatalogedTwice() throws Exception {
        Path inner = data.resolve("inner");
        ((com.fasterxml.jackson.databind.node.ArrayNode) h.config().get("roots"))
                .addObject()
                .put("name", "inner")
                .put("path", inner.toString());
        h.config().put("parity_root", data.resolve(".parity").toString());
        write(data.resolve("outer.txt"), "o");
        write(inner.resolve("inner.txt"), "i");
        Result r = h.scan();
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_scanned")).isEqualTo(2);
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + data.resolve(".parity/_db/catalog.db"));
                var rs = c.createStatement()
                        .executeQuery(
                                "SELECT r.name || ':' || CAST(f.path AS TEXT) FROM files f JOIN roots r ON r.id = f.root_id ORDER BY 1")) {
            java.util.List<String> rows = new java.util.ArrayList<>();
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
            assertThat(rows).containsExactly("data:outer.txt", "inner:inner.txt");
        }
    }

    @Test
    void secondRunWhileTheLockIsHeldExitsThreeNamingTheHolder() {
        write(data.resolve("a.txt"), "a");
        Path lockFile = h.parity().resolve("_db/run.lock");
        try (RunLock held = RunLock.acquire(lockFile, "verify", "otherhost", Instant.now())) {
            assertThat(held).isNotNull();
            Result r = h.scan();
            assertThat(r.exit()).isEqualTo(3);
            assertThat(r.err()).contains("otherhost").contains("verify");
            assertThat(r.json().get("exit_code").asInt()).isEqualTo(3);
        }
        assertThat(h.scan().exit()).isZero();
    }

    @Test
    void unknownRootNameIsAUsageError() {
        Result r = h.scan("nosuchroot");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("nosuchroot").contains("data");
    }

    @Test
    void onlyTheNamedRootIsScanned() {
        Path other = h.root("other");
        write(data.resolve("a.txt"), "a");
        write(other.resolve("b.txt"), "b");
        Result r = h.scan("other");
        assertThat(r.stat("files_scanned")).isEqualTo(1);
        assertThat(h.queryString("SELECT CAST(path AS TEXT) FROM files")).isEqualTo("b.txt");
    }
}
