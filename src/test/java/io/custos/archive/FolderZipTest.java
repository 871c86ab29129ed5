package io.custos.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import io.custos.testing.Harness;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderZipTest {
    private static final ZoneId ZONE = ZoneId.of("Europe/Berlin");
    private static final String PYTHON_READ = String.join(
            "\n",
            "import sys, zipfile",
            "z = zipfile.ZipFile(sys.argv[1])",
            "bad = z.testzip()",
            "assert bad is None, bad",
            "for i in z.infolist():",
            "    raw = i.filename.encode('utf-8' if i.flag_bits & 0x800 else 'cp437')",
            "    sys.stdout.buffer.write(raw + b'\\n')");

    @TempDir
    Path tmp;

    Path mount;

    @AfterEach
    void unmount() {
        if (mount != null) {
            Programs.run(tmp, "umount", mount.toString());
        }
    }

    @Test
    void entriesAreTheRegularFilesSortedByTheirRawBytes() throws Exception {
        Programs.need("unzip", "unzip");
        // given a folder with nested files, a symlink to a file, a symlink to a directory outside,
        // a FIFO and an empty directory
        Path folder = folder("ABCD");
        write(folder.resolve("b.txt"), "b");
        write(folder.resolve("B.txt"), "B");
        write(folder.resolve("a/z.txt"), "az");
        write(folder.resolve("a.b/c.txt"), "abc");
        write(folder.resolve("a/b/c/deep.txt"), "deep");
        write(folder.resolve("été.txt"), "accent");
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        write(outside.resolve("secret.txt"), "not in the zip");
        Files.createSymbolicLink(folder.resolve("link-to-file"), folder.resolve("b.txt"));
        Files.createSymbolicLink(folder.resolve("a/link-to-outside"), outside);
        Programs.ok(folder, "mkfifo", "pipe");
        Files.createDirectories(folder.resolve("empty"));
        // when
        FolderZip.Result r = zip(FolderZip.Compression.DEFLATE, folder);
        // then entries are the regular files, sorted by raw bytes ('.' 0x2e < '/' 0x2f < 'B' < 'a' < 'b' < 0xc3)
        List<String> expected = List.of("B.txt", "a.b/c.txt", "a/b/c/deep.txt", "a/z.txt", "b.txt", "été.txt");
        assertThat(r.files()).containsExactlyElementsOf(expected);
        assertThat(r.totalFiles()).isEqualTo(6);
        assertThat(r.totalBytes()).isEqualTo(1 + 1 + 2 + 3 + 4 + 6);
        assertThat(r.skipped()).containsExactly("a/link-to-outside", "link-to-file", "pipe");
        assertThat(lines(Programs.ok(tmp, "unzip", "-Z1", r.zip().toString()).output()))
                .containsExactlyElementsOf(utf8(expected));
        try (ZipFile zf = new ZipFile(r.zip().toFile())) {
            assertThat(Collections.list(zf.entries()).stream().map(ZipEntry::getName))
                    .containsExactlyElementsOf(expected);
            assertThat(new String(
                            zf.getInputStream(zf.getEntry("a/b/c/deep.txt")).readAllBytes(), StandardCharsets.UTF_8))
                    .isEqualTo("deep");
        }
    }

    @Test
    void aNameThatIsNotUtf8RoundTrips() throws Exception {
        Programs.need("unzip", "unzip");
        Programs.need("python3", "python3");
        assertThat(RawPaths.exact())
                .as("raw path bytes (--add-opens java.base/sun.nio.fs)")
                .isTrue();
        // given a file whose name is Latin-1, not UTF-8
        Path folder = folder("ABCD");
        byte[] name = {'c', 'a', 'f', (byte) 0xe9, '.', 't', 'x', 't'};
        Files.write(RawPaths.resolve(folder, name), "latin".getBytes(StandardCharsets.UTF_8));
        write(folder.resolve("ok.txt"), "ok");
        // when
        FolderZip.Result r = zip(FolderZip.Compression.AUTO, folder);
        // then the entry name is those bytes, without the UTF-8 flag, for unzip, Python and custos alike
        assertThat(r.files()).containsExactly("caf\\xe9.txt", "ok.txt");
        assertThat(lines(Programs.ok(tmp, "unzip", "-Z1", r.zip().toString()).output()))
                .containsExactly(name, "ok.txt".getBytes(StandardCharsets.UTF_8));
        assertThat(lines(Programs.ok(tmp, "python3", "-c", PYTHON_READ, r.zip().toString())
                        .output()))
                .containsExactly(name, "ok.txt".getBytes(StandardCharsets.UTF_8));
        Path out = Files.createDirectories(tmp.resolve("out"));
        Programs.ok(out, "unzip", "-q", r.zip().toString());
        assertThat(Files.readString(RawPaths.resolve(out, name))).isEqualTo("latin");
    }

    @Test
    void unzipRestoresEachFilesMtimeToTheSecond() throws Exception {
        Programs.need("unzip", "unzip");
        // given files with odd-second mtimes (DOS time alone keeps even seconds), one of them before 1980
        Path folder = folder("ABCD");
        Instant t1 = Instant.parse("2001-02-03T04:05:07.900Z");
        Instant t2 = Instant.parse("1975-06-07T08:09:11Z");
        Instant t3 = Instant.parse("2024-10-27T01:30:01Z"); // in the hour Berlin's clocks go back
        mtime(write(folder.resolve("a.jpg"), "a"), t1);
        mtime(write(folder.resolve("b.txt"), "b"), t2);
        mtime(write(folder.resolve("c/d.txt"), "d"), t3);
        // when zipped and unzipped
        FolderZip.Result r = zip(FolderZip.Compression.AUTO, folder);
        Path out = Files.createDirectories(tmp.resolve("out"));
        Programs.ok(out, "unzip", "-q", r.zip().toString());
        // then
        assertThat(Files.getLastModifiedTime(out.resolve("a.jpg")).toInstant())
                .isEqualTo(Instant.parse("2001-02-03T04:05:07Z"));
        assertThat(Files.getLastModifiedTime(out.resolve("b.txt")).toInstant()).isEqualTo(t2);
        assertThat(Files.getLastModifiedTime(out.resolve("c/d.txt")).toInstant())
                .isEqualTo(t3);
        // and the DOS time is the local time in the zone given, down to an even second, not before 1980
        Programs.need("python3", "python3");
        String dates = Programs.ok(
                        tmp,
                        "python3",
                        "-c",
                        "import sys,zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.filename, i.date_time)",
                        r.zip().toString())
                .text();
        assertThat(dates)
                .contains("a.jpg (2001, 2, 3, 5, 5, 6)")
                .contains("b.txt (1980, 1, 1, 0, 0, 0)")
                .contains("c/d.txt (2024, 10, 27, 2, 30, 0)");
    }

    @Test
    void theSameFilesGiveTheSameBytes() throws Exception {
        Path folder = folder("ABCD");
        mixedContent(folder);
        for (FolderZip.Compression c : FolderZip.Compression.values()) {
            FolderZip.Result one = zip(c, folder);
            byte[] first = Files.readAllBytes(one.zip());
            Files.delete(one.zip());
            FolderZip.Result two = zip(c, folder);
            assertThat(Files.readAllBytes(two.zip())).as(c.name()).isEqualTo(first);
            assertThat(two.sha256Hex()).isEqualTo(one.sha256Hex());
            Files.delete(two.zip());
        }
    }

    @Test
    void autoStoresMediaAndDeflatesTheRest() throws Exception {
        Programs.need("unzip", "unzip");
        Path folder = folder("ABCD");
        write(folder.resolve("photo.jpg"), Harness.bytes(50_000, 1));
        write(folder.resolve("PHOTO2.JPG"), Harness.bytes(50_000, 2));
        write(folder.resolve("movie.mp4"), Harness.bytes(50_000, 3));
        write(folder.resolve("notes.txt"), "hello ".repeat(10_000));
        write(folder.resolve("noext"), "hello ".repeat(10_000));
        write(folder.resolve("empty.txt"), "");
        FolderZip.Result r = zip(FolderZip.Compression.AUTO, folder);
        assertThat(methods(r.zip()))
                .containsExactly("PHOTO2.JPG=0", "empty.txt=0", "movie.mp4=0", "noext=8", "notes.txt=8", "photo.jpg=0");
        String verbose = Programs.ok(tmp, "unzip", "-v", r.zip().toString()).text();
        assertThat(verbose).containsPattern("Stored +50000 .* photo\\.jpg").containsPattern("Defl:N .* notes\\.txt");
        // deflate deflates every non-empty file, store stores all
        Files.delete(r.zip());
        assertThat(methods(zip(FolderZip.Compression.DEFLATE, folder).zip()))
                .containsExactly("PHOTO2.JPG=8", "empty.txt=0", "movie.mp4=8", "noext=8", "notes.txt=8", "photo.jpg=8");
        Files.delete(tmp.resolve("ABCD.zip"));
        assertThat(methods(zip(FolderZip.Compression.STORE, folder).zip())).allMatch(s -> s.endsWith("=0"));
    }

    @Test
    void digestsAreThoseOfTheZipOnDiskAndEveryReaderAcceptsIt() throws Exception {
        Programs.need("unzip", "unzip");
        Programs.need("python3", "python3");
        Path folder = folder("ABCD");
        mixedContent(folder);
        for (FolderZip.Compression c : FolderZip.Compression.values()) {
            FolderZip.Result r = zip(c, folder);
            assertThat(r.zipBytes()).isEqualTo(Files.size(r.zip()));
            assertThat(Programs.ok(tmp, "md5sum", r.zip().toString()).text()).startsWith(r.md5Hex() + " ");
            assertThat(Programs.ok(tmp, "sha256sum", r.zip().toString()).text()).startsWith(r.sha256Hex() + " ");
            assertThat(Programs.ok(tmp, "unzip", "-t", r.zip().toString()).text())
                    .contains("No errors detected");
            assertThat(lines(Programs.ok(
                                    tmp, "python3", "-c", PYTHON_READ, r.zip().toString())
                            .output()))
                    .hasSize(r.files().size());
            assertEveryEntryReadsBack(folder, r);
            Files.delete(r.zip());
        }
    }

    @Test
    void largeFilesSpanManyChunksAndStoredOnesAboveTheHoldLimitAreCheckedTwice() throws Exception {
        Programs.need("unzip", "unzip");
        Path folder = folder("ABCD");
        write(folder.resolve("big.jpg"), Harness.bytes((int) FolderZip.HOLD_LIMIT + 123_457, 7));
        write(folder.resolve("held.jpg"), Harness.bytes(3 * DigestingOutput.CHUNK + 99, 8));
        write(folder.resolve("log.txt"), "a log line that repeats itself 0123456789\n".repeat(100_000));
        FolderZip.Result r = zip(FolderZip.Compression.AUTO, folder);
        assertThat(Programs.ok(tmp, "unzip", "-t", r.zip().toString()).text()).contains("No errors detected");
        assertThat(Programs.ok(tmp, "sha256sum", r.zip().toString()).text()).startsWith(r.sha256Hex() + " ");
        assertEveryEntryReadsBack(folder, r);
    }

    @Test
    void moreThan65535EntriesMakeAZip64Archive() throws Exception {
        Programs.need("unzip", "unzip");
        Programs.need("python3", "python3");
        // given 65,600 files in 100 directories, empty (they cost no disk blocks, so they are quick to
        // create and delete) but for the first of each directory
        Path folder = folder("MANY");
        int count = 65_600;
        for (int d = 0; d < 100; d++) {
            Path dir = Files.createDirectories(folder.resolve(String.format("d%03d", d)));
            for (int f = 0; f < count / 100; f++) {
                Files.write(dir.resolve(String.format("f%04d.txt", f)), f == 0 ? new byte[] {'x'} : new byte[0]);
            }
        }
        // when
        FolderZip.Result r = zip(FolderZip.Compression.AUTO, folder);
        // then the end of the archive is in Zip64 form and every reader sees every entry
        assertThat(r.totalFiles()).isEqualTo(count);
        byte[] zip = Files.readAllBytes(r.zip());
        assertThat(indexOf(zip, new byte[] {0x50, 0x4b, 0x06, 0x06})).isPositive();
        assertThat(Programs.ok(tmp, "unzip", "-tq", r.zip().toString()).text()).contains("No errors detected");
        assertThat(lines(Programs.ok(tmp, "unzip", "-Z1", r.zip().toString()).output()))
                .hasSize(count);
        assertThat(Programs.ok(
                                tmp,
                                "python3",
                                "-c",
                                "import sys,zipfile; print(len(zipfile.ZipFile(sys.argv[1]).infolist()))",
                                r.zip().toString())
                        .text()
                        .strip())
                .isEqualTo(String.valueOf(count));
        try (ZipFile zf = new ZipFile(r.zip().toFile())) {
            assertThat(zf.size()).isEqualTo(count);
        }
    }

    @Test
    void entriesInZip64FormAreReadByEveryReader() throws Exception {
        Programs.need("unzip", "unzip");
        Programs.need("python3", "python3");
        // given a small folder zipped with every entry, and the end, in Zip64 form (what a 4 GiB file gets)
        Path folder = folder("ABCD");
        mixedContent(folder);
        FolderZip z = new FolderZip(FolderZip.Compression.AUTO, ZONE, Clock.systemUTC(), true);
        FolderZip.Result r = z.zip(folder, tmp.resolve("z64.zip"), new CancelToken(), null);
        // then unzip, Python and Java read it, with its sizes taken from the Zip64 fields
        String test = Programs.ok(tmp, "unzip", "-t", r.zip().toString()).text();
        assertThat(test).contains("No errors detected");
        assertThat(lines(Programs.ok(tmp, "python3", "-c", PYTHON_READ, r.zip().toString())
                        .output()))
                .hasSize(r.files().size());
        // JDK 17's streaming ZipInputStream cannot take Zip64 data descriptors (fixed in later JDKs);
        // ZipFile, unzip and Python read them
        assertEveryEntryReadsBack(folder, r, false);
        Path out = Files.createDirectories(tmp.resolve("out"));
        Programs.ok(out, "unzip", "-q", r.zip().toString());
        assertThat(Files.readAllBytes(out.resolve("media/clip.mp4")))
                .isEqualTo(Files.readAllBytes(folder.resolve("media/clip.mp4")));
        assertThat(Files.readAllBytes(out.resolve("logs/app.log")))
                .isEqualTo(Files.readAllBytes(folder.resolve("logs/app.log")));
    }

    @Test
    void zip64FieldsOfAnEntryPast4GiB() {
        // given an entry of 5 GiB stored at offset 6 GiB
        long size = 5L << 30;
        long offset = 6L << 30;
        byte[] name = "v.mp4".getBytes(StandardCharsets.UTF_8);
        ZipRecords.Entry e = new ZipRecords.Entry(
                name,
                ZipRecords.FLAG_UTF8,
                ZipRecords.STORED,
                0x1234,
                0x5678,
                1_000_000_000L,
                0xCAFEBABEL,
                size,
                size,
                offset,
                true);
        // then the local header has 0xFFFFFFFF sizes and both sizes in its Zip64 field
        ByteBuffer local = le(ZipRecords.localHeader(e));
        assertThat(local.getInt(0)).isEqualTo(0x04034b50);
        assertThat(local.getShort(4)).isEqualTo((short) 45);
        assertThat(local.getInt(14)).isEqualTo(0xCAFEBABE);
        assertThat(local.getInt(18)).isEqualTo(-1);
        assertThat(local.getInt(22)).isEqualTo(-1);
        assertThat(local.getShort(28)).isEqualTo((short) (20 + 9));
        int x = 30 + name.length;
        assertThat(local.getShort(x)).isEqualTo((short) 1);
        assertThat(local.getShort(x + 2)).isEqualTo((short) 16);
        assertThat(local.getLong(x + 4)).isEqualTo(size);
        assertThat(local.getLong(x + 12)).isEqualTo(size);
        assertThat(local.getShort(x + 20)).isEqualTo((short) 0x5455);
        assertThat(local.getInt(x + 25)).isEqualTo(1_000_000_000);
        // and the central header has size, compressed size and offset there, in that order
        ByteBuffer central = le(ZipRecords.centralHeader(e));
        assertThat(central.getInt(0)).isEqualTo(0x02014b50);
        assertThat(central.getShort(4)).isEqualTo((short) 0x032d);
        assertThat(central.getInt(20)).isEqualTo(-1);
        assertThat(central.getInt(24)).isEqualTo(-1);
        assertThat(central.getInt(38)).isEqualTo(0100644 << 16);
        assertThat(central.getInt(42)).isEqualTo(-1);
        int c = 46 + name.length;
        assertThat(central.getShort(c)).isEqualTo((short) 1);
        assertThat(central.getShort(c + 2)).isEqualTo((short) 24);
        assertThat(central.getLong(c + 4)).isEqualTo(size);
        assertThat(central.getLong(c + 12)).isEqualTo(size);
        assertThat(central.getLong(c + 20)).isEqualTo(offset);
        // a deflated Zip64 entry: zeros in the local Zip64 field, 8-byte sizes in its descriptor
        ZipRecords.Entry d = new ZipRecords.Entry(
                name,
                ZipRecords.FLAG_DESCRIPTOR,
                ZipRecords.DEFLATED,
                0,
                0,
                ZipRecords.NO_MTIME,
                7,
                size - 1000,
                size,
                0,
                true);
        ByteBuffer dl = le(ZipRecords.localHeader(d));
        assertThat(dl.getInt(14)).isZero();
        assertThat(dl.getLong(30 + name.length + 4)).isZero();
        ByteBuffer dd = le(ZipRecords.dataDescriptor(d));
        assertThat(dd.capacity()).isEqualTo(24);
        assertThat(dd.getInt(0)).isEqualTo(0x08074b50);
        assertThat(dd.getLong(8)).isEqualTo(size - 1000);
        assertThat(dd.getLong(16)).isEqualTo(size);
        // an entry below 4 GiB at an offset below 4 GiB has no Zip64 field at all
        ZipRecords.Entry small =
                new ZipRecords.Entry(name, 0, ZipRecords.STORED, 0, 0, ZipRecords.NO_MTIME, 1, 10, 10, 100, false);
        assertThat(ZipRecords.centralHeader(small)).hasSize(46 + name.length);
        assertThat(ZipRecords.localHeader(small)).hasSize(30 + name.length);
    }

    @Test
    void theEndOfALargeArchiveIsInZip64Form() {
        // given 70,000 entries whose central directory starts past 4 GiB
        long entries = 70_000;
        long cdOffset = 5L << 30;
        long cdSize = 4_000_000;
        assertThat(ZipRecords.needsZip64End(entries, 10, 10)).isTrue();
        assertThat(ZipRecords.needsZip64End(10, cdOffset, 10)).isTrue();
        assertThat(ZipRecords.needsZip64End(65_534, 10, 10)).isFalse();
        ByteBuffer b = le(ZipRecords.end(entries, cdOffset, cdSize, true, false));
        assertThat(b.capacity()).isEqualTo(56 + 20 + 22);
        assertThat(b.getInt(0)).isEqualTo(0x06064b50);
        assertThat(b.getLong(4)).isEqualTo(44);
        assertThat(b.getLong(24)).isEqualTo(entries);
        assertThat(b.getLong(32)).isEqualTo(entries);
        assertThat(b.getLong(40)).isEqualTo(cdSize);
        assertThat(b.getLong(48)).isEqualTo(cdOffset);
        assertThat(b.getInt(56)).isEqualTo(0x07064b50);
        assertThat(b.getLong(64)).isEqualTo(cdOffset + cdSize);
        assertThat(b.getInt(72)).isEqualTo(1);
        assertThat(b.getInt(76)).isEqualTo(0x06054b50);
        assertThat(b.getShort(84)).isEqualTo((short) -1);
        assertThat(b.getInt(88)).isEqualTo(4_000_000);
        assertThat(b.getInt(92)).isEqualTo(-1);
        assertThat(ZipRecords.end(3, 100, 50, false, false)).hasSize(22);
    }

    @Test
    void cancelStopsTheWorkAndLeavesNoPartialZip() throws Exception {
        Path folder = folder("ABCD");
        write(folder.resolve("a.bin"), Harness.bytes(5 * DigestingOutput.CHUNK, 1));
        write(folder.resolve("b.bin"), Harness.bytes(5 * DigestingOutput.CHUNK, 2));
        CancelToken cancel = new CancelToken();
        AtomicLong read = new AtomicLong();
        FolderZip z = new FolderZip(FolderZip.Compression.DEFLATE, ZONE, Clock.systemUTC());
        Path zip = tmp.resolve("ABCD.zip");
        assertThatThrownBy(() -> z.zip(folder, zip, cancel, null, n -> {
                    if (read.addAndGet(n) > 2 * DigestingOutput.CHUNK) {
                        cancel.cancel();
                    }
                }))
                .isInstanceOfSatisfying(
                        FolderZip.Stopped.class, s -> assertThat(s.timedOut()).isFalse());
        assertThat(read.get()).isLessThan(5L * DigestingOutput.CHUNK);
        assertThat(Files.exists(zip)).isFalse();
        assertThat(tmp.toFile().list()).containsExactly("src");
    }

    @Test
    void aPassedDeadlineStopsTheWorkAndLeavesNoPartialZip() throws Exception {
        Path folder = folder("ABCD");
        write(folder.resolve("a.jpg"), Harness.bytes(40 * DigestingOutput.CHUNK, 1));
        Instant start = Instant.parse("2025-01-01T00:00:00Z");
        AtomicReference<Instant> now = new AtomicReference<>(start);
        Clock clock = new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now.get();
            }
        };
        FolderZip z = new FolderZip(FolderZip.Compression.AUTO, ZONE, clock);
        Path zip = tmp.resolve("ABCD.zip");
        // each MiB read "takes" a minute; the deadline is ten minutes away
        assertThatThrownBy(() -> z.zip(
                        folder,
                        zip,
                        new CancelToken(),
                        start.plusSeconds(600),
                        n -> now.set(now.get().plusSeconds(60))))
                .isInstanceOfSatisfying(
                        FolderZip.Stopped.class, s -> assertThat(s.timedOut()).isTrue());
        assertThat(Files.exists(zip)).isFalse();
    }

    @Test
    void aFileThatChangesWhileItIsZippedFailsTheZip() throws Exception {
        Path folder = folder("ABCD");
        Path growing = write(folder.resolve("growing.log"), Harness.bytes(3 * DigestingOutput.CHUNK, 1));
        FolderZip z = new FolderZip(FolderZip.Compression.DEFLATE, ZONE, Clock.systemUTC());
        Path zip = tmp.resolve("ABCD.zip");
        assertThatThrownBy(() -> z.zip(folder, zip, new CancelToken(), null, n -> {
                    try {
                        Files.write(growing, new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("growing.log: changed while it was being zipped");
        assertThat(Files.exists(zip)).isFalse();
    }

    @Test
    void anExistingFileIsNeverOverwritten() throws Exception {
        Path folder = folder("ABCD");
        write(folder.resolve("a.txt"), "a");
        Path zip = write(tmp.resolve("ABCD.zip"), "someone else's");
        FolderZip z = new FolderZip(FolderZip.Compression.AUTO, ZONE, Clock.systemUTC());
        assertThatThrownBy(() -> z.zip(folder, zip, new CancelToken(), null))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(zip)).isEqualTo("someone else's");
    }

    @Test
    void anotherFilesystemMountedInsideTheFolderIsNotZipped() throws Exception {
        Requirements.root("mounts a tmpfs");
        Path folder = folder("ABCD");
        write(folder.resolve("here.txt"), "here");
        mount = Files.createDirectories(folder.resolve("usb"));
        Programs.ok(tmp, "mount", "-t", "tmpfs", "-o", "size=4m", "custos-test", mount.toString());
        write(mount.resolve("there.txt"), "there");
        FolderZip.Result r = zip(FolderZip.Compression.AUTO, folder);
        assertThat(r.files()).containsExactly("here.txt");
        assertThat(r.skipped()).containsExactly("usb");
    }

    @Test
    void extensionsAndDosTimes() {
        assertThat(FolderZip.extension("a/b.c/IMG.JPG".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("jpg");
        assertThat(FolderZip.extension("a.b/noext".getBytes(StandardCharsets.UTF_8)))
                .isEmpty();
        assertThat(FolderZip.extension("x.".getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(FolderZip.Compression.parse("auto")).isEqualTo(FolderZip.Compression.AUTO);
        int dos = FolderZip.dosDateTime(Instant.parse("2020-03-04T05:06:07Z").getEpochSecond(), ZoneOffset.UTC);
        assertThat(dos >>> 25).isEqualTo(40);
        assertThat((dos >>> 21) & 0xf).isEqualTo(3);
        assertThat((dos >>> 16) & 0x1f).isEqualTo(4);
        assertThat((dos >>> 11) & 0x1f).isEqualTo(5);
        assertThat((dos >>> 5) & 0x3f).isEqualTo(6);
        assertThat(dos & 0x1f).isEqualTo(3);
    }

    // --- helpers

    private FolderZip.Result zip(FolderZip.Compression c, Path folder) throws IOException {
        FolderZip z = new FolderZip(c, ZONE, Clock.systemUTC());
        return z.zip(folder, tmp.resolve(folder.getFileName() + ".zip"), new CancelToken(), null);
    }

    private Path folder(String name) throws IOException {
        return Files.createDirectories(tmp.resolve("src").resolve(name));
    }

    /** Photos, a video, logs, an empty file, a name with spaces and accents, nested directories. */
    private static void mixedContent(Path folder) {
        write(folder.resolve("photos/2024/IMG_0001.jpg"), Harness.bytes(200_000, 1));
        write(folder.resolve("photos/2024/IMG_0002.JPG"), Harness.bytes(70_000, 2));
        write(folder.resolve("media/clip.mp4"), Harness.bytes(1_500_000, 3));
        write(folder.resolve("logs/app.log"), "2024-01-01 INFO something happened\n".repeat(60_000));
        write(folder.resolve("docs/notes été.txt"), "notes\n".repeat(1000));
        write(folder.resolve("empty"), "");
        mtime(folder.resolve("logs/app.log"), Instant.parse("2023-05-06T07:08:09Z"));
    }

    private static void assertEveryEntryReadsBack(Path folder, FolderZip.Result r) throws IOException {
        assertEveryEntryReadsBack(folder, r, true);
    }

    private static void assertEveryEntryReadsBack(Path folder, FolderZip.Result r, boolean streaming)
            throws IOException {
        try (ZipFile zf = new ZipFile(r.zip().toFile(), StandardCharsets.ISO_8859_1)) {
            List<String> names = new ArrayList<>();
            for (ZipEntry e : Collections.list(zf.entries())) {
                names.add(e.getName());
                try (InputStream in = zf.getInputStream(e)) {
                    assertThat(in.readAllBytes())
                            .as(e.getName())
                            .isEqualTo(Files.readAllBytes(folder.resolve(e.getName())));
                }
            }
            assertThat(names).containsExactlyElementsOf(r.files());
        }
        if (!streaming) {
            return;
        }
        // a streaming reader, which sees only the local headers (and checks each CRC-32), agrees
        try (java.util.zip.ZipInputStream zin =
                new java.util.zip.ZipInputStream(Files.newInputStream(r.zip()), StandardCharsets.ISO_8859_1)) {
            List<String> names = new ArrayList<>();
            ZipEntry e;
            while ((e = zin.getNextEntry()) != null) {
                names.add(e.getName());
                assertThat(zin.readAllBytes())
                        .as(e.getName())
                        .isEqualTo(Files.readAllBytes(folder.resolve(e.getName())));
            }
            assertThat(names).containsExactlyElementsOf(r.files());
        }
    }

    private static List<String> methods(Path zip) throws IOException {
        try (ZipFile zf = new ZipFile(zip.toFile())) {
            return Collections.list(zf.entries()).stream()
                    .map(e -> e.getName() + "=" + e.getMethod())
                    .toList();
        }
    }

    private static Path write(Path p, String content) {
        return write(p, content.getBytes(StandardCharsets.UTF_8));
    }

    private static Path write(Path p, byte[] content) {
        return Harness.write(p, content);
    }

    private static void mtime(Path p, Instant t) {
        Harness.mtime(p, FileTime.from(t));
    }

    private static List<byte[]> lines(byte[] output) {
        List<byte[]> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < output.length; i++) {
            if (output[i] == '\n') {
                out.add(Arrays.copyOfRange(output, start, i));
                start = i + 1;
            }
        }
        return out;
    }

    private static List<byte[]> utf8(List<String> names) {
        return names.stream().map(n -> n.getBytes(StandardCharsets.UTF_8)).toList();
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
