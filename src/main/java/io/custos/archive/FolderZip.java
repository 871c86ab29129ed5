package io.custos.archive;

import io.custos.fs.FileIdentity;
import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Zips one folder (typically inside a read-only snapshot) into one file, the way the archive job
 * needs it: every regular file below the folder as an entry, sorted by the raw bytes of its
 * relative path; symlinks, devices, sockets, FIFOs and other filesystems skipped; file mtimes
 * kept; Zip64 where needed; the same files always giving the same bytes. MD5 and SHA-256 of the
 * zip are computed while it is written. The zip is then read back and every entry's CRC-32
 * checked. A cancel, a passed deadline or any error deletes the partial zip.
 *
 * <p>Directories are not stored as entries (an empty directory is not in the zip).
 */
public final class FolderZip {
    /** Stored entries up to this size are read once: their data is held in memory until the CRC is known. */
    static final long HOLD_LIMIT = 32L << 20;

    private static final int DEFLATE_LEVEL = 6;
    private static final int CHUNKS = (int) (HOLD_LIMIT / DigestingOutput.CHUNK) + 8;

    /**
     * File extensions (lower case) that {@link Compression#AUTO} stores: formats whose content is
     * always compressed already, so deflating them costs time and saves next to nothing.
     */
    public static final Set<String> STORED_EXTENSIONS = Set.of(
            // images
            "jpg",
            "jpeg",
            "jpe",
            "png",
            "gif",
            "webp",
            "heic",
            "heif",
            "avif",
            "jxl",
            "jp2",
            // video
            "mp4",
            "m4v",
            "mov",
            "mkv",
            "avi",
            "webm",
            "wmv",
            "flv",
            "mpg",
            "mpeg",
            "m2ts",
            "mts",
            "3gp",
            "ogv",
            // audio
            "mp3",
            "m4a",
            "m4b",
            "aac",
            "flac",
            "ogg",
            "oga",
            "opus",
            "wma",
            // archives and compressed data
            "zip",
            "7z",
            "rar",
            "gz",
            "tgz",
            "bz2",
            "tbz2",
            "xz",
            "txz",
            "zst",
            "lz4",
            "lzma",
            "br",
            "cab",
            // formats that are zip files inside
            "docx",
            "xlsx",
            "pptx",
            "odt",
            "ods",
            "odp",
            "epub",
            "jar",
            "apk",
            "cbz",
            // compressed fonts
            "woff",
            "woff2");

    /** How entries are compressed: {@code deflate}, {@code store}, or {@code auto} (by extension). */
    public enum Compression {
        DEFLATE,
        STORE,
        AUTO;

        /** From the configuration's word ({@code deflate}, {@code store}, {@code auto}). */
        public static Compression parse(String word) {
            return valueOf(word.trim().toUpperCase(Locale.ROOT));
        }

        boolean deflates(byte[] name, long size) {
            if (size == 0) {
                return false; // an empty entry is stored: deflate would only add two bytes
            }
            return switch (this) {
                case DEFLATE -> true;
                case STORE -> false;
                case AUTO -> !STORED_EXTENSIONS.contains(extension(name));
            };
        }
    }

    /**
     * A finished zip. {@code files} are the entries' relative paths in zip order, as display text
     * ({@link RawPaths#display}); {@code skipped} the symlinks, devices, sockets, FIFOs and mount
     * points found below the folder and not zipped; {@code totalBytes} the files' uncompressed size.
     */
    public record Result(
            Path zip,
            List<String> files,
            long totalFiles,
            long totalBytes,
            String md5Hex,
            String sha256Hex,
            long zipBytes,
            List<String> skipped) {}

    /** The work was stopped on purpose: cancelled, or past its deadline. The partial zip is gone. */
    public static final class Stopped extends IOException {
        private static final long serialVersionUID = 1L;
        private final boolean timedOut;

        Stopped(boolean timedOut) {
            super(timedOut ? "timed out" : "cancelled");
            this.timedOut = timedOut;
        }

