package io.custos.dedup;

import io.custos.scan.Hasher;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.concurrent.atomic.AtomicLong;

/** Reading files to prove that two are equal: byte by byte, or by hashing each. Counts what it reads. */
final class ContentCheck {
    private static final int CHUNK = 1 << 20;

    private final AtomicLong bytesRead = new AtomicLong();
    private final ThreadLocal<ByteBuffer[]> buffers =
            ThreadLocal.withInitial(() -> new ByteBuffer[] {ByteBuffer.allocate(CHUNK), ByteBuffer.allocate(CHUNK)});

    long bytesRead() {
        return bytesRead.get();
    }

    /** The SHA-256 of a file's bytes. */
    byte[] sha256(Path file) throws IOException {
        MessageDigest md = Hasher.sha256();
        ByteBuffer buf = buffers.get()[0];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (true) {
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    break;
                }
                bytesRead.addAndGet(n);
                md.update(buf.array(), 0, n);
            }
        }
        return md.digest();
    }

    /** True when both files hold exactly the same bytes; stops at the first difference. */
    boolean sameBytes(Path a, Path b) throws IOException {
        ByteBuffer[] bufs = buffers.get();
        try (FileChannel ca = FileChannel.open(a, StandardOpenOption.READ);
                FileChannel cb = FileChannel.open(b, StandardOpenOption.READ)) {
            if (ca.size() != cb.size()) {
                return false;
            }
            while (true) {
                int na = fill(ca, bufs[0]);
                int nb = fill(cb, bufs[1]);
                bytesRead.addAndGet((long) Math.max(na, 0) + Math.max(nb, 0));
                if (na != nb) {
                    return false;
                }
                if (na <= 0) {
                    return true;
                }
                if (bufs[0].flip().mismatch(bufs[1].flip()) >= 0) {
                    return false;
                }
            }
        }
    }

    /** Reads until the buffer is full or the file ends; -1 at the end. */
    private static int fill(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.clear();
        int total = 0;
        while (buf.hasRemaining()) {
            int n = ch.read(buf);
            if (n < 0) {
                return total == 0 ? -1 : total;
            }
            total += n;
        }
        return total;
    }
}
