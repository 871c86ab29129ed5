package io.custos.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.custos.it.CustosProcess.Result;
import io.custos.parity.Par2Set;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged program, the way cron runs it, against bitrot; with the real par2. */
class BitrotIT {
    @TempDir
    Path tmp;

    @Test
    void cronFindsBitrotAndRepairPutsThePhotoBackAsPar2ItselfConfirms() throws IOException {
        Path par2 = Requirements.par2();
        // given: a small photo library, scanned with parity
        TestNas nas = new TestNas(tmp);
        nas.settings().putObject("verify").put("percent", 0);
        nas.writeConfig();
        List<Path> photos = photos(nas, 20, 150_000);
        Result first = nas.custos("scan").run();
        assertThat(first.exitCode()).as(first.describe()).isZero();
        Path victim = photos.get(7);
        byte[] original = Files.readAllBytes(victim);

        // when: bytes rot in the middle of one photo, its mtime untouched
        FileTime t = Files.getLastModifiedTime(victim);
        try (FileChannel ch = FileChannel.open(victim, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[700]), 60_000);
        }
        Files.setLastModifiedTime(victim, t);
        Result verify = nas.custos("verify", "--all").run();

        // then: verify names it and exits 1
        assertThat(verify.exitCode()).as(verify.describe()).isEqualTo(1);
        assertThat(verify.stdout()).contains(victim.getFileName().toString()).contains("damaged");

        // when: repair
        Result repair = nas.custos("repair").run();
        assertThat(repair.exitCode()).as(repair.describe()).isZero();
        assertThat(Files.readAllBytes(victim)).isEqualTo(original);
        assertThat(Files.getLastModifiedTime(victim)).isEqualTo(t);
        assertThat(nas.custos("status").run().exitCode()).isZero();

        // and par2 itself, given the set custos keeps, finds the photo intact
        Path set = onlySetOf(nas, original);
        Process p = new ProcessBuilder(
                        par2.toString(),
                        "verify",
                        "-q",
                        "-B",
                        victim.getParent().toString(),
                        set.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(waitFor(p)).as(out).isZero();
    }

    @Test
    void aSignalDuringParityCreationLeavesOnlyWholeSetsAndTheNextScanFinishes() throws IOException {
        Requirements.par2();
        TestNas nas = new TestNas(tmp);
        nas.settings().putObject("verify").put("percent", 0);
        nas.writeConfig();
        List<Path> photos = photos(nas, 400, 300_000);
        Path byHash = nas.parity.resolve("by_hash");
        Result stopped;
        try (CustosProcess.Running run = nas.custos("--json", "scan").start()) {
            CustosProcess.await("a first parity set", Duration.ofSeconds(120), () -> count(byHash) > 0);
            run.sigterm();
            stopped = run.waitFor(Duration.ofSeconds(60));
        }
        assertThat(stopped.exitCode()).as(stopped.describe()).isEqualTo(130);
        long made = count(byHash);
        assertThat(made).as("stopped before the end").isLessThan(photos.size());
        for (Path set : sets(byHash)) {
            assertThat(Par2Set.read(set).healthy()).as(set.toString()).isTrue();
        }
        assertThat(count(nas.parity.resolve("_tmp"))).isZero();

        Result next = nas.custos("--json", "scan").run();
        assertThat(next.exitCode()).as(next.describe()).isZero();
        com.fasterxml.jackson.databind.JsonNode stats = next.json().get("stats");
        // every file was cataloged before parity began: nothing is hashed again, only the missing sets are made
        assertThat(stats.get("files_unchanged").asLong()).isEqualTo(photos.size());
        assertThat(stats.get("bytes_hashed").asLong()).isZero();
        assertThat(stats.get("parity_created").asLong()).isEqualTo(photos.size() - made);
        assertThat(count(byHash)).isEqualTo(photos.size());
        assertThat(nas.catalog().count("SELECT count(*) FROM files WHERE parity_due = 1"))
                .isZero();
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static List<Path> photos(TestNas nas, int count, int size) throws IOException {
        Random random = new Random(count);
        byte[] b = new byte[size];
        java.util.ArrayList<Path> out = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            random.nextBytes(b);
            Path p = nas.data.resolve(String.format("%d/IMG_%04d.JPG", 2000 + i % 5, i));
            Files.createDirectories(p.getParent());
            Files.write(p, b);
            out.add(p);
        }
        return out;
    }

    private static Path onlySetOf(TestNas nas, byte[] content) {
        try {
            String x = java.util.HexFormat.of()
                    .formatHex(
                            java.security.MessageDigest.getInstance("SHA-256").digest(content));
            return nas.parity.resolve("by_hash").resolve(x.substring(0, 2)).resolve(x + ".par2");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Path> sets(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    private static long count(Path dir) {
        try {
            return sets(dir).size();
        } catch (IOException e) {
            return 0;
        }
    }

    private static int waitFor(Process p) {
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
