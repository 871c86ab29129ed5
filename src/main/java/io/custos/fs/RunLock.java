package io.custos.fs;

import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * One run at a time per parity root. The kernel's lock on {@code _db/run.lock} goes away with the
 * process, so a crashed run never leaves a stale lock; the file's text names the holder.
 */
public final class RunLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock or throws exit 3 naming the holder. */
    public static RunLock acquire(Path lockFile, String command, String host, Instant now) {
        FileChannel ch;
        try {
            Files.createDirectories(lockFile.getParent());
            ch = FileChannel.open(
                    lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw CustosException.environment("cannot open the lock file " + lockFile + ": " + e.getMessage(), e);
        }
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            closeQuietly(ch);
            throw CustosException.environment("cannot lock " + lockFile + ": " + e.getMessage(), e);
        }
        if (lock == null) {
            String holder = readHolder(ch);
            closeQuietly(ch);
            throw new CustosException(
                    ExitCode.LOCKED,
                    "another custos run holds the lock " + lockFile + (holder.isEmpty() ? "" : " (" + holder + ")"));
        }
        try {
            String text = "pid=" + ProcessHandle.current().pid() + " host=" + host + " command=" + command + " started="
                    + now + "\n";
            ch.truncate(0);
            // Not fsynced: the kernel's lock is what excludes; this text only names the holder.
            ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
        } catch (IOException e) {
            // The lock is held; the holder text is only informative.
        }
        return new RunLock(ch, lock);
    }

    private static String readHolder(FileChannel ch) {
        try {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            ch.read(buf, 0);
            return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "";
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    @Override
    public void close() {
        try {
            channel.truncate(0);
        } catch (IOException e) {
            // the lock is released below either way
        }
        try {
            lock.release();
        } catch (IOException e) {
            // closing the channel releases it too
        }
        closeQuietly(channel);
    }
}
