package io.custos.archive;

import io.custos.fs.FileIdentity;
import io.custos.fs.RawPaths;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * What a folder holds, for change detection without {@code zfs diff}: the SHA-256 over its
 * regular files' sorted (relative path, size, mtime_ns). Symlinks, devices, sockets and FIFOs are
 * left out, as the zip leaves them out; nothing outside the folder is followed.
 */
public record FolderManifest(String sha256, long files, long bytes) {

    public static FolderManifest of(Path folder) throws IOException {
        List<Entry> entries = new ArrayList<>();
        collect(folder, new byte[0], entries);
        entries.sort((a, b) -> RawPaths.compare(a.path, b.path));
        MessageDigest md = newDigest();
        long bytes = 0;
        for (Entry e : entries) {
            md.update(ByteBuffer.allocate(4).putInt(e.path.length).array());
            md.update(e.path);
            md.update(ByteBuffer.allocate(16).putLong(e.size).putLong(e.mtimeNs).array());
            bytes += e.size;
        }
        return new FolderManifest(HexFormat.of().formatHex(md.digest()), entries.size(), bytes);
    }

    private record Entry(byte[] path, long size, long mtimeNs) {}

    private static void collect(Path dir, byte[] prefix, List<Entry> out) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                byte[] name = RawPaths.bytes(p.getFileName());
                byte[] rel = prefix.length == 0 ? name : join(prefix, name);
                FileIdentity id = FileIdentity.of(p);
                if (id.kind() == FileIdentity.Kind.FILE) {
                    out.add(new Entry(rel, id.size(), id.mtimeNs()));
                } else if (id.kind() == FileIdentity.Kind.DIRECTORY) {
                    collect(p, rel, out);
                }
            }
        }
    }

    private static byte[] join(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + 1 + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        out[a.length] = '/';
        System.arraycopy(b, 0, out, a.length + 1, b.length);
        return out;
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