        /** True when the deadline passed; false when cancelled. */
        public boolean timedOut() {
            return timedOut;
        }
    }

    /** A regular file to zip: raw relative path and what lstat said when the folder was listed. */
    private record Item(byte[] name, Path path, long size, long mtimeNs) {}

    private record Listing(List<Item> files, List<byte[]> skipped) {}

    private final Compression compression;
    private final ZoneId zone;
    private final Clock clock;
    private final boolean forceZip64;

    /**
     * {@code zone} is the time zone of the entries' DOS times (the extended timestamp is UTC), so it
     * is part of what makes the output deterministic; {@code clock} is what deadlines are checked
     * against.
     */
    public FolderZip(Compression compression, ZoneId zone, Clock clock) {
        this(compression, zone, clock, false);
    }

    /** {@code forceZip64}: every entry and the end of the archive in Zip64 form (tests of small archives). */
    FolderZip(Compression compression, ZoneId zone, Clock clock, boolean forceZip64) {
        this.compression = compression;
        this.zone = zone;
        this.clock = clock;
        this.forceZip64 = forceZip64;
    }

    /** {@link #zip(Path, Path, CancelToken, Instant, LongConsumer)} without progress reports. */
    public Result zip(Path folder, Path zipFile, CancelToken cancel, Instant deadline) throws IOException {
        return zip(folder, zipFile, cancel, deadline, n -> {});
    }

