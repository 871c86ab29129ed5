package io.custos.scan;

import io.custos.fs.FileIdentity;
import io.custos.run.CancelToken;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * SHA-256 of files, in parallel: at most {@code workers} at once in all, and at most
 * {@code perDevice} on one block device, so that two disks are read together but one disk is
 * never thrashed. A file whose size or mtime changes while it is read is reported busy.
 */
public final class Hasher implements AutoCloseable {
    static final int CHUNK = 1 << 20;

    /** One file to hash; {@code tag} is the caller's. */
    public record Job(Path path, long size, long mtimeNs, long device, long inode, Object tag) {}

    /** The outcome of one job: exactly one of {@code sha256}, {@code busy}, {@code error} is set. */
    public record Result(Job job, byte[] sha256, String busy, String error, long bytesRead) {}

    private final int workers;
    private final int perDevice;
    private final CancelToken cancel;
    private final Semaphore global;
    private final Map<Long, ExecutorService> lanes = new HashMap<>();
    private final BlockingQueue<Result> results = new LinkedBlockingQueue<>();
    private final ThreadLocal<byte[]> buffers = ThreadLocal.withInitial(() -> new byte[CHUNK]);

    public Hasher(int workers, int perDevice, CancelToken cancel) {
        this.workers = workers <= 0 ? Runtime.getRuntime().availableProcessors() : workers;
        this.perDevice = Math.max(1, Math.min(perDevice, this.workers));
        this.cancel = cancel;
        this.global = new Semaphore(this.workers);
    }

    /** Queues jobs; their results arrive in {@link #results()} in completion order. */
    public void submit(List<Job> jobs) {
        for (Job job : jobs) {
            ExecutorService lane = lanes.computeIfAbsent(
                    job.device(),
                    d -> Executors.newFixedThreadPool(perDevice, r -> {
                        Thread t = new Thread(r, "custos-hash-" + d);
                        t.setDaemon(true);
                        return t;
                    }));
            lane.execute(() -> results.add(run(job)));
        }
    }

    public BlockingQueue<Result> results() {
        return results;
    }

    private Result run(Job job) {
        if (cancel.cancelled()) {
            return new Result(job, null, null, "cancelled", 0);
        }
        try {
            global.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(job, null, null, "cancelled", 0);
        }
        try {
            return hash(job);
        } finally {
            global.release();
        }
    }

    private Result hash(Job job) {
        MessageDigest md = sha256();
        byte[] buf = buffers.get();
        ByteBuffer bb = ByteBuffer.wrap(buf);
        long total = 0;
        try (FileChannel ch = FileChannel.open(job.path(), StandardOpenOption.READ)) {
            while (true) {
                if (cancel.cancelled()) {
                    return new Result(job, null, null, "cancelled", total);
                }
                bb.clear();
                int n = ch.read(bb);
                if (n < 0) {
                    break;
                }
                md.update(buf, 0, n);
                total += n;
            }
            FileIdentity after = FileIdentity.of(job.path());
            if (after.size() != job.size()
                    || after.mtimeNs() != job.mtimeNs()
                    || total != job.size()
                    || after.inode() != job.inode()) {
                return new Result(job, null, "changed while being read", null, total);
            }
        } catch (NoSuchFileException e) {
            return new Result(job, null, "disappeared while being read", null, total);
        } catch (IOException e) {
            return new Result(job, null, null, Walker.message(e), total);
        }
        return new Result(job, md.digest(), null, null, total);
    }

    /** A fresh SHA-256 digest. */
    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    @Override
    public void close() {
        for (ExecutorService lane : lanes.values()) {
            lane.shutdownNow();
        }
    }

    int workers() {
        return workers;
    }
}
