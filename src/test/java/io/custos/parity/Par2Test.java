package io.custos.parity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.custos.exec.ExternalProcess;
import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Par2Test {
    private static final Duration LONG = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    @Test
    void createLeavesOneSetFileThatPar2Accepts() throws Exception {
        // given a 300,000-byte file
        Path file = dataFile(tmp.resolve("data"), bytes("photo.jpg"), 300_000);
        Path sets = tmp.resolve("sets");
        Par2Layout layout = Par2Layout.choose(300_000, 10, 9);
        // when its set is made
        Par2.Created set = par2(LONG).create(file, sets, "0a1b2c", layout, 2);
        // then the set is the one file <setName>.par2, as large as estimated, and healthy
        assertThat(listing(sets)).containsExactly("0a1b2c.par2");
        assertThat(set.file()).isEqualTo(sets.resolve("0a1b2c.par2"));
        assertThat(set.bytes()).isEqualTo(Files.size(set.file()));
        assertThat(Math.abs(set.bytes() - layout.estimatedBytes())).isLessThanOrEqualTo(128);
        assertThat(set.layout()).isEqualTo(layout);
        Par2Set.Info info = Par2Set.read(set.file());
        assertThat(info.healthy()).as(info.problem()).isTrue();
        assertThat(info.storedName()).isEqualTo(bytes("photo.jpg"));
        // and par2 verifies the file copied under its stored name into another directory
        Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        Files.copy(file, elsewhere.resolve("photo.jpg"));
        ExternalProcess.Outcome verify = par2(LONG).verify(elsewhere, set.file());
        assertThat(verify.exitCode()).as(verify.output()).isZero();
    }

    @Test
    void creatingAgainReplacesTheSet() throws Exception {
        Path file = dataFile(tmp.resolve("data"), bytes("doc.pdf"), 100_000);
        Path sets = tmp.resolve("sets");
        par2(LONG).create(file, sets, "s", Par2Layout.choose(100_000, 10, 7), 1);
        Par2.Created again = par2(LONG).create(file, sets, "s", Par2Layout.choose(100_000, 30, 7), 1);
        assertThat(listing(sets)).containsExactly("s.par2");
        assertThat(Par2Set.read(again.file()).recoveryBlocks())
                .isEqualTo(again.layout().recoveryBlocks());
    }

    @Test
    void repairRestoresDamageInTheMiddle() throws Exception {
        // given a set, and a copy of the file with 100 bytes flipped in the middle
        byte[] content = random(600_000);
        Path file = Files.write(Files.createDirectories(tmp.resolve("data")).resolve("video.mkv"), content);
        Par2.Created set = par2(LONG).create(file, tmp.resolve("sets"), "s", Par2Layout.choose(600_000, 10, 9), 2);
        Path copy = copyTo(file, tmp.resolve("copy"));
        byte[] damaged = content.clone();
        for (int i = 300_000; i < 300_100; i++) {
            damaged[i] ^= (byte) 0xff;
        }
        Files.write(copy, damaged);
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r-----"));
        assertThat(par2(LONG).verify(copy.getParent(), set.file()).exitCode()).isEqualTo(1);
        // when it is repaired
        ExternalProcess.Outcome o = par2(LONG).repair(copy.getParent(), set.file(), 2);
        // then the copy is the original again, and par2's copy of the damaged file is gone
        assertThat(o.exitCode()).as(o.output()).isZero();
        assertThat(Files.readAllBytes(copy)).isEqualTo(content);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(copy)))
                .isEqualTo("rw-r-----");
        assertThat(listing(copy.getParent())).containsExactly("video.mkv");
        assertThat(listing(tmp.resolve("sets"))).containsExactly("s.par2");
    }

    @Test
    void repairRestoresATruncatedFile() throws Exception {
        byte[] content = random(600_000);
        Path file = Files.write(Files.createDirectories(tmp.resolve("data")).resolve("song.flac"), content);
        Par2.Created set = par2(LONG).create(file, tmp.resolve("sets"), "s", Par2Layout.choose(600_000, 10, 9), 2);
        Path copy = copyTo(file, tmp.resolve("copy"));
        Files.write(copy, Arrays.copyOf(content, 600_000 - 5_000));

        ExternalProcess.Outcome o = par2(LONG).repair(copy.getParent(), set.file(), 2);

        assertThat(o.exitCode()).as(o.output()).isZero();
        assertThat(Files.readAllBytes(copy)).isEqualTo(content);
        assertThat(listing(copy.getParent())).containsExactly("song.flac");
    }

    @Test
    void namesWithSpacesNewlinesBackslashesAndBytesThatAreNotUtf8Work() throws Exception {
        // given a file whose name no String can carry and par2 0.8.1 looks for under another name
        // ("my file%0A\xff/x.bin"), in a directory with a space
        byte[] name = {'m', 'y', ' ', 'f', 'i', 'l', 'e', '\n', (byte) 0xff, '\\', 'x', '.', 'b', 'i', 'n'};
        Path dir = Files.createDirectories(tmp.resolve("my data"));
        byte[] content = random(200_000);
        Path file = Files.write(RawPaths.resolve(dir, name), content);
        // when its set is made, and a damaged copy is repaired
        Par2.Created set =
                par2(LONG).create(file, tmp.resolve("sets $x"), "s", Par2Layout.choose(200_000, 10, name.length), 1);
        assertThat(Par2Set.read(set.file()).storedName()).isEqualTo(name);
        assertThat(par2(LONG).verify(dir, set.file()).exitCode()).isZero();
        Path copyDir = Files.createDirectories(tmp.resolve("copy"));
        Path copy = RawPaths.resolve(copyDir, name);
        byte[] damaged = content.clone();
        damaged[1234] ^= 1;
        Files.write(copy, damaged);
        ExternalProcess.Outcome o = par2(LONG).repair(copyDir, set.file(), 1);
        // then par2 found the file under its exact name
        assertThat(o.exitCode()).as(o.output()).isZero();
        assertThat(Files.readAllBytes(copy)).isEqualTo(content);
        try (var entries = Files.list(copyDir)) {
            assertThat(entries.map(p -> RawPaths.bytes(p.getFileName())).toList())
                    .singleElement()
                    .isEqualTo(name);
        }
    }

    @Test
    void par2LooksForControlCharactersEscapedAndBackslashesAsDirectories() {
        assertThat(Par2.nameOnDisk(new byte[] {'a', '\n', 'b', 0x1f, '\\', 'c', (byte) 0xff, 0x7f}))
                .isEqualTo(new byte[] {'a', '%', '0', 'A', 'b', '%', '1', 'F', '/', 'c', (byte) 0xff, 0x7f});
        assertThat(Par2.nameOnDisk(bytes("plain name.jpg"))).isEqualTo(bytes("plain name.jpg"));
    }

    @Test
    void aOneCharacterNameIsStoredWithADotSlash() throws Exception {
        // par2 0.8.1 aborts on a one-character name given as is
        Path file = dataFile(tmp.resolve("data"), bytes("g"), 100_000);
        Par2.Created set = par2(LONG).create(file, tmp.resolve("sets"), "s", Par2Layout.choose(100_000, 10, 1), 1);
        assertThat(Par2Set.read(set.file()).storedName()).isEqualTo(bytes("./g"));
        Path elsewhere = copyTo(file, tmp.resolve("elsewhere"));
        assertThat(par2(LONG).verify(elsewhere.getParent(), set.file()).exitCode())
                .isZero();
    }

    @Test
    void aFailingPar2LeavesNothing() throws Exception {
        Path file = dataFile(tmp.resolve("data"), bytes("f.bin"), 100_000);
        Path sets = Files.createDirectories(tmp.resolve("sets"));
        Par2 broken = new Par2(Path.of("/bin/false"), LONG, new CancelToken());

        assertThatThrownBy(() -> broken.create(file, sets, "s", Par2Layout.choose(100_000, 10, 5), 1))
                .isInstanceOfSatisfying(Par2Exception.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(1);
                    assertThat(e.timedOut()).isFalse();
                    assertThat(e.getMessage()).contains("exit code 1");
                });
        assertThat(listing(sets)).isEmpty();
    }

    @Test
    void aMissingDataFileIsPar2sErrorAndLeavesNothing() throws Exception {
        Path sets = Files.createDirectories(tmp.resolve("sets"));
        Path missing = Files.createDirectories(tmp.resolve("data")).resolve("gone.bin");
        assertThatThrownBy(() -> par2(LONG).create(missing, sets, "s", Par2Layout.choose(100_000, 10, 8), 1))
                .isInstanceOf(Par2Exception.class)
                .hasMessageContaining("par2 create");
        assertThat(listing(sets)).isEmpty();
    }

    @Test
    void aTimeoutStopsPar2AndLeavesNothing() throws Exception {
        // given a 20 MB file and a timeout far too short to protect it
        Path file = dataFile(tmp.resolve("data"), bytes("big.bin"), 20_000_000);
        Path sets = Files.createDirectories(tmp.resolve("sets"));
        Par2 hurried = new Par2(Requirements.par2(), Duration.ofMillis(1), new CancelToken());
        // when par2 runs, then it times out, leaves nothing in the set directory and no par2 running
        assertThatThrownBy(() -> hurried.create(file, sets, "s", Par2Layout.choose(20_000_000, 10, 7), 1))
                .isInstanceOfSatisfying(Par2Exception.class, e -> {
                    assertThat(e.timedOut()).isTrue();
                    assertThat(e.exitCode()).isEqualTo(-1);
                    assertThat(e.getMessage()).contains("timed out");
                });
        assertThat(listing(sets)).isEmpty();
        assertThat(ProcessHandle.current().children().filter(p -> p.isAlive()).toList())
                .isEmpty();
    }

    @Test
    void aCancelStopsPar2() throws Exception {
        Path file = dataFile(tmp.resolve("data"), bytes("big.bin"), 5_000_000);
        Path sets = Files.createDirectories(tmp.resolve("sets"));
        CancelToken cancel = new CancelToken();
        cancel.cancel();
        Par2 cancelled = new Par2(Requirements.par2(), LONG, cancel);
        assertThatThrownBy(() -> cancelled.create(file, sets, "s", Par2Layout.choose(5_000_000, 10, 7), 1))
                .isInstanceOfSatisfying(
                        Par2Exception.class, e -> assertThat(e.cancelled()).isTrue());
        assertThat(listing(sets)).isEmpty();
    }

    @Test
    void aFailedRepairLeavesTheDataFileAsItWas() throws Exception {
        // given a set, and a "par2" that does what par2 does first (moves the damaged file aside and
        // starts a new one) and then fails
        byte[] content = random(100_000);
        Path data = Files.createDirectories(tmp.resolve("data"));
        Path file = Files.write(data.resolve("f.bin"), content);
        Par2.Created set = par2(LONG).create(file, tmp.resolve("sets"), "s", Par2Layout.choose(100_000, 10, 5), 1);
        Path fake = tmp.resolve("fake-par2");
        Files.writeString(
                fake,
                "#!/bin/sh\n"
                        + "while [ \"$1\" != -B ]; do shift; done\n"
                        + "mv \"$2/f.bin\" \"$2/f.bin.1\" && echo partial > \"$2/f.bin\"\n"
                        + "echo 'Repair failed.'\n"
                        + "exit 2\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(data.resolve("f.bin.1"), "not par2's");
        // when the repair fails
        ExternalProcess.Outcome o = new Par2(fake, LONG, new CancelToken()).repair(data, set.file(), 1);
        // then the data file is untouched and nothing else is left
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.lastLine()).isEqualTo("Repair failed.");
        assertThat(Files.readAllBytes(file)).isEqualTo(content);
        assertThat(Files.readString(data.resolve("f.bin.1"))).isEqualTo("not par2's");
        assertThat(listing(data)).containsExactly("f.bin", "f.bin.1");
    }

    @Test
    void repairWithoutASetIsExitCode3() throws Exception {
        Path data = Files.createDirectories(tmp.resolve("data"));
        ExternalProcess.Outcome o = par2(LONG).repair(data, tmp.resolve("nothing.par2"), 1);
        assertThat(o.exitCode()).isEqualTo(3);
    }

    private Par2 par2(Duration timeout) {
        return new Par2(Requirements.par2(), timeout, new CancelToken());
    }

    private static Path dataFile(Path dir, byte[] name, int size) throws IOException {
        Files.createDirectories(dir);
        return Files.write(RawPaths.resolve(dir, name), random(size));
    }

    private static byte[] random(int size) {
        byte[] content = new byte[size];
        new Random(size).nextBytes(content);
        return content;
    }

    private static Path copyTo(Path file, Path dir) throws IOException {
        Files.createDirectories(dir);
        return Files.copy(file, dir.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
    }

    private static List<String> listing(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
