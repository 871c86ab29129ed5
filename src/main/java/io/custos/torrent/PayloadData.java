package io.custos.torrent;

import io.custos.fs.AtomicFiles;
import io.custos.fs.FileIdentity;
import io.custos.fs.RawPaths;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Putting a payload's files in place for rehome. A new place is built under a temp name beside
 * it and renamed into place once complete, so it never exists half-built: on one filesystem every
 * file is a hardlink of the source (no byte is copied and the source keeps its names until the
 * torrents are confirmed); across filesystems every file is copied with its SHA-256 computed on
 * the way and compared with the catalog's, synced, given the source's mtime and mode, and the
 * copy is checked for file count and bytes and, for a sample, read back and hashed again.
 */
final class PayloadData {
    private static final int BUFFER = 1 << 20;
    static final String TEMP_PREFIX = ".custos-rehome-";

    /** What building a place did: the files made, and the directories created around it. */
    static final class Built {
        final Path place;
        final Path temp;
        final List<Path> createdParents = new ArrayList<>();
        final List<Path> files = new ArrayList<>();
        boolean published;
        long bytesCopied;
        int filesCopied;
        int filesLinked;

        Built(Path place, Path temp) {
            this.place = place;
            this.temp = temp;
        }
    }

    private PayloadData() {}

