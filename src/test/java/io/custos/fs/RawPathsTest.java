package io.custos.fs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RawPathsTest {
    @TempDir
    Path tmp;

    @Test
    void pathBytesAreExactWhenTheJdkPackageIsOpen() {
        assertThat(RawPaths.exact())
                .as("surefire and the jar open java.base/sun.nio.fs")
                .isTrue();
    }

    @Test
    void bytesThatAreNotUtf8RoundTripThroughTheFilesystem() throws Exception {
        byte[] name = {'a', (byte) 0xff, (byte) 0xfe, 'z'};
        Path p = RawPaths.resolve(tmp, name);
        Files.writeString(p, "x");
        try (var ds = Files.newDirectoryStream(tmp)) {
            Path listed = ds.iterator().next();
            byte[] full = RawPaths.bytes(listed);
            byte[] tail = java.util.Arrays.copyOfRange(full, full.length - name.length, full.length);
            assertThat(tail).isEqualTo(name);
            assertThat(Files.readString(RawPaths.path(full))).isEqualTo("x");
        }
    }

    @Test
    void displayEscapesOnlyWhatIsNotUtf8AndUnescapeGivesTheBytesBack() {
        byte[][] samples = {
            "plain.txt".getBytes(StandardCharsets.UTF_8),
            "\u00fcber\u65e5.txt".getBytes(StandardCharsets.UTF_8),
            {'c', 'a', 'f', (byte) 0xe9},
            "back\\slash\\x41".getBytes(StandardCharsets.UTF_8),
            {(byte) 0xe2, (byte) 0x82}, // a cut-off three-byte sequence
        };
        assertThat(RawPaths.display(samples[1])).isEqualTo("\u00fcber\u65e5.txt");
        assertThat(RawPaths.display(samples[2])).isEqualTo("caf\\xe9");
        assertThat(RawPaths.display(samples[3])).isEqualTo("back\\\\slash\\\\x41");
        for (byte[] s : samples) {
            assertThat(RawPaths.unescape(RawPaths.display(s))).isEqualTo(s);
        }
    }

    @Test
    void underMeansTheSamePathOrBelowIt() {
        assertThat(RawPaths.under("a/b/c".getBytes(), "a/b".getBytes())).isTrue();
        assertThat(RawPaths.under("a/b".getBytes(), "a/b".getBytes())).isTrue();
        assertThat(RawPaths.under("a/bc".getBytes(), "a/b".getBytes())).isFalse();
        assertThat(RawPaths.under("/data/x".getBytes(), "/".getBytes())).isTrue();
        assertThat(RawPaths.under("anything".getBytes(), new byte[0])).isTrue();
    }

    @Test
    void orderIsUnsignedLikeSqlite() {
        assertThat(RawPaths.compare(new byte[] {'a'}, new byte[] {(byte) 0xe9})).isNegative();
        assertThat(RawPaths.compare("a/b".getBytes(), "a.b".getBytes())).isPositive();
    }

    @Test
    void fileIdentityHasNanosecondsDeviceAndInode() throws Exception {
        Path f = Files.writeString(tmp.resolve("f"), "abc");
        Files.setLastModifiedTime(
                f, java.nio.file.attribute.FileTime.from(java.time.Instant.ofEpochSecond(1_700_000_000L, 123_456_789)));
        FileIdentity id = FileIdentity.of(f);
        assertThat(id.kind()).isEqualTo(FileIdentity.Kind.FILE);
        assertThat(id.size()).isEqualTo(3);
        assertThat(id.mtimeNs()).isEqualTo(1_700_000_000_123_456_789L);
        assertThat(id.inode()).isEqualTo(((Number) Files.getAttribute(f, "unix:ino")).longValue());
        assertThat(id.device()).isEqualTo(((Number) Files.getAttribute(f, "unix:dev")).longValue());
        assertThat(id.links()).isEqualTo(1);
        Files.createLink(tmp.resolve("g"), f);
        assertThat(FileIdentity.of(f).links()).isEqualTo(2);
    }
}
