package io.custos.scan;

import static io.custos.testing.Harness.mtime;
import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.custos.fs.RawPaths;
import io.custos.testing.Harness;
import io.custos.testing.Harness.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScanTest {
    @TempDir
    Path tmp;

    Harness h;
    Path data;

    @BeforeEach
    void setUp() {
        h = new Harness(tmp);
        data = h.root("data");
    }

    @Test
    void firstScanCatalogsANestedTree() {
        // given
        write(data.resolve("a.txt"), "alpha");
        write(data.resolve("x/y/z/deep.txt"), "deep");
        write(data.resolve("x/b.txt"), "bravo!");
        // when
        Result r = h.scan();
        // then
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_scanned")).isEqualTo(3);
        assertThat(r.stat("files_new")).isEqualTo(3);
        assertThat(r.stat("bytes_hashed")).isEqualTo(5 + 4 + 6);
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE status = 'ok'"))
                .isEqualTo(3);
        assertThat(h.queryString("SELECT lower(hex(sha256)) FROM files WHERE path = CAST('x/y/z/deep.txt' AS BLOB)"))
                .isEqualTo(sha256Hex("deep"));
        assertThat(h.queryLong("SELECT count(*) FROM events WHERE type = 'added'"))
                .isEqualTo(3);
    }

    @Test
    void immediateRescanReadsNothing() {
        write(data.resolve("a.txt"), "alpha");
        write(data.resolve("d/b.txt"), "bravo");
        h.scan();
        // when
        Result r = h.scan();
        // then
        assertThat(r.exit()).isZero();
        assertThat(r.stat("files_unchanged")).isEqualTo(2);
        assertThat(r.stat("bytes_hashed")).isZero();
        assertThat(r.stat("files_new")).isZero();
    }

    @Test
    void touchedFileUpdatesMtimeWithoutChangingItsHash() {
        Path f = write(data.resolve("a.txt"), "alpha");
        h.scan();
        String before = h.queryString("SELECT hex(sha256) FROM files");
        // when: same content, new mtime
        mtime(f, FileTime.fromMillis(mtime(f).toMillis() + 60_000));
        Result r = h.scan();
        // then
        assertThat(r.stat("files_touched")).isEqualTo(1);
        assertThat(r.stat("files_modified")).isZero();
        assertThat(h.queryString("SELECT hex(sha256) FROM files")).isEqualTo(before);
        assertThat(h.queryLong("SELECT mtime_ns FROM files"))
                .isEqualTo(mtime(f).to(java.util.concurrent.TimeUnit.NANOSECONDS));
        assertThat(h.queryLong("SELECT count(*) FROM events WHERE type = 'touched'"))
                .isEqualTo(1);
    }

    @Test
    void modifiedFileGetsItsNewHashAndAnEventWithBothHashes() {
        Path f = write(data.resolve("a.txt"), "alpha");
        h.scan();
        // when
        write(f, "alpha, edited");
        mtime(f, FileTime.fromMillis(mtime(f).toMillis() + 60_000));
        Result r = h.scan();
        // then
        assertThat(r.exit()).isZero();
        assertThat(r.stat("files_modified")).isEqualTo(1);
        assertThat(h.queryString("SELECT lower(hex(sha256)) FROM files")).isEqualTo(sha256Hex("alpha, edited"));
        String detail = h.queryString("SELECT detail FROM events WHERE type = 'modified'");
        assertThat(detail).contains(sha256Hex("alpha")).contains(sha256Hex("alpha, edited"));
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE pending_sha256 IS NOT NULL"))
                .isZero();
    }

    @Test
    void renameWithinARootIsRecognisedByInodeWithoutReading() throws Exception {
        write(data.resolve("dir/a.bin"), randomBytes(100_000, 1));
        write(data.resolve("dir/b.bin"), randomBytes(100_000, 2));
        h.scan();
        long id = h.queryLong("SELECT id FROM files WHERE path = CAST('dir/a.bin' AS BLOB)");
        // when
        Files.move(data.resolve("dir"), data.resolve("renamed"));
        Result r = h.scan();
        // then
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_moved")).isEqualTo(2);
        assertThat(r.stat("bytes_hashed")).isZero();
        assertThat(r.stat("files_deleted")).isZero();
        assertThat(r.stat("files_new")).isZero();
        assertThat(h.queryLong("SELECT id FROM files WHERE path = CAST('renamed/a.bin' AS BLOB)"))
                .isEqualTo(id);
        assertThat(h.queryLong("SELECT count(*) FROM files")).isEqualTo(2);
    }

    @Test
    void renameAcrossRootsIsRecognisedByInode() throws Exception {
        Path other = h.root("other");
        write(data.resolve("photo.jpg"), randomBytes(50_000, 3));
        write(data.resolve("stays.txt"), "keeps the root from looking unmounted");
        h.scan();
        long id = h.queryLong("SELECT id FROM files WHERE path = CAST('photo.jpg' AS BLOB)");
        // when
        Files.move(data.resolve("photo.jpg"), other.resolve("photo.jpg"));
        Result r = h.scan();
        // then
        assertThat(r.stat("files_moved")).isEqualTo(1);
        assertThat(r.stat("bytes_hashed")).isZero();
        assertThat(h.queryLong("SELECT count(*) FROM files")).isEqualTo(2);
        assertThat(h.queryLong(
                        "SELECT r.name = 'other' FROM files f JOIN roots r ON r.id = f.root_id WHERE f.id = " + id))
                .isEqualTo(1);
        assertThat(h.queryString("SELECT detail FROM events WHERE type = 'moved'"))
                .contains("\"from_root\":\"data\"");
    }

    @Test
    void copiedThenDeletedFileIsAMoveByHashWhenTheInodeDiffers() throws Exception {
        byte[] content = randomBytes(70_000, 4);
        write(data.resolve("old/name.bin"), content);
        h.scan();
        long id = h.queryLong("SELECT id FROM files");
        // when: a copy (new inode) replaces the original
        Files.copy(data.resolve("old/name.bin"), data.resolve("new-name.bin"));
        Files.delete(data.resolve("old/name.bin"));
        Result r = h.scan();
        // then
        assertThat(r.stat("files_moved")).isEqualTo(1);
        assertThat(r.stat("files_deleted")).isZero();
        assertThat(r.stat("bytes_hashed")).isEqualTo(content.length);
        assertThat(h.queryLong("SELECT id FROM files WHERE path = CAST('new-name.bin' AS BLOB)"))
                .isEqualTo(id);
    }

    @Test
    void moveByHashPrefersAVanishedRowOfTheSameRoot() throws Exception {
        Path other = h.root("other");
        byte[] content = randomBytes(10_000, 5);
        write(data.resolve("a.bin"), content);
        write(other.resolve("a.bin"), content);
        write(data.resolve("stays.txt"), "data stays mounted");
        write(other.resolve("stays.txt"), "other stays mounted");
        h.scan();
        long dataId = h.queryLong("SELECT f.id FROM files f JOIN roots r ON r.id = f.root_id WHERE r.name = 'data'"
                + " AND f.path = CAST('a.bin' AS BLOB)");
        // when: both vanish, a copy appears in data
        Files.copy(data.resolve("a.bin"), data.resolve("b.bin"));
        Files.delete(data.resolve("a.bin"));
        Files.delete(other.resolve("a.bin"));
        Result r = h.scan();
        // then: data's own row moved; other's row deleted
        assertThat(r.stat("files_moved")).isEqualTo(1);
        assertThat(r.stat("files_deleted")).isEqualTo(1);
        assertThat(h.queryLong("SELECT id FROM files WHERE path = CAST('b.bin' AS BLOB)"))
                .isEqualTo(dataId);
    }

    @Test
    void duplicateContentInTwoPlacesGivesTwoRowsWithOneHash() {
        write(data.resolve("a/copy1.txt"), "same content");
        write(data.resolve("b/copy2.txt"), "same content");
        Result r = h.scan();
        assertThat(r.stat("files_new")).isEqualTo(2);
        assertThat(h.queryLong("SELECT count(DISTINCT sha256) FROM files")).isEqualTo(1);
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE status = 'ok'"))
                .isEqualTo(2);
    }

    @Test
    void hardlinkedPathsAreHashedOnce() throws Exception {
        byte[] content = randomBytes(200_000, 6);
        Path a = write(data.resolve("a.bin"), content);
        Files.createDirectories(data.resolve("sub"));
        Files.createLink(data.resolve("sub/link.bin"), a);
        Result r = h.scan();
        assertThat(r.stat("files_new")).isEqualTo(2);
        assertThat(r.stat("bytes_hashed")).isEqualTo(content.length);
        // when a third link appears later, it is not read either: the inode is known
        Files.createLink(data.resolve("third.bin"), a);
        Result again = h.scan();
        assertThat(again.stat("files_new")).isEqualTo(1);
        assertThat(again.stat("bytes_hashed")).isZero();
        assertThat(h.queryLong("SELECT count(DISTINCT inode) FROM files")).isEqualTo(1);
    }

    @Test
    void deletionIsSoftAndHistoryStillShowsTheFile() throws Exception {
        write(data.resolve("gone.txt"), "bye");
        for (int i = 0; i < 5; i++) {
            write(data.resolve("keep" + i + ".txt"), "keep " + i);
        }
        h.scan();
        // when
        Files.delete(data.resolve("gone.txt"));
        Result r = h.scan();
        // then
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_deleted")).isEqualTo(1);
        assertThat(h.queryString("SELECT status FROM files WHERE path = CAST('gone.txt' AS BLOB)"))
                .isEqualTo("deleted");
        Result hist = h.run("--json", "history", data.resolve("gone.txt").toString());
        assertThat(hist.exit()).as(hist.toString()).isZero();
        List<String> types = new ArrayList<>();
        hist.json().get("events").forEach(e -> types.add(e.get("type").asText()));
        assertThat(types).containsExactly("added", "deleted");
        assertThat(hist.json().get("files").get(0).get("status").asText()).isEqualTo("deleted");
    }

    @Test
    void aFileRecreatedAtADeletedPathIsNewAndHistoryShowsBothLives() throws Exception {
        write(data.resolve("f.txt"), "first life");
        write(data.resolve("stays.txt"), "the root is not empty");
        h.scan();
        Files.delete(data.resolve("f.txt"));
        h.scan();
        write(data.resolve("f.txt"), "second life");
        Result r = h.scan();
        assertThat(r.stat("files_new")).isEqualTo(1);
        JsonNode hist =
                h.run("--json", "history", data.resolve("f.txt").toString()).json();
        assertThat(hist.get("files")).hasSize(2);
        assertThat(hist.get("events")).hasSize(3);
    }

    @Test
    void historyOfAMovedFileFollowsItFromTheOldPath() throws Exception {
        write(data.resolve("before.txt"), "content");
        h.scan();
        Files.move(data.resolve("before.txt"), data.resolve("after.txt"));
        h.scan();
        JsonNode byOld = h.run("--json", "history", data.resolve("before.txt").toString())
                .json();
        JsonNode byNew =
                h.run("--json", "history", data.resolve("after.txt").toString()).json();
        assertThat(byOld.get("events")).hasSize(2);
        assertThat(byNew.get("events")).hasSize(2);
        assertThat(byNew.get("events").get(1).get("type").asText()).isEqualTo("moved");
        assertThat(byNew.get("events").get(1).get("detail").get("from_path").asText())
                .isEqualTo("before.txt");
    }

    @Test
    void fileShrunkWithUnchangedMtimeIsReportedTruncatedAndKeepsItsHash() throws Exception {
        Path f = write(data.resolve("photo.jpg"), randomBytes(10_000, 7));
        h.scan();
        String hash = h.queryString("SELECT hex(sha256) FROM files");
        FileTime t = mtime(f);
        // when: truncated in place, mtime put back (as a failing disk or a bad copy would leave it)
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(4_000);
        }
        mtime(f, t);
        Result r = h.scan();
        // then
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stat("files_truncated")).isEqualTo(1);
        assertThat(r.stat("bytes_hashed")).isZero();
        assertThat(h.queryString("SELECT status FROM files")).isEqualTo("truncated");
        assertThat(h.queryString("SELECT hex(sha256) FROM files")).isEqualTo(hash);
        assertThat(h.queryLong("SELECT size FROM files")).isEqualTo(10_000);
        assertThat(r.json().get("problems").get(0).get("kind").asText()).isEqualTo("truncated");
        // and a second scan reports it again without a second event
        Result again = h.scan();
        assertThat(again.exit()).isEqualTo(1);
        assertThat(h.queryLong("SELECT count(*) FROM events WHERE type = 'truncated'"))
                .isEqualTo(1);
    }

    @Test
    void fileEmptiedIsTruncatedEvenWithANewMtime() {
        Path f = write(data.resolve("doc.txt"), "important words");
        h.scan();
        write(f, "");
        mtime(f, FileTime.fromMillis(mtime(f).toMillis() + 60_000));
        Result r = h.scan();
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stat("files_truncated")).isEqualTo(1);
        assertThat(h.queryString("SELECT status FROM files")).isEqualTo("truncated");
        assertThat(h.queryString("SELECT lower(hex(sha256)) FROM files")).isEqualTo(sha256Hex("important words"));
    }

    @Test
    void truncatedFileRestoredToItsRecordedContentIsOkAgain() throws Exception {
        byte[] content = randomBytes(8_000, 8);
        Path f = write(data.resolve("a.bin"), content);
        FileTime t = mtime(f);
        h.scan();
        write(f, java.util.Arrays.copyOf(content, 100));
        mtime(f, t);
        assertThat(h.scan().exit()).isEqualTo(1);
        // when: the original comes back with its mtime
        write(f, content);
        mtime(f, t);
        Result r = h.scan();
        // then
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(h.queryString("SELECT status FROM files")).isEqualTo("ok");
        assertThat(r.stat("files_verified")).isEqualTo(1);
    }

    @Test
    void fileChangingWhileHashedIsBusyAndRetriedOnTheNextScan() throws Exception {
        // given: a large file a writer keeps appending to while the scan reads it
        Path f = write(data.resolve("growing.log"), randomBytes(64 << 20, 9));
        write(data.resolve("calm.txt"), "calm");
        Thread writer = new Thread(() -> {
            try (var out = Files.newOutputStream(f, java.nio.file.StandardOpenOption.APPEND)) {
                while (!Thread.currentThread().isInterrupted()) {
                    out.write('x');
                    out.flush();
                    Thread.sleep(1);
                }
            } catch (Exception e) {
                // stopped
            }
        });
        writer.start();
        Result r;
        try {
            Thread.sleep(20);
            r = h.scan();
        } finally {
            writer.interrupt();
            writer.join();
        }
        // then: busy, not cataloged, no error
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_busy")).isEqualTo(1);
        assertThat(r.stat("files_new")).isEqualTo(1);
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE path = CAST('growing.log' AS BLOB)"))
                .isZero();
        assertThat(h.queryLong("SELECT count(*) FROM events WHERE type = 'busy'"))
                .isEqualTo(1);
        // when it is calm again, the next scan catalogs it
        Result next = h.scan();
        assertThat(next.stat("files_new")).isEqualTo(1);
        assertThat(next.stat("files_busy")).isZero();
    }

    @Test
    void symlinksFifosAndExcludedNamesAreSkipped() throws Exception {
        write(data.resolve("real.txt"), "real");
        Files.createSymbolicLink(data.resolve("link.txt"), data.resolve("real.txt"));
        Files.createSymbolicLink(data.resolve("linkdir"), tmp);
        Harness.sh("mkfifo", data.resolve("pipe").toString());
        write(data.resolve("Thumbs.db"), "thumbs");
        write(data.resolve("work.tmp"), "temp");
        write(data.resolve("@eaDir/thumb.jpg"), "synology");
        write(data.resolve("keep/.DS_Store"), "mac");
        Result r = h.scan();
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_scanned")).isEqualTo(1);
        assertThat(h.queryString("SELECT CAST(path AS TEXT) FROM files")).isEqualTo("real.txt");
    }

    @Test
    void customExcludeReplacesTheDefaults() {
        h.config().putArray("exclude").add("*.raw").add("cache");
        write(data.resolve("a.raw"), "raw");
        write(data.resolve("cache/x.txt"), "cached");
        write(data.resolve("Thumbs.db"), "thumbs");
        Result r = h.scan();
        assertThat(r.stat("files_scanned")).isEqualTo(1);
        assertThat(h.queryString("SELECT CAST(path AS TEXT) FROM files")).isEqualTo("Thumbs.db");
    }

    @Test
    void namesThatAreNotUtf8OrHoldNewlinesRoundTrip() throws Exception {
        byte[] latin1 = "caf\u00e9.jpg".getBytes(StandardCharsets.ISO_8859_1); // 0xE9 alone: not UTF-8
        byte[] newline = "two\nlines.txt".getBytes(StandardCharsets.UTF_8);
        byte[] utf8 = "\u00fcber \u65e5\u672c.txt".getBytes(StandardCharsets.UTF_8);
        for (byte[] name : List.of(latin1, newline, utf8)) {
            Files.write(RawPaths.resolve(data, name), name);
        }
        Result r = h.scan();
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_new")).isEqualTo(3);
        // the catalog holds the exact bytes
        List<byte[]> stored = new ArrayList<>();
        try (var c = h.db();
                var rs = c.createStatement().executeQuery("SELECT path FROM files ORDER BY path")) {
            while (rs.next()) {
                stored.add(rs.getBytes(1));
            }
        }
        assertThat(stored)
                .usingElementComparator(java.util.Arrays::compare)
                .containsExactlyInAnyOrder(latin1, newline, utf8);
        // a rescan finds them unchanged (the bytes open the same files)
        Result again = h.scan();
        assertThat(again.stat("files_unchanged")).isEqualTo(3);
        // and history accepts the \xNN form it prints
        Result hist = h.run("--json", "history", data + "/caf\\xe9.jpg");
        assertThat(hist.exit()).as(hist.toString()).isZero();
        assertThat(hist.json().get("path").asText()).isEqualTo("caf\\xe9.jpg");
        Result hist2 = h.run("--json", "history", data + "/\u00fcber \u65e5\u672c.txt");
        assertThat(hist2.exit()).as(hist2.toString()).isZero();
    }

    @Test
    void filesOfARemovedDirectoryAreMarkedDeleted() throws Exception {
        write(data.resolve("sub/a.txt"), "a");
        write(data.resolve("b.txt"), "b");
        h.scan();
        Path sub = data.resolve("sub");
        Files.delete(sub.resolve("a.txt"));
        Files.delete(sub);
        Result r = h.scan();
        assertThat(r.stat("files_deleted")).isEqualTo(1); // truly gone: deleted
        assertThat(h.queryString("SELECT status FROM files WHERE path = CAST('sub/a.txt' AS BLOB)"))
                .isEqualTo("deleted");
    }

    @Test
    void fileGrownWithUnchangedMtimeIsDamagedAndOkAgainOnceRestored() throws Exception {
        byte[] content = randomBytes(5_000, 10);
        Path f = write(data.resolve("a.bin"), content);
        FileTime t = mtime(f);
        h.scan();
        // when: more bytes, same mtime
        byte[] longer = java.util.Arrays.copyOf(content, 6_000);
        write(f, longer);
        mtime(f, t);
        Result r = h.scan();
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stat("files_damaged")).isEqualTo(1);
        assertThat(h.queryString("SELECT status FROM files")).isEqualTo("damaged");
        // when the recorded content comes back
        write(f, content);
        mtime(f, t);
        Result ok = h.scan();
        // then: read once, found good, status ok and verification stamped
        assertThat(ok.exit()).as(ok.toString()).isZero();
        assertThat(ok.stat("files_verified")).isEqualTo(1);
        assertThat(ok.stat("bytes_hashed")).isEqualTo(content.length);
        assertThat(h.queryString("SELECT status FROM files")).isEqualTo("ok");
        assertThat(h.queryLong("SELECT last_verified IS NOT NULL FROM files")).isEqualTo(1);
    }

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha256Hex(String s) {
        return java.util.HexFormat.of().formatHex(Hasher.sha256().digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