    /**
     * Builds {@code place} (of {@code kind}) with the files of {@code from}: hardlinks when {@code
     * link}, verified copies otherwise. The place must not exist. {@code tag} names the temp.
     */
    static Built build(Payloads.Instance from, Path place, Payloads.Kind kind, boolean link, String tag, Built out)
            throws IOException {
        if (Files.exists(place, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(place + " exists already");
        }
        createParents(place.getParent(), out.createdParents);
        Path temp = out.temp;
        Files.deleteIfExists(temp); // a temp of this name is ours, left by a run that stopped
        if (kind == Payloads.Kind.DIR) {
            Files.createDirectory(temp);
        }
        for (Payloads.Entry e : from.entries()) {
            Path src = from.file(e.rel());
            Path dst = kind == Payloads.Kind.FILE ? temp : RawPaths.resolve(temp, e.rel());
            if (kind == Payloads.Kind.DIR) {
                Files.createDirectories(dst.getParent());
            }
            if (link) {
                Files.createLink(dst, src);
                FileIdentity s = FileIdentity.of(src);
                FileIdentity d = FileIdentity.of(dst);
                if (s.inode() != d.inode() || s.device() != d.device()) {
                    throw new IOException(dst + " is not a hardlink of " + src);
                }
                out.filesLinked++;
            } else {
                copy(src, dst, e);
                out.filesCopied++;
                out.bytesCopied += e.row().size();
            }
            out.files.add(kind == Payloads.Kind.FILE ? place : RawPaths.resolve(place, e.rel()));
        }
        return out;
    }

    /** The temp name of a place being built: beside it, so that publishing is a rename. */
    static Path tempFor(Path place, String tag) {
        return place.resolveSibling(TEMP_PREFIX + tag + "-" + place.getFileName());
    }

    /** Checks count and bytes of what was built in the temp, then renames it into place. */
    static void publish(Built b, Payloads.Kind kind, long files, long bytes) throws IOException {
        long[] found = count(b.temp, kind);
        if (found[0] != files || found[1] != bytes) {
            throw new IOException("the copy in " + b.temp + " has " + found[0] + " files and " + found[1]
                    + " bytes; the payload has " + files + " files and " + bytes + " bytes");
        }
        if (Files.exists(b.place, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(b.place + " appeared while it was being built");
        }
        Files.move(b.temp, b.place, StandardCopyOption.ATOMIC_MOVE);
        b.published = true;
        AtomicFiles.syncDirectory(b.place.getParent());
    }

    /**
     * Reads back up to {@code n} files of a published copy and compares their SHA-256 with the
     * catalog's: the largest file, then others chosen at random. Returns how many were read.
     */
    static int spotCheck(Payloads.Instance from, Path place, Payloads.Kind kind, int n) throws IOException {
        if (n <= 0 || from.entries().isEmpty()) {
            return 0;
        }
        List<Payloads.Entry> pick = new ArrayList<>(from.entries());
        Payloads.Entry largest =
                pick.stream().max(Comparator.comparingLong(e -> e.row().size())).orElseThrow();
        pick.remove(largest);
        java.util.Collections.shuffle(pick, new Random());
        pick.add(0, largest);
        int done = 0;
        for (Payloads.Entry e : pick.subList(0, Math.min(n, pick.size()))) {
            Path f = kind == Payloads.Kind.FILE ? place : RawPaths.resolve(place, e.rel());
            byte[] h = sha256(f);
            if (!Arrays.equals(h, e.row().sha256())) {
                throw new IOException("spot check: " + f + " does not hold the content the catalog records");
            }
            done++;
        }
        return done;
    }

    /**
     * Removes the payload's files from an instance and then its directories when empty; returns
     * what is left there: files that are not the payload's, and payload files whose size or mtime
     * changed since the scan (left alone).
     */
    static List<Path> remove(Payloads.Instance s) throws IOException {
        List<Path> left = new ArrayList<>();
        for (Payloads.Entry e : s.entries()) {
            Path f = s.file(e.rel());
            try {
                FileIdentity id = FileIdentity.of(f);
                if (id.kind() != FileIdentity.Kind.FILE
                        || id.size() != e.row().size()
                        || id.mtimeNs() != e.row().mtimeNs()) {
                    left.add(f);
                    continue;
                }
                Files.delete(f);
            } catch (NoSuchFileException x) {
                // gone already
            }
        }
        if (s.kind() == Payloads.Kind.DIR) {
            removeEmptyDirs(RawPaths.path(s.path()), left);
        }
        return left;
    }

    /** Removes what a build made (files, temp, the place when published, parents it created). */
    static void undo(Built b, Payloads.Kind kind) throws IOException {
        Path root = b.published ? b.place : b.temp;
        if (kind == Payloads.Kind.FILE) {
            Files.deleteIfExists(root);
        } else if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            List<Path> left = new ArrayList<>();
            for (Path f : b.files) {
                Path p = b.published ? f : b.temp.resolve(b.place.relativize(f));
                Files.deleteIfExists(p);
            }
            removeEmptyDirs(root, left);
            if (!left.isEmpty()) {
                throw new IOException(root + " holds files custos did not put there: " + left.get(0));
            }
        }
        for (Path p : b.createdParents) {
            try {
                Files.deleteIfExists(p);
            } catch (DirectoryNotEmptyException e) {
                // something else lives there now
            }
        }
    }

    /** Creates the missing directories above a place, remembering them deepest first. */
    private static void createParents(Path dir, List<Path> created) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path p = dir; p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
            missing.add(p);
        }
        for (int i = missing.size() - 1; i >= 0; i--) {
            Files.createDirectory(missing.get(i));
            created.add(0, missing.get(i));
        }
    }

    private static void removeEmptyDirs(Path root, List<Path> left) throws IOException {
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> dirs;
        try (var s = Files.walk(root)) {
            dirs = s.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : dirs) {
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.delete(p);
                } catch (DirectoryNotEmptyException e) {
                    // kept: something else is in it
                }
            } else if (!left.contains(p)) {
                left.add(p);
            }
        }
    }

    /** Regular files and their bytes under a place (the file itself for a single file). */
    private static long[] count(Path place, Payloads.Kind kind) throws IOException {
        if (kind == Payloads.Kind.FILE) {
            return new long[] {1, Files.size(place)};
        }
        long[] n = new long[2];
        try (var s = Files.walk(place)) {
            for (Path p : s.toList()) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    n[0]++;
                    n[1] += Files.size(p);
                }
            }
        }
        return n;
    }

    /** Copies one file, hashing what is read; the copy gets the source's mtime and mode, and is synced. */
    private static void copy(Path src, Path dst, Payloads.Entry e) throws IOException {
        MessageDigest md = digest();
        PosixFileAttributes a = Files.readAttributes(src, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        try (InputStream in = Files.newInputStream(src);
                FileChannel out = FileChannel.open(dst, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] buf = new byte[BUFFER];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                while (bb.hasRemaining()) {
                    out.write(bb);
                }
            }
            out.force(true);
        }
        if (!Arrays.equals(md.digest(), e.row().sha256())) {
            throw new IOException(src + " does not hold the content the catalog records (changed or damaged since"
                    + " the scan): not copied");
        }
        Files.getFileAttributeView(dst, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setPermissions(a.permissions());
        Files.setLastModifiedTime(
                dst, FileTime.from(a.lastModifiedTime().to(TimeUnit.NANOSECONDS), TimeUnit.NANOSECONDS));
    }

    static byte[] sha256(Path f) throws IOException {
        MessageDigest md = digest();
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[BUFFER];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return md.digest();
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
