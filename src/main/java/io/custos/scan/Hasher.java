package io.custos.scan;

import io.custos.fs.FileIdentity;
import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * SHA-256 of files, in parallel: at most {@code workers} at once in all, and at most
 * {@code perDevice} on one block device, so that two disks are read together but one disk is
 * never thrashed. A file whose size, mtime or inode changes while it is read is reported busy.
 * Workers take jobs from the caller's list in order and hand results over through a bounded
 * queue, so a million files cost no more memory than their list.
 */
public final class Hasher implements AutoCloseable {
    static final int CHUNK = 1 << 20;
    private static final int QUEUE = 4096;

    /** One file to hash: {@code root} joined with the entry's relative path; {@code tag} is the caller's. */
    public record Job(Path root, WalkEntry entry, Object tag) {
        Path path() {
            return RawPaths.resolve(root, entry.path());
        }
    }

    /** The outcome of one job: exactly one of {@code sha256}, {@code busy}, {@code error} is set. */
    public record Result(Job job, byte[] sha256, String busy, String error, long bytesRead) {}

    private final int workers;
    private final int perDevice;
    private final CancelToken cancel;
    private final Semaphore global;
    private final BlockingQueue<Result> results = new ArrayBlockingQueue<>(QUEUE);
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean closed;

    public Hasher(int workers, int perDevice, CancelToken cancel) {
        this.workers = workers <= 0 ? Runtime.getRuntime().availableProcessors() : workers;
        this.perDevice = Math.max(1, Math.min(perDevice, this.workers));
        this.cancel = cancel;
        this.global = new Semaphore(this.workers);
    }

    /** Starts reading; results arrive through {@link #take} in completion order. */
    public void start(List<Job> jobs) {
        Map<Long, List<Job>> byDevice = new LinkedHashMap<>();
        for (Job j : jobs) {
            byDevice.computeIfAbsent(j.entry().device(), d -> new ArrayList<>()).add(j);
        }
        for (Map.Entry<Long, List<Job>> lane : byDevice.entrySet()) {
            List<Job> list = lane.getValue();
            AtomicInteger next = new AtomicInteger();
            for (int i = 0; i < Math.min(perDevice, list.size()); i++) {
                Thread t = new Thread(() -> work(list, next), "custos-hash-" + lane.getKey() + "-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }
    }

    /** Waits up to {@code millis} for results and moves every waiting one into {@code into}. */
    public void take(List<Result> into, long millis) throws InterruptedException {
        Result first = results.poll(millis, TimeUnit.MILLISECONDS);
        if (first != null) {
            into.add(first);
            results.drainTo(into);
        }
    }

    private void work(List<Job> list, AtomicInteger next) {
        byte[] buf = new byte[CHUNK];
        MessageDigest md = sha256();
        try {
            for (int i = next.getAndIncrement(); i < list.size(); i = next.getAndIncrement()) {
                if (closed || cancel.cancelled()) {
                    return;
                }
                global.acquire();
                Result r;
                try {
                    r = hash(list.get(i), md, buf);
                } finally {
                    global.release();
                }
                while (!results.offer(r, 200, TimeUnit.MILLISECONDS)) {
                    if (closed || cancel.cancelled()) {
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Result hash(Job job, MessageDigest md, byte[] buf) {
        md.reset();
        ByteBuffer bb = ByteBuffer.wrap(buf);
        long total = 0;
        Path path = job.path();
        WalkEntry e = job.entry();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
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
            FileIdentity after = FileIdentity.of(path);
            if (after.size() != e.size()
                    || after.mtimeNs() != e.mtimeNs()
                    || total != e.size()
                    || after.inode() != e.inode()) {
                return new Result(job, null, "changed while being read", null, total);
            }
        } catch (NoSuchFileException ex) {
            return new Result(job, null, "disappeared while being read", null, total);
        } catch (IOException ex) {
            return new Result(job, null, null, Walker.message(ex), total);
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
        closed = true;
        for (Thread t : threads) {
            t.interrupt();
        }
    }
}
