package io.custos.repair;

import static io.custos.testing.Harness.bytes;
import static io.custos.testing.Harness.mtime;
import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.custos.testing.Harness;
import io.custos.testing.Harness.Result;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** verify finds bitrot, repair puts the content back (SPEC §5.3, §6), with the real par2. */
class VerifyRepairTest {
    @TempDir
    Path tmp;

    Harness h;
    Path data;

    @BeforeEach
    void setUp() {
        Requirements.par2();
        h = new Harness(tmp);
        data = h.root("photos");
    }

    @Test
    void bitrotIsFoundByVerifyAndRepairedFromParity() throws IOException {
        // given: a cataloged tree with parity
        byte[] photo = bytes(300_000, 1);
        Path victim = write(data.resolve("2019/img 0001.jpg"), photo);
        for (int i = 0; i < 5; i++) {
            write(data.resolve("2019/other" + i + ".jpg"), bytes(70_000, 100 + i));
        }
        assertThat(h.scan().exit()).isZero();
        // when: a disk flips bytes in the middle of one photo; its mtime is as before
        FileTime before = mtime(victim);
        flip(victim, 150_000, 100);
        mtime(victim, before);
        Result v = h.run("--json", "verify", "--all");
        // then: exactly that file is reported damaged
        assertThat(v.exit()).as(v.toString()).isEqualTo(1);
        assertThat(v.stat("files_verified")).isEqualTo(5);
        assertThat(v.stat("files_damaged")).isEqualTo(1);
        assertThat(paths(v.json().get("problems"), "damaged")).containsExactly("2019/img 0001.jpg");
        assertThat(h.queryString("SELECT status FROM files WHERE path = CAST('2019/img 0001.jpg' AS BLOB)"))
                .isEqualTo("damaged");
        assertThat(h.run("--json", "status").exit()).isEqualTo(1);
        // when
        Result dry = h.run("--json", "repair", "--dry-run");
        assertThat(dry.json().get("files").get(0).get("source").asText()).isEqualTo("par2");
        assertThat(Files.readAllBytes(victim)).isNotEqualTo(photo);
        Result r = h.run("--json", "repair");
        // then: the original content, the original mtime, the damaged copy in quarantine
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_repaired")).isEqualTo(1);
        assertThat(Harness.sha256Hex(Files.readAllBytes(victim))).isEqualTo(Harness.sha256Hex(photo));
        assertThat(mtime(victim)).isEqualTo(before);
        List<Path> quarantined = Harness.files(h.parity().resolve("_quarantine"));
        assertThat(quarantined).hasSize(1);
        assertThat(quarantined.get(0).toString()).endsWith("photos/2019/img 0001.jpg");
        assertThat(Files.readAllBytes(quarantined.get(0))).isNotEqualTo(photo).hasSize(photo.length);
        assertThat(h.queryString("SELECT status FROM files WHERE path = CAST('2019/img 0001.jpg' AS BLOB)"))
                .isEqualTo("ok");
        assertThat(h.queryLong("SELECT count(*) FROM events WHERE type = 'repaired'"))
                .isEqualTo(1);
        // and a scan and a verify afterwards find nothing wrong
        assertThat(h.scan().stat("files_modified")).isZero();
        Result again = h.run("--json", "verify", "--all");
        assertThat(again.exit()).as(again.toString()).isZero();
        assertThat(again.stat("files_verified")).isEqualTo(6);
    }

    @Test
    void quarantineIsPurgedAfterQuarantineDays() throws IOException {
        write(data.resolve("keep.txt"), "something else");
        Path victim = write(data.resolve("a.jpg"), bytes(100_000, 12));
        h.scan();
        FileTime t = mtime(victim);
        flip(victim, 5000, 100);
        mtime(victim, t);
        h.run("--json", "verify", "--all", "--repair");
        assertThat(Harness.files(h.parity().resolve("_quarantine"))).hasSize(1);
        h.scan();
        assertThat(Harness.files(h.parity().resolve("_quarantine")))
                .as("kept within quarantine_days")
                .hasSize(1);
        h.clock(java.time.Clock.offset(java.time.Clock.systemUTC(), java.time.Duration.ofDays(31)));
        h.scan();
        assertThat(Harness.files(h.parity().resolve("_quarantine"))).isEmpty();
    }