    /**
     * Zips {@code folder} into {@code zipFile}, which must not exist yet (it is created with mode
     * 0600; the publisher gives it its final mode), then test-reads it. {@code deadline} may be
     * null. {@code progress} gets the number of file bytes read, a chunk at a time.
     *
     * @throws Stopped when cancelled or past the deadline
     * @throws IOException when a file cannot be read, changes while it is zipped, or the zip
     *     cannot be written or does not read back; in every case no partial zip is left
     */
    public Result zip(Path folder, Path zipFile, CancelToken cancel, Instant deadline, LongConsumer progress)
            throws IOException {
        DigestingOutput.Checkpoint checkpoint = () -> {
            if (cancel.cancelled()) {
                throw new Stopped(false);
            }
            if (deadline != null && !clock.instant().isBefore(deadline)) {
                throw new Stopped(true);
            }
        };
        Listing listing = list(folder, checkpoint);
        boolean created = false;
        try {
            List<ZipRecords.Entry> entries = new ArrayList<>(listing.files().size());
            DigestingOutput.Digests digests;
            long zipBytes;
            try (FileChannel ch = FileChannel.open(
                    zipFile,
                    Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                created = true;
                try (DigestingOutput out = new DigestingOutput(ch, CHUNKS, checkpoint)) {
                    Deflater deflater = new Deflater(DEFLATE_LEVEL, true);
                    try {
                        byte[] input = new byte[DigestingOutput.CHUNK];
                        for (Item item : listing.files()) {
                            checkpoint.check();
                            entries.add(writeEntry(item, out, deflater, input, checkpoint, progress));
                        }
                    } finally {
                        deflater.end();
                    }
                    long centralOffset = out.position();
                    for (ZipRecords.Entry e : entries) {
                        out.put(ZipRecords.centralHeader(e));
                    }
                    long centralSize = out.position() - centralOffset;
                    boolean zip64 = forceZip64 || ZipRecords.needsZip64End(entries.size(), centralOffset, centralSize);
                    out.put(ZipRecords.end(entries.size(), centralOffset, centralSize, zip64, forceZip64));
                    zipBytes = out.position();
                    digests = out.finish();
                }
            }
            testRead(zipFile, entries, checkpoint);
            List<String> files = new ArrayList<>(entries.size());
            long totalBytes = 0;
            for (Item item : listing.files()) {
                files.add(RawPaths.display(item.name()));
                totalBytes += item.size();
            }
            List<String> skipped = new ArrayList<>(listing.skipped().size());
            for (byte[] s : listing.skipped()) {
                skipped.add(RawPaths.display(s));
            }
            return new Result(
                    zipFile,
                    List.copyOf(files),
                    files.size(),
                    totalBytes,
                    HexFormat.of().formatHex(digests.md5()),
                    HexFormat.of().formatHex(digests.sha256()),
                    zipBytes,
                    List.copyOf(skipped));
        } catch (IOException | RuntimeException | Error e) {
            if (created) {
                try {
                    Files.deleteIfExists(zipFile);
                } catch (IOException d) {
                    e.addSuppressed(d);
                }
            }
            throw e;
        }
    }

    /** The extension of the last name component, lower case ASCII; "" when there is none. */
    static String extension(byte[] path) {
        int dot = -1;
        for (int i = path.length - 1; i >= 0 && path[i] != '/'; i--) {
            if (path[i] == '.') {
                dot = i;
                break;
            }
        }
        if (dot < 0 || dot == path.length - 1) {
            return "";
        }
        byte[] ext = Arrays.copyOfRange(path, dot + 1, path.length);
        for (int i = 0; i < ext.length; i++) {
            if (ext[i] >= 'A' && ext[i] <= 'Z') {
                ext[i] += 'a' - 'A';
            }
        }
        return new String(ext, StandardCharsets.ISO_8859_1);
    }

    /** DOS date (high 16 bits) and time (low 16 bits) of an instant in {@code zone}, clamped to 1980–2107. */
    static int dosDateTime(long epochSecond, ZoneId zone) {
        Instant instant = Instant.ofEpochSecond(epochSecond);
        LocalDateTime t = LocalDateTime.ofInstant(instant, zone);
        if (t.getYear() < 1980) {
            return (1 << 21) | (1 << 16); // 1980-01-01 00:00:00
        }
        if (t.getYear() > 2107) {
            return (127 << 25) | (12 << 21) | (31 << 16) | (23 << 11) | (59 << 5) | 29;
        }
        return ((t.getYear() - 1980) << 25)
                | (t.getMonthValue() << 21)
                | (t.getDayOfMonth() << 16)
                | (t.getHour() << 11)
                | (t.getMinute() << 5)
                | (t.getSecond() >> 1);
    }

    private Listing list(Path folder, DigestingOutput.Checkpoint checkpoint) throws IOException {
        FileIdentity top = FileIdentity.of(folder);
        if (top.kind() != FileIdentity.Kind.DIRECTORY) {
            throw new NotDirectoryException(folder.toString());
        }
        byte[] rootBytes = RawPaths.bytes(folder);
        int prefix = rootBytes.length + (rootBytes[rootBytes.length - 1] == '/' ? 0 : 1);
        List<Item> files = new ArrayList<>();
        List<byte[]> skipped = new ArrayList<>();
        ArrayDeque<Path> dirs = new ArrayDeque<>();
        dirs.push(folder);
        while (!dirs.isEmpty()) {
            checkpoint.check();
            Path dir = dirs.pop();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path child : ds) {
                    byte[] full = RawPaths.bytes(child);
                    byte[] rel = Arrays.copyOfRange(full, prefix, full.length);
                    FileIdentity id;
                    try {
                        id = FileIdentity.of(child);
                    } catch (NoSuchFileException e) {
                        continue; // gone between listing and stat
                    }
                    switch (id.kind()) {
                        case FILE -> files.add(new Item(rel, child, id.size(), id.mtimeNs()));
                        case DIRECTORY -> {
                            if (id.device() == top.device()) {
                                dirs.push(child);
                            } else {
                                skipped.add(rel); // a mount point: another filesystem is not zipped
                            }
                        }
                        default -> skipped.add(rel); // symlinks, sockets, FIFOs, devices
                    }
                }
            } catch (java.nio.file.DirectoryIteratorException e) {
                throw e.getCause();
            }
        }
        files.sort((a, b) -> RawPaths.compare(a.name(), b.name()));
        skipped.sort(RawPaths::compare);
        return new Listing(files, skipped);
    }

    private ZipRecords.Entry writeEntry(
            Item item,
            DigestingOutput out,
            Deflater deflater,
            byte[] input,
            DigestingOutput.Checkpoint checkpoint,
            LongConsumer progress)
            throws IOException {
        boolean deflate = compression.deflates(item.name(), item.size());
        long mtime = Math.floorDiv(item.mtimeNs(), 1_000_000_000L);
        int dos = dosDateTime(mtime, zone);
        int flags = (validUtf8(item.name()) ? ZipRecords.FLAG_UTF8 : 0) | (deflate ? ZipRecords.FLAG_DESCRIPTOR : 0);
        boolean zip64 = forceZip64 || (deflate ? deflateBound(item.size()) : item.size()) >= ZipRecords.MAX32;
        ZipRecords.Entry header = new ZipRecords.Entry(
                item.name(),
                flags,
                deflate ? ZipRecords.DEFLATED : ZipRecords.STORED,
                dos & 0xFFFF,
                dos >>> 16,
                mtime == (int) mtime ? mtime : ZipRecords.NO_MTIME,
                0,
                deflate ? 0 : item.size(),
                deflate ? 0 : item.size(),
                out.position(),
                zip64);
        try (FileChannel in = FileChannel.open(item.path(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            ZipRecords.Entry done;
            if (deflate) {
                done = writeDeflated(header, item, in, out, deflater, input, checkpoint, progress);
            } else if (item.size() <= HOLD_LIMIT) {
                done = writeStoredHeld(header, item, in, out, checkpoint, progress);
            } else {
                done = writeStoredTwoPass(header, item, in, out, input, checkpoint, progress);
            }
            unchanged(item);
            return done;
        }
    }

    /** A small stored entry: header held back, data read once into the output, CRC patched in. */
    private static ZipRecords.Entry writeStoredHeld(
            ZipRecords.Entry header,
            Item item,
            FileChannel in,
            DigestingOutput out,
            DigestingOutput.Checkpoint checkpoint,
            LongConsumer progress)
            throws IOException {
        out.hold();
        out.put(ZipRecords.localHeader(header));
        CRC32 crc = new CRC32();
        copy(item, in, out, crc, checkpoint, progress);
        out.patch(
                header.offset() + ZipRecords.LOCAL_CRC_OFFSET,
                ByteBuffer.allocate(4)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                        .putInt((int) crc.getValue())
                        .array());
        out.release();
        return header.with(crc.getValue(), item.size(), item.size());
    }

    /** A large stored entry: a first pass for the CRC, then the copy, which must give the same CRC. */
    private static ZipRecords.Entry writeStoredTwoPass(
            ZipRecords.Entry header,
            Item item,
            FileChannel in,
            DigestingOutput out,
            byte[] input,
            DigestingOutput.Checkpoint checkpoint,
            LongConsumer progress)
            throws IOException {
        CRC32 first = new CRC32();
        long total = 0;
        ByteBuffer buf = ByteBuffer.wrap(input);
        while (true) {
            checkpoint.check();
            buf.clear();
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            first.update(input, 0, n);
            total += n;
        }
        if (total != item.size()) {
            throw changed(item);
        }
        in.position(0);
        ZipRecords.Entry entry = header.with(first.getValue(), item.size(), item.size());
        out.put(ZipRecords.localHeader(entry));
        CRC32 second = new CRC32();
        copy(item, in, out, second, checkpoint, progress);
        if (second.getValue() != first.getValue()) {
            throw changed(item);
        }
        return entry;
    }

    /** Copies exactly the listed size of {@code in} into the output; a longer or shorter file is an error. */
    private static void copy(
            Item item,
            FileChannel in,
            DigestingOutput out,
            CRC32 crc,
            DigestingOutput.Checkpoint checkpoint,
            LongConsumer progress)
            throws IOException {
        long left = item.size();
        while (left > 0) {
            checkpoint.check();
            int n = out.readFrom(in, left, crc);
            if (n < 0) {
                throw changed(item);
            }
            left -= n;
            progress.accept(n);
        }
        if (in.size() != item.size()) {
            throw changed(item);
        }
    }

    private static ZipRecords.Entry writeDeflated(
            ZipRecords.Entry header,
            Item item,
            FileChannel in,
            DigestingOutput out,
            Deflater deflater,
            byte[] input,
            DigestingOutput.Checkpoint checkpoint,
            LongConsumer progress)
            throws IOException {
        out.put(ZipRecords.localHeader(header));
        long dataStart = out.position();
        deflater.reset();
        CRC32 crc = new CRC32();
        long total = 0;
        ByteBuffer buf = ByteBuffer.wrap(input);
        while (true) {
            checkpoint.check();
            buf.clear();
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            total += n;
            if (total > item.size()) {
                throw changed(item);
            }
            crc.update(input, 0, n);
            deflater.setInput(input, 0, n);
            while (!deflater.needsInput()) {
                out.deflate(deflater);
            }
            progress.accept(n);
        }
        if (total != item.size()) {
            throw changed(item);
        }
        deflater.finish();
        while (!deflater.finished()) {
            out.deflate(deflater);
        }
        ZipRecords.Entry entry = header.with(crc.getValue(), out.position() - dataStart, total);
        out.put(ZipRecords.dataDescriptor(entry));
        return entry;
    }

    /** Fails when the file's size or mtime differ from the listing's: it changed while it was zipped. */
    private static void unchanged(Item item) throws IOException {
        FileIdentity now = FileIdentity.of(item.path());
        if (now.size() != item.size() || now.mtimeNs() != item.mtimeNs()) {
            throw changed(item);
        }
    }

    private static IOException changed(Item item) {
        return new IOException(RawPaths.display(item.name()) + ": changed while it was being zipped");
    }

    /** zlib's worst case for raw deflate output of {@code n} bytes, with room to spare. */
    static long deflateBound(long n) {
        return n + (n >> 12) + (n >> 14) + (n >> 25) + 64;
    }

    static boolean validUtf8(byte[] name) {
        try {
            StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(name));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /**
     * Reads every entry back through {@link ZipFile} and checks count, order, names, sizes and the
     * CRC-32 of the data read (ZipFile itself does not check CRCs). Names that are not UTF-8 come
     * back as ISO-8859-1, one char per byte, which is why the file is opened with that charset.
     */
    static void testRead(Path zipFile, List<ZipRecords.Entry> entries, DigestingOutput.Checkpoint checkpoint)
            throws IOException {
        try (ZipFile zf = new ZipFile(zipFile.toFile(), StandardCharsets.ISO_8859_1)) {
            if (zf.size() != entries.size()) {
                throw new ZipException("test read: " + zf.size() + " entries, expected " + entries.size());
            }
            byte[] buf = new byte[1 << 16];
            Enumeration<? extends ZipEntry> en = zf.entries();
            for (ZipRecords.Entry e : entries) {
                checkpoint.check();
                ZipEntry ze = en.nextElement();
                byte[] name = e.name();
                String expected = new String(
                        name,
                        (e.flags() & ZipRecords.FLAG_UTF8) != 0 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
                String what = "test read of " + RawPaths.display(name) + ": ";
                if (!ze.getName().equals(expected)) {
                    throw new ZipException(what + "entry found is " + ze.getName());
                }
                if (ze.getSize() != e.size()
                        || ze.getCompressedSize() != e.compressedSize()
                        || ze.getCrc() != e.crc()) {
                    throw new ZipException(what + "central directory does not match what was written");
                }
                CRC32 crc = new CRC32();
                long total = 0;
                long sinceCheck = 0;
                try (InputStream is = zf.getInputStream(ze)) {
                    int n;
                    while ((n = is.read(buf)) > 0) {
                        crc.update(buf, 0, n);
                        total += n;
                        sinceCheck += n;
                        if (sinceCheck >= DigestingOutput.CHUNK) {
                            checkpoint.check();
                            sinceCheck = 0;
                        }
                    }
                }
                if (total != e.size() || crc.getValue() != e.crc()) {
                    throw new ZipException(what + "CRC-32 or size of the data read back is wrong");
                }
            }
        }
    }
}
