package io.custos.parity;

import static io.custos.exec.ExternalProcess.arg;
import static org.assertj.core.api.Assertions.assertThat;

import io.custos.exec.ExternalProcess;
import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Par2SetTest {
    private static final int SIZE = 300_000;

    @TempDir
    Path tmp;

    @Test
    void aHealthySetReadsBackWhatPar2Stored() throws Exception {
        // given a set made by par2 for a 300,000-byte file
        Path file = dataFile("holiday photo.jpg".getBytes(StandardCharsets.UTF_8), SIZE);
        Par2.Created set = create(file);
        // when it is read
        Par2Set.Info info = Par2Set.read(set.file());
        // then it is healthy and says what par2 was told
        assertThat(info.problem()).isNull();
        assertThat(info.healthy()).isTrue();
        assertThat(info.storedName()).isEqualTo("holiday photo.jpg".getBytes(StandardCharsets.UTF_8));
        assertThat(info.fileSize()).isEqualTo(SIZE);
        assertThat(info.blockSize()).isEqualTo(set.layout().blockSize());
        assertThat(info.sourceBlocks()).isEqualTo(set.layout().sourceBlocks());
        assertThat(info.recoveryBlocks()).isEqualTo(set.layout().recoveryBlocks());
        assertThat(info.bytes()).isEqualTo(Files.size(set.file()));
        assertThat(HexFormat.of().formatHex(info.md5Full())).isEqualTo(md5sum("md5sum < \"$1\"", file));
        assertThat(HexFormat.of().formatHex(info.md5First16k()))
                .isEqualTo(md5sum("head -c 16384 < \"$1\" | md5sum", file))
                .isEqualTo(HexFormat.of().formatHex(Par2Set.md5First16k(file)));
    }

    @Test
    void md5OfTheFirst16KiBCoversShortFilesWhole() throws Exception {
        Path file = dataFile("short".getBytes(StandardCharsets.UTF_8), 1000);
        assertThat(HexFormat.of().formatHex(Par2Set.md5First16k(file))).isEqualTo(md5sum("md5sum < \"$1\"", file));
    }

    @Test
    void aNameThatIsNotUtf8RoundTrips() throws Exception {
        byte[] name = {'n', (byte) 0xff, ' ', '\n', 'x'};
        Par2.Created set = create(dataFile(name, 70_000));
        Par2Set.Info info = Par2Set.read(set.file());
        assertThat(info.healthy()).isTrue();
        assertThat(info.storedName()).isEqualTo(name);
    }

    @Test
    void aFlippedByteAnywhereMakesTheSetUnhealthy() throws Exception {
        // given a healthy set and where its packets are
        Par2.Created set = create(dataFile("f.bin".getBytes(StandardCharsets.UTF_8), SIZE));
        byte[] good = Files.readAllBytes(set.file());
        List<long[]> packets = packets(good);
        long recovery = offsetOf(packets, good, "PAR 2.0\0RecvSlic");
        long ifsc = offsetOf(packets, good, "PAR 2.0\0IFSC\0\0\0\0");
        long main = offsetOf(packets, good, "PAR 2.0\0Main\0\0\0\0");

        // a byte in the middle of recovery data, of the block checksums, or of each header field
        long[] places = {
            recovery + 64 + 2000, ifsc + 64 + 30, main + 3, main + 9, main + 20, main + 40, main + 50,
        };
        for (long at : places) {
            byte[] bad = good.clone();
            bad[(int) at] ^= 0x01;
            Path copy = Files.write(tmp.resolve("bad.par2"), bad);
            Par2Set.Info info = Par2Set.read(copy);
            assertThat(info.healthy()).as("byte %d flipped", at).isFalse();
            assertThat(info.problem()).as("byte %d flipped", at).contains("offset");
        }
        byte[] bad = good.clone();
        bad[(int) recovery + 100] ^= 0x01;
        assertThat(Par2Set.read(Files.write(tmp.resolve("bad.par2"), bad)).problem())
                .isEqualTo("packet at offset " + recovery + " is corrupt (its MD5 does not match)");
    }

    @Test
    void truncatedOrExtendedSetsAreUnhealthy() throws Exception {
        Par2.Created set = create(dataFile("f.bin".getBytes(StandardCharsets.UTF_8), SIZE));
        byte[] good = Files.readAllBytes(set.file());

        Path cut = Files.write(tmp.resolve("cut.par2"), Arrays.copyOf(good, good.length - 1000));
        assertThat(Par2Set.read(cut).healthy()).isFalse();
        assertThat(Par2Set.read(cut).problem()).contains("truncated");

        Path atPacket = Files.write(tmp.resolve("half.par2"), Arrays.copyOf(good, (int)
                packets(good).get(1)[0]));
        assertThat(Par2Set.read(atPacket).healthy()).isFalse();

        byte[] longer = Arrays.copyOf(good, good.length + 100);
        Path extended = Files.write(tmp.resolve("longer.par2"), longer);
        assertThat(Par2Set.read(extended).healthy()).isFalse();
        assertThat(Par2Set.read(extended).problem()).contains("offset " + good.length);
    }

    @Test
    void emptyAndForeignFilesAreUnhealthy() throws Exception {
        Path empty = Files.write(tmp.resolve("empty.par2"), new byte[0]);
        Par2Set.Info info = Par2Set.read(empty);
        assertThat(info.healthy()).isFalse();
        assertThat(info.problem()).isEqualTo("the file is empty");
        assertThat(info.storedName()).isNull();

        byte[] text = new byte[5000];
        Arrays.fill(text, (byte) 'x');
        Path foreign = Files.write(tmp.resolve("foreign.par2"), text);
        assertThat(Par2Set.read(foreign).healthy()).isFalse();
        assertThat(Par2Set.read(foreign).problem()).contains("not a PAR2 file");

        Path tiny = Files.write(tmp.resolve("tiny.par2"), "PAR2".getBytes(StandardCharsets.US_ASCII));
        assertThat(Par2Set.read(tiny).healthy()).isFalse();
    }

    @Test
    void aSetOfTwoFilesOrMixedSetsAreUnhealthy() throws Exception {
        Path par2 = Requirements.par2();
        Path a = dataFile("a.bin".getBytes(StandardCharsets.UTF_8), 100_000);
        Path b = dataFile("b.bin".getBytes(StandardCharsets.UTF_8), 100_000);
        Path two = tmp.resolve("two");
        Files.createDirectories(two);
        ExternalProcess.Outcome o = ExternalProcess.run(
                List.of(
                        arg(par2),
                        arg("create"),
                        arg("-q"),
                        arg("-s4096"),
                        arg("-c5"),
                        arg("-n1"),
                        arg("-B"),
                        arg(a.getParent()),
                        arg("--"),
                        arg(two.resolve("t.par2")),
                        arg(a),
                        arg(b)),
                Duration.ofSeconds(30),
                new CancelToken());
        assertThat(o.ok()).as(o.output()).isTrue();
        Path volume;
        try (var files = Files.list(two)) {
            volume = files.filter(p -> p.getFileName().toString().contains(".vol"))
                    .findFirst()
                    .orElseThrow();
        }
        assertThat(Par2Set.read(volume).problem()).isEqualTo("the set does not protect exactly one file");

        // two one-file sets glued together: packets of another set
        byte[] first = Files.readAllBytes(create(a).file());
        Files.createDirectories(tmp.resolve("other"));
        Par2.Created other = new Par2(par2, Duration.ofSeconds(30), new CancelToken())
                .create(b, tmp.resolve("other"), "s", Par2Layout.choose(100_000, 10, 5), 1);
        byte[] second = Files.readAllBytes(other.file());
        byte[] glued = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, glued, first.length, second.length);
        assertThat(Par2Set.read(Files.write(tmp.resolve("glued.par2"), glued)).healthy())
                .isFalse();
    }

    private Path dataFile(byte[] name, int size) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("data"));
        byte[] content = new byte[size];
        new Random(size).nextBytes(content);
        return Files.write(RawPaths.resolve(dir, name), content);
    }

    private Par2.Created create(Path file) throws Exception {
        Par2 par2 = new Par2(Requirements.par2(), Duration.ofSeconds(30), new CancelToken());
        int nameBytes = RawPaths.bytes(file.getFileName()).length;
        return par2.create(file, tmp.resolve("sets"), "s", Par2Layout.choose(Files.size(file), 10, nameBytes), 1);
    }

    /** Runs a sh pipeline on {@code $1} = the file and returns the hex digest it printed. */
    private static String md5sum(String script, Path file) throws IOException {
        ExternalProcess.Outcome o = ExternalProcess.run(
                List.of(arg("sh"), arg("-c"), arg(script), arg("sh"), arg(file)),
                Duration.ofSeconds(10),
                new CancelToken());
        assertThat(o.ok()).as(o.output()).isTrue();
        return o.output().substring(0, 32);
    }

    /** (offset, length) of each packet, read from the headers alone. */
    private static List<long[]> packets(byte[] set) {
        List<long[]> out = new ArrayList<>();
        int at = 0;
        while (at + 64 <= set.length) {
            long length = ByteBuffer.wrap(set, at + 8, 8)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .getLong();
            out.add(new long[] {at, length});
            at += (int) length;
        }
        return out;
    }

    private static long offsetOf(List<long[]> packets, byte[] set, String type) {
        byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
        for (long[] p : packets) {
            if (Arrays.equals(set, (int) p[0] + 48, (int) p[0] + 64, t, 0, 16)) {
                return p[0];
            }
        }
        throw new AssertionError("no packet of type " + type);
    }
}