    @Test
    void damagedFileIsRepairedFromADuplicateWhenItsParityIsGone() throws IOException {
        byte[] photo = bytes(200_000, 2);
        Path victim = write(data.resolve("a.jpg"), photo);
        write(data.resolve("backup/a copy.jpg"), photo);
        h.scan();
        // only the duplicate can help
        try (Stream<Path> s = Files.walk(h.parity().resolve("by_hash"))) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                Files.delete(p);
            }
        }
        FileTime t = mtime(victim);
        flip(victim, 1000, 5000);
        mtime(victim, t);
        Result v = h.run("--json", "verify", "--all", "--repair");
        assertThat(v.exit()).as(v.toString()).isZero();
        assertThat(v.stat("files_damaged")).isEqualTo(1);
        assertThat(v.stat("files_repaired")).isEqualTo(1);
        assertThat(Harness.sha256Hex(Files.readAllBytes(victim))).isEqualTo(Harness.sha256Hex(photo));
        assertThat(h.queryString("SELECT detail FROM events WHERE type = 'repaired'"))
                .contains("duplicate");
    }

    @Test
    void truncatedFileIsRepairedToItsRecordedContent() throws IOException {
        byte[] photo = bytes(400_000, 3);
        Path victim = write(data.resolve("t.jpg"), photo);
        h.scan();
        FileTime t = mtime(victim);
        try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
            f.setLength(380_000);
        }
        mtime(victim, t);
        Result s = h.scan();
        assertThat(s.stat("files_truncated")).isEqualTo(1);
        Result r = h.run("--json", "repair");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(Files.readAllBytes(victim)).isEqualTo(photo);
        assertThat(h.scan().exit()).isZero();
    }

    @Test
    void damageBeyondTheRedundancyStaysDamagedWithExitOne() throws IOException {
        byte[] photo = bytes(200_000, 4);
        Path victim = write(data.resolve("lost.jpg"), photo);
        h.scan();
        FileTime t = mtime(victim);
        flip(victim, 0, 100_000);
        mtime(victim, t);
        h.run("--json", "verify", "--all");
        Result r = h.run("--json", "repair");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stat("files_repaired")).isZero();
        assertThat(h.queryString("SELECT status FROM files")).isEqualTo("damaged");
        assertThat(h.queryLong("SELECT count(*) FROM events WHERE type = 'repair_failed'"))
                .isEqualTo(1);
        assertThat(Harness.files(h.parity().resolve("_quarantine"))).isEmpty();
        assertThat(Files.list(data).filter(p -> p.getFileName().toString().startsWith(".custos")))
                .isEmpty();
    }

    @Test
    void damagedParityOfGoodDataIsMadeAgainAndTheFileIsNotReported() throws IOException {
        byte[] photo = bytes(250_000, 5);
        write(data.resolve("good.jpg"), photo);
        h.scan();
        Path set = h.setOf(photo);
        flip(set, (int) (Files.size(set) / 2), 10);
        Result v = h.run("--json", "verify", "--all");
        assertThat(v.exit()).as(v.toString()).isZero();
        assertThat(v.stat("files_damaged")).isZero();
        assertThat(v.stat("parity_recreated")).isEqualTo(1);
        assertThat(v.stat("files_verified")).isEqualTo(1);
        assertThat(io.custos.parity.Par2Set.read(set).healthy()).isTrue();
        // a missing set is made again too
        Files.delete(set);
        Result v2 = h.run("--json", "verify", "--all");
        assertThat(v2.exit()).isZero();
        assertThat(v2.stat("parity_recreated")).isEqualTo(1);
        assertThat(Files.exists(set)).isTrue();
    }

    @Test
    void renamedFilesAndDuplicatesUnderOtherNamesVerifyClean() throws IOException {
        byte[] photo = bytes(180_000, 6);
        write(data.resolve("original.jpg"), photo);
        h.scan();
        Files.move(data.resolve("original.jpg"), data.resolve("renamed.jpg"));
        write(data.resolve("elsewhere/duplicate with another name.jpg"), photo);
        h.scan();
        Result v = h.run("--json", "verify", "--all");
        assertThat(v.exit()).as(v.toString()).isZero();
        assertThat(v.stat("files_verified")).isEqualTo(2);
        assertThat(v.stat("files_damaged") + v.stat("parity_recreated")).isZero();
        // and par2 repair works for the renamed one though the set names the original
        Path victim = data.resolve("renamed.jpg");
        FileTime t = mtime(victim);
        flip(victim, 50_000, 3000);
        mtime(victim, t);
        Files.delete(data.resolve("elsewhere/duplicate with another name.jpg"));
        h.scan();
        h.run("--json", "verify", "--all");
        Result r = h.run("--json", "repair");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(Files.readAllBytes(victim)).isEqualTo(photo);
    }

    @Test
    void filesWithOddNamesAreRepairedWithPar2() throws IOException {
        // a newline, a byte that is not UTF-8, a backslash; and a one-letter name (par2 0.8.1 trips on those)
        byte[] odd = {'n', 'e', 'w', '\n', 'l', (byte) 0xff, '\\', '.', 'j', 'p', 'g'};
        Path a = io.custos.fs.RawPaths.resolve(data, odd);
        Path g = data.resolve("g");
        byte[] ca = bytes(120_000, 8);
        byte[] cg = bytes(90_000, 9);
        write(a, ca);
        write(g, cg);
        assertThat(h.scan().stat("parity_created")).isEqualTo(2);
        for (Path p : List.of(a, g)) {
            FileTime t = mtime(p);
            flip(p, 20_000, 2000);
            mtime(p, t);
        }
        Result v = h.run("--json", "verify", "--all");
        assertThat(v.stat("files_damaged")).isEqualTo(2);
        Result r = h.run("--json", "repair");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_repaired")).isEqualTo(2);
        assertThat(Files.readAllBytes(a)).isEqualTo(ca);
        assertThat(Files.readAllBytes(g)).isEqualTo(cg);
    }

    @Test
    void scanWithRepairAutoMendsWhatItFinds() throws IOException {
        byte[] rotten = bytes(150_000, 10);
        byte[] cut = bytes(150_000, 11);
        Path r1 = write(data.resolve("rotten.jpg"), rotten);
        Path r2 = write(data.resolve("cut.jpg"), cut);
        h.scan();
        FileTime t1 = mtime(r1);
        flip(r1, 70_000, 500);
        mtime(r1, t1);
        FileTime t2 = mtime(r2);
        try (var ch = java.nio.channels.FileChannel.open(r2, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(140_000);
        }
        mtime(r2, t2);
        h.section("verify").put("percent", 100);
        h.section("repair").put("auto", true);
        Result s = h.scan();
        assertThat(s.exit()).as(s.toString()).isZero();
        assertThat(s.stat("files_damaged")).isEqualTo(1);
        assertThat(s.stat("files_truncated")).isEqualTo(1);
        assertThat(s.stat("files_repaired")).isEqualTo(2);
        assertThat(s.json().get("problems")).isEmpty();
        assertThat(Files.readAllBytes(r1)).isEqualTo(rotten);
        assertThat(Files.readAllBytes(r2)).isEqualTo(cut);
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE status <> 'ok'"))
                .isZero();
    }

    @Test
    void scanSamplesNeverVerifiedFirstThenTheOldest() throws IOException {
        for (int i = 0; i < 10; i++) {
            write(data.resolve("f" + i), "file " + i);
        }
        h.scan();
        h.section("verify").put("percent", 30);
        // when: three scans of 30 %
        List<Long> firstRound = new ArrayList<>();
        long round1 = 0;
        for (int round = 0; round < 3; round++) {
            Result r = h.scan();
            assertThat(r.stat("files_verified")).as("round %d", round).isEqualTo(3);
            firstRound.add(h.queryLong("SELECT count(*) FROM files WHERE last_verified IS NOT NULL"));
            if (round == 0) {
                round1 = h.queryLong("SELECT max(last_verified) FROM files");
            }
            sleepPastMillisecond();
        }
        // then: every scan took files never verified before
        assertThat(firstRound).containsExactly(3L, 6L, 9L);
        // and the fourth takes the last never-verified file plus the two oldest verified
        Result r4 = h.scan();
        assertThat(r4.stat("files_verified")).isEqualTo(3);
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE last_verified IS NULL"))
                .isZero();
        // two of the three verified in the first round were verified again
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE last_verified <= " + round1))
                .isEqualTo(1);
    }

    private static void sleepPastMillisecond() {
        long t = System.currentTimeMillis();
        while (System.currentTimeMillis() <= t + 2) {
            Thread.onSpinWait();
        }
    }

    @Test
    void verifyPercentZeroReadsNothingAndPercentFlagOverridesIt() throws IOException {
        for (int i = 0; i < 4; i++) {
            write(data.resolve("f" + i), "content " + i);
        }
        h.scan();
        Result r0 = h.scan();
        assertThat(r0.stat("files_verified")).isZero();
        assertThat(r0.stat("bytes_hashed")).isZero();
        Result v = h.run("--json", "verify", "--percent", "50");
        assertThat(v.stat("files_verified")).isEqualTo(2);
    }

    @Test
    void verifyLeavesAFileChangedSinceTheScanAloneAndDeletesNothing() throws IOException {
        write(data.resolve("a.txt"), "alpha");
        write(data.resolve("b.txt"), "bravo");
        h.scan();
        write(data.resolve("a.txt"), "changed after the scan");
        Files.delete(data.resolve("b.txt"));
        Result v = h.run("--json", "verify", "--all");
        assertThat(v.stat("files_damaged")).isZero();
        assertThat(v.exit()).isEqualTo(1); // b.txt is missing: reported, not deleted
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE status = 'ok'"))
                .isEqualTo(2);
    }

    @Test
    void aDamagedFileFoundGoodAgainIsOkAgain() throws IOException {
        Path f = write(data.resolve("a.bin"), bytes(50_000, 7));
        h.scan();
        FileTime t = mtime(f);
        byte[] good = Files.readAllBytes(f);
        flip(f, 10, 10);
        mtime(f, t);
        assertThat(h.run("--json", "verify", "--all").exit()).isEqualTo(1);
        Files.write(f, good);
        mtime(f, t);
        Result v = h.run("--json", "verify", "--path", "*.bin");
        assertThat(v.exit()).as(v.toString()).isZero();
        assertThat(h.queryString("SELECT status FROM files")).isEqualTo("ok");
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** Inverts {@code count} bytes at {@code offset}, in place (a path, not a java.io.File: names are raw bytes). */
    static void flip(Path p, int offset, int count) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(
                p, java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(count);
            ch.read(b, offset);
            b.flip();
            for (int i = 0; i < b.limit(); i++) {
                b.put(i, (byte) ~b.get(i));
            }
            ch.write(b, offset);
        }
    }

    private static List<String> paths(JsonNode problems, String kind) {
        List<String> out = new ArrayList<>();
        problems.forEach(p -> {
            if (p.get("kind").asText().equals(kind)) {
                out.add(p.get("path").asText());
            }
        });
        return out;
    }
}
