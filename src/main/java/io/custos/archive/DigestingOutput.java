package io.custos.archive;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * The bytes of a zip on their way to disk. They are gathered in 1 MiB chunks; a full chunk is
 * written to the file and then handed to two threads, one computing MD5 and one SHA-256, in the
 * order of the file, so the digests are of exactly the bytes written and need no second read.
 *
 * <p>Bytes can be held back ({@link #hold}) and changed ({@link #patch}) until {@link #release}:
 * a stored entry's local header needs the CRC-32 of data that comes after it, and a held header is
 * neither written nor hashed before it is final. Chunks come from a bounded pool and return to it
 * when both digests are done with them, so a slow digest slows the writer down instead of filling
 * memory.
 */
final class DigestingOutput implements AutoCloseable {
    static final int CHUNK = 1 << 20;

    /** Called while waiting and between chunks: throws to stop the work (cancel, deadline). */
    interface Checkpoint {
        void check() throws IOException;
    }

    /** MD5 and SHA-256 of everything written. */
    record Digests(byte[] md5, byte[] sha256) {}

    private static final class Chunk {
        final byte[] buf;
        final AtomicInteger users = new AtomicInteger();
        long start;
        int len;

        Chunk(int size) {
            buf = new byte[size];
        }
    }

    private static final Chunk END = new Chunk(0);

    private final FileChannel channel;
    private final Checkpoint checkpoint;
    private final int maxChunks;
    private final BlockingQueue<Chunk> free = new LinkedBlockingQueue<>();
    private final ArrayDeque<Chunk> held = new ArrayDeque<>();
    private final Digest md5;
    private final Digest sha256;
    private int allocated;
    private boolean holding;
    private Chunk current;
    private long position;
    private boolean finished;

    /** {@code maxChunks} bounds memory; it must exceed the bytes ever held at once by two chunks. */
    DigestingOutput(FileChannel channel, int maxChunks, Checkpoint checkpoint) throws IOException {
        this.channel = channel;
        this.checkpoint = checkpoint;
        this.maxChunks = Math.max(4, maxChunks);
        this.md5 = new Digest("MD5");
        this.sha256 = new Digest("SHA-256");
        md5.thread.start();
        sha256.thread.start();
        current = take();
    }

    /** Bytes put so far: the offset in the file of the next byte. */
    long position() {
        return position;
    }

    void put(byte[] bytes) throws IOException {
        int off = 0;
        while (off < bytes.length) {
            int n = Math.min(bytes.length - off, CHUNK - current.len);
            System.arraycopy(bytes, off, current.buf, current.len, n);
            advance(n);
            off += n;
        }
    }

    /**
     * Reads up to {@code max} bytes of {@code in} straight into the output and adds them to
     * {@code crc}. Returns the count, or -1 at the end of {@code in}.
     */
    int readFrom(ReadableByteChannel in, long max, CRC32 crc) throws IOException {
        int want = (int) Math.min(CHUNK - current.len, max);
        int n = in.read(ByteBuffer.wrap(current.buf, current.len, want));
        if (n > 0) {
            crc.update(current.buf, current.len, n);
            advance(n);
        }
        return n;
    }

    /** One call of {@link Deflater#deflate} into the output; returns the bytes it produced. */
    int deflate(Deflater deflater) throws IOException {
        int n = deflater.deflate(current.buf, current.len, CHUNK - current.len, Deflater.NO_FLUSH);
        advance(n);
        return n;
    }

    /** From here on, nothing is written or hashed until {@link #release}. */
    void hold() {
        if (holding) {
            throw new IllegalStateException("already holding");
        }
        holding = true;
    }

    /** Overwrites bytes put since {@link #hold} at file offset {@code at}. */
    void patch(long at, byte[] bytes) {
        if (!holding) {
            throw new IllegalStateException("patch without hold");
        }
        for (int i = 0; i < bytes.length; i++) {
            long p = at + i;
            Chunk c = chunkAt(p);
            c.buf[(int) (p - c.start)] = bytes[i];
        }
    }

    /** Writes and hashes what was held. */
    void release() throws IOException {
        holding = false;
        while (!held.isEmpty()) {
            flush(held.poll());
        }
    }

    /** Writes the rest and waits for the digests. The output is unusable afterwards. */
    Digests finish() throws IOException {
        release();
        if (current.len > 0) {
            flush(current);
        }
        current = null;
        finished = true;
        md5.queue.add(END);
        sha256.queue.add(END);
        try {
            md5.thread.join();
            sha256.thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while finishing the digests");
        }
        md5.rethrow();
        sha256.rethrow();
        return new Digests(md5.digest.digest(), sha256.digest.digest());
    }

    /** Stops the digest threads when the output was not finished (an error or a stop). */
    @Override
    public void close() {
        if (!finished) {
            finished = true;
            md5.thread.interrupt();
            sha256.thread.interrupt();
            try {
                md5.thread.join();
                sha256.thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        free.clear();
        held.clear();
    }

    private Chunk chunkAt(long p) {
        for (Chunk c : held) {
            if (p >= c.start && p < c.start + c.len) {
                return c;
            }
        }
        if (p >= current.start && p < current.start + current.len) {
            return current;
        }
        throw new IllegalStateException("offset " + p + " is not held any more");
    }

    private void advance(int n) throws IOException {
        current.len += n;
        position += n;
        if (current.len == CHUNK) {
            if (holding) {
                held.add(current);
            } else {
                flush(current);
            }
            current = take();
        }
    }

    private void flush(Chunk c) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(c.buf, 0, c.len);
        while (b.hasRemaining()) {
            channel.write(b);
        }
        c.users.set(2);
        md5.queue.add(c);
        sha256.queue.add(c);
    }

    private Chunk take() throws IOException {
        Chunk c = free.poll();
        if (c == null && allocated < maxChunks) {
            allocated++;
            c = new Chunk(CHUNK);
        }
        while (c == null) {
            checkpoint.check();
            md5.rethrow();
            sha256.rethrow();
            try {
                c = free.poll(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the digests");
            }
        }
        c.start = position;
        c.len = 0;
        return c;
    }

    private void done(Chunk c) {
        if (c.users.decrementAndGet() == 0) {
            free.add(c);
        }
    }

    /** One digest on its own thread, fed chunks in file order. */
    private final class Digest {
        final MessageDigest digest;
        final BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
        final Thread thread;
        volatile Throwable failure;

        Digest(String algorithm) {
            try {
                digest = MessageDigest.getInstance(algorithm);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(algorithm + " is part of every JDK", e);
            }
            thread = new Thread(this::run, "custos-zip-" + algorithm);
            thread.setDaemon(true);
        }

        private void run() {
            try {
                while (true) {
                    Chunk c = queue.take();
                    if (c == END) {
                        return;
                    }
                    digest.update(c.buf, 0, c.len);
                    done(c);
                }
            } catch (InterruptedException e) {
                // stopped by close()
            } catch (RuntimeException | Error e) {
                failure = e;
            }
        }

        void rethrow() throws IOException {
            Throwable t = failure;
            if (t != null) {
                throw new IOException("computing " + digest.getAlgorithm() + " failed", t);
            }
        }
    }
}
