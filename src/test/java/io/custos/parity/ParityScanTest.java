package io.custos.parity;

import static io.custos.testing.Harness.bytes;
import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;

import io.custos.testing.Harness;
import io.custos.testing.Harness.Result;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a scan does with parity (SPEC §5.2), with the real par2. */
class ParityScanTest {
    @TempDir
    Path tmp;

    Harness h;
    Path data;
    Path par2;

    @BeforeEach
    void setUp() {
        par2 = Requirements.par2();
        h = new Harness(tmp);
        data = h.root("photos");
    }

    @Test
    void newFilesGetOneSetPerContentSharedByDuplicatesAndHardlinks() throws IOException {
        // given: two different photos, a duplicate of the first, a hardlink of the second
        byte[] a = bytes(200_000, 1);
        byte[] b = bytes(90_000, 2);
        write(data.resolve("a.jpg"), a);
        write(data.resolve("copy/a (1).jpg"), a);
        write(data.resolve("b.jpg"), b);
        Files.createLink(data.resolve("b-link.jpg"), data.resolve("b.jpg"));
        write(data.resolve("small.txt"), "below min_file_size");
        // when
        Result r = h.scan();
        // then
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("parity_created")).isEqualTo(2);
        assertThat(sets()).containsExactlyInAnyOrder(h.setOf(a), h.setOf(b));
        assertThat(Files.list(h.parity().resolve("_tmp")).count()).isZero();
        assertThat(h.queryLong("SELECT count(*) FROM parity WHERE trashed_at IS NULL"))
                .isEqualTo(2);
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE parity_due = 1"))
                .isZero();
        assertThat(h.queryLong("SELECT count(*) FROM events WHERE type = 'parity_created'"))
                .isEqualTo(2);
        // and the sets are ordinary PAR2 that par2 itself accepts
        assertThat(Par2Set.read(h.setOf(a)).healthy()).isTrue();
        // and status reports them
        com.fasterxml.jackson.databind.JsonNode status =
                h.run("--json", "status").json().get("parity");
        assertThat(status.get("sets").asLong()).isEqualTo(2);
        assertThat(status.get("bytes").asLong()).isEqualTo(Files.size(h.setOf(a)) + Files.size(h.setOf(b)));
        assertThat(status.get("owed").asLong()).isZero();
        // when: nothing changed
        Result again = h.scan();
        // then: nothing made again
        assertThat(again.stat("parity_created")).isZero();
    }

    @Test
    void parityStaysWithinRedundancyPlusThreePercent() throws IOException {
        int[] sizes = {65_536, 100_000, 300_000, 1_048_576, 3_000_000};
        for (int i = 0; i < sizes.length; i++) {
            write(data.resolve("f" + i), bytes(sizes[i], 10 + i));
        }
        Result r = h.scan();
        assertThat(r.exit()).as(r.toString()).isZero();
        for (int i = 0; i < sizes.length; i++) {
            long parity = Files.size(h.setOf(bytes(sizes[i], 10 + i)));
            assertThat(parity)
                    .as("parity of a %d-byte file", sizes[i])
                    .isLessThanOrEqualTo(sizes[i] * 13L / 100)
                    .isGreaterThan(sizes[i] * 5L / 100);
        }
    }

    @Test
    void renamedFileKeepsItsSet() throws IOException {
        byte[] a = bytes(100_000, 3);
        write(data.resolve("a.jpg"), a);
        h.scan();
        Files.move(data.resolve("a.jpg"), data.resolve("renamed.jpg"));
        Result r = h.scan();
        assertThat(r.stat("files_moved")).isEqualTo(1);
        assertThat(r.stat("parity_created") + r.stat("parity_trashed")).isZero();
        assertThat(sets()).containsExactly(h.setOf(a));
    }

    @Test
    void modifiedFileGetsItsNewSetBeforeTheOldGoesToTrash() throws IOException {
        byte[] old = bytes(120_000, 4);
        byte[] now = bytes(130_000, 5);
        Path f = write(data.resolve("doc.bin"), old);
        h.scan();
        write(f, now);
        Harness.mtime(f, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        Result r = h.scan();
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_modified")).isEqualTo(1);
        assertThat(r.stat("parity_created")).isEqualTo(1);
        assertThat(r.stat("parity_trashed")).isEqualTo(1);
        assertThat(sets()).containsExactly(h.setOf(now));
        assertThat(trashed()).extracting(p -> p.getFileName().toString()).containsExactly(hex(old) + ".par2");
        long created =
                h.queryLong("SELECT id FROM events WHERE type = 'parity_created' AND detail LIKE '%" + hex(now) + "%'");
        long trashed = h.queryLong("SELECT id FROM events WHERE type = 'parity_trashed'");
        assertThat(created).isLessThan(trashed);
    }

    @Test
    void modifiedFileKeepsItsOldSetWhileTheNewOneCannotBeMade() throws IOException {
        byte[] old = bytes(120_000, 6);
        Path f = write(data.resolve("doc.bin"), old);
        h.scan();
        write(f, bytes(120_000, 7));
        Harness.mtime(f, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        h.section("parity")
                .put(
                        "par2_binary",
                        script("fail.sh", "#!/bin/sh\necho 'simulated failure' >&2\nexit 1\n")
                                .toString());
        Result r = h.scan();
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.json().get("problems").toString()).contains("parity_failed");
        assertThat(sets()).containsExactly(h.setOf(old));
        assertThat(trashed()).isEmpty();
    }

    @Test
    void sharedContentKeepsItsSetUntilTheLastCopyGoesThenComesBackFromTrash() throws IOException {
        byte[] a = bytes(150_000, 8);
        write(data.resolve("keep.txt"), "keeps the root from looking empty (a guard)");
        write(data.resolve("one.jpg"), a);
        write(data.resolve("two.jpg"), a);
        h.scan();
        // one copy deleted: the other still needs the set
        Files.delete(data.resolve("one.jpg"));
        Result r1 = h.scan();
        assertThat(r1.stat("files_deleted")).isEqualTo(1);
        assertThat(r1.stat("parity_trashed")).isZero();
        assertThat(sets()).containsExactly(h.setOf(a));
        // the last copy deleted: to trash
        Files.delete(data.resolve("two.jpg"));
        Result r2 = h.scan();
        assertThat(r2.stat("parity_trashed")).isEqualTo(1);
        assertThat(sets()).isEmpty();
        assertThat(trashed()).hasSize(1);
        // the content comes back under a new name: restored, par2 create not run
        Path log = tmp.resolve("par2-calls.log");
        h.section("parity")
                .put(
                        "par2_binary",
                        script("logging.sh", "#!/bin/sh\necho \"$1\" >> " + log + "\nexec " + par2 + " \"$@\"\n")
                                .toString());
        write(data.resolve("back.jpg"), a);
        Result r3 = h.scan();
        assertThat(r3.exit()).as(r3.toString()).isZero();
        assertThat(r3.stat("parity_restored")).isEqualTo(1);
        assertThat(r3.stat("parity_created")).isZero();
        assertThat(Files.exists(log)).isFalse();
        assertThat(sets()).containsExactly(h.setOf(a));
        assertThat(trashed()).isEmpty();
    }

    @Test
    void failedOrKilledPar2LeavesNoPartialSetAndIsRetried() throws IOException {
        byte[] a = bytes(200_000, 9);
        write(data.resolve("a.jpg"), a);
        // par2 writes its files, then dies by SIGKILL before it can finish
        Path killed = script("killed.sh", "#!/bin/sh\n" + par2 + " \"$@\" >/dev/null 2>&1\nkill -9 $$\n");
        h.section("parity").put("par2_binary", killed.toString());
        Result r1 = h.scan();
        assertThat(r1.exit()).as(r1.toString()).isEqualTo(1);
        assertThat(r1.stat("parity_created")).isZero();
        assertThat(r1.json().get("problems").toString()).contains("parity_failed");
        assertThat(sets()).isEmpty();
        assertThat(Files.list(h.parity().resolve("_tmp")).count()).isZero();
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE parity_due = 1"))
                .isEqualTo(1);
        // when: par2 works again
        h.section("parity").put("par2_binary", par2.toString());
        Result r2 = h.scan();
        // then: made on the next run, though the file did not change
        assertThat(r2.exit()).as(r2.toString()).isZero();
        assertThat(r2.stat("files_unchanged")).isEqualTo(1);
        assertThat(r2.stat("parity_created")).isEqualTo(1);
        assertThat(sets()).containsExactly(h.setOf(a));
    }

    @Test
    void timedOutPar2LeavesNothingBehind() throws IOException {
        write(data.resolve("a.jpg"), bytes(100_000, 11));
        h.section("parity")
                .put("par2_binary", script("slow.sh", "#!/bin/sh\nsleep 30\n").toString())
                .put("timeout_seconds", 1);
        long t0 = System.nanoTime();
        Result r = h.scan();
        assertThat((System.nanoTime() - t0) / 1_000_000_000).isLessThan(15);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.json().get("problems").toString())
                .contains("parity_failed")
                .contains("timed out");
        assertThat(sets()).isEmpty();
    }

    @Test
    void missingPar2IsAnEnvironmentErrorThatSaysWhatToDo() {
        write(data.resolve("a.jpg"), bytes(10_000, 12));
        h.section("parity").put("par2_binary", "no-such-par2-anywhere");
        Result r = h.scan();
        assertThat(r.exit()).isEqualTo(5);
        assertThat(r.json().get("error").asText())
                .contains("apt-get install par2")
                .contains("\"parity\": false");
        assertThat(Files.exists(h.parity().resolve("_db/catalog.db"))).isFalse();
    }

    @Test
    void rootWithoutParityNeedsNoPar2AndGetsNoSets() throws IOException {
        ((com.fasterxml.jackson.databind.node.ObjectNode)
                        h.config().get("roots").get(0))
                .put("parity", false);
        h.section("parity").put("par2_binary", "no-such-par2-anywhere");
        write(data.resolve("a.jpg"), bytes(100_000, 13));
        Result r = h.scan();
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(sets()).isEmpty();
    }

    @Test
    void turningParityOnMakesSetsForFilesAlreadyCatalogedWithoutReadingThemAgainForTheCatalog() throws IOException {
        com.fasterxml.jackson.databind.node.ObjectNode root = (com.fasterxml.jackson.databind.node.ObjectNode)
                h.config().get("roots").get(0);
        root.put("parity", false);
        byte[] a = bytes(100_000, 16);
        write(data.resolve("a.jpg"), a);
        write(data.resolve("tiny.txt"), "too small for parity");
        assertThat(h.scan().stat("parity_created")).isZero();
        // when
        root.put("parity", true);
        Result r = h.scan();
        // then
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_unchanged")).isEqualTo(2);
        assertThat(r.stat("bytes_hashed")).isZero();
        assertThat(r.stat("parity_created")).isEqualTo(1);
        assertThat(sets()).containsExactly(h.setOf(a));
        // and raising min_file_size above the file leaves its set alone but owes nothing
        h.section("parity").put("min_file_size", 1_000_000);
        Result r2 = h.scan();
        assertThat(r2.stat("parity_created") + r2.stat("parity_trashed")).isZero();
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE parity_due = 1"))
                .isZero();
    }

    @Test
    void filesNotVerifiedForMaxAgeDaysAreVerifiedWhateverThePercentage() throws IOException {
        for (int i = 0; i < 5; i++) {
            write(data.resolve("f" + i), "file " + i);
        }
        h.scan();
        h.section("verify").put("percent", 0).put("max_age_days", 10);
        assertThat(h.scan().stat("files_verified")).isZero();
        h.clock(java.time.Clock.offset(java.time.Clock.systemUTC(), java.time.Duration.ofDays(11)));
        Result r = h.scan();
        assertThat(r.stat("files_verified")).isEqualTo(5);
        assertThat(h.scan().stat("files_verified")).isZero();
    }

    @Test
    void orphanSetsGoToTrashAndLeftoverTempIsCleaned() throws IOException {
        byte[] a = bytes(100_000, 14);
        write(data.resolve("a.jpg"), a);
        h.scan();
        // a set no cataloged file has, and a temp directory of a killed run
        Path orphan = h.parity().resolve("by_hash/ab/" + "ab".repeat(32) + ".par2");
        Files.createDirectories(orphan.getParent());
        Files.copy(h.setOf(a), orphan);
        Files.createDirectories(h.parity().resolve("_tmp/99-1"));
        // the weekly comparison with the disk is due
        try (var c = h.db();
                var st = c.createStatement()) {
            st.execute("DELETE FROM meta");
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
        Result r = h.scan();
        assertThat(r.stat("orphan_parity_cleaned")).isEqualTo(1);
        assertThat(sets()).containsExactly(h.setOf(a));
        assertThat(trashed()).extracting(p -> p.getFileName().toString()).containsExactly("ab".repeat(32) + ".par2");
        assertThat(Files.list(h.parity().resolve("_tmp")).count()).isZero();
    }

    @Test
    void setsLostFromDiskAreMadeAgainByTheWeeklyCheck() throws IOException {
        byte[] a = bytes(100_000, 17);
        write(data.resolve("a.jpg"), a);
        h.scan();
        // someone deletes by_hash/
        for (Path p : sets()) {
            Files.delete(p);
        }
        h.clock(java.time.Clock.offset(java.time.Clock.systemUTC(), java.time.Duration.ofDays(8)));
        Result r = h.scan();
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("parity_created")).isEqualTo(1);
        assertThat(sets()).containsExactly(h.setOf(a));
    }

    @Test
    void trashOlderThanTrashDaysIsPurged() throws IOException {
        byte[] a = bytes(100_000, 15);
        write(data.resolve("keep.txt"), "keeps the root from looking empty (a guard)");
        write(data.resolve("a.jpg"), a);
        h.scan();
        Files.delete(data.resolve("a.jpg"));
        h.scan();
        assertThat(trashed()).hasSize(1);
        h.clock(java.time.Clock.offset(java.time.Clock.systemUTC(), java.time.Duration.ofDays(31)));
        h.scan();
        assertThat(trashed()).isEmpty();
        assertThat(h.queryLong("SELECT count(*) FROM parity")).isZero();
    }

    // ---- helpers ------------------------------------------------------------------------------

    private Path script(String name, String body) {
        try {
            Path p = tmp.resolve(name);
            Files.writeString(p, body);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private List<Path> sets() throws IOException {
        return Harness.files(h.parity().resolve("by_hash"));
    }

    private List<Path> trashed() throws IOException {
        return Harness.files(h.parity().resolve("_trash"));
    }

    static String hex(byte[] content) {
        return Harness.sha256Hex(content);
    }
}
