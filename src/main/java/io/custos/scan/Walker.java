package io.custos.scan;

import io.custos.fs.FileIdentity;
import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import io.custos.run.Problem;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lists every regular file under a root, several directories at a time. Symlinks are neither
 * followed nor cataloged; sockets, FIFOs and devices are skipped; excluded names are skipped; the
 * walk stays on the root's filesystem and does not enter another root. A directory or file that
 * cannot be read is reported and listed in {@link Result#unreachable()} so that nothing under it
 * is taken for deleted.
 */
public final class Walker {
    /** What the walk found: files sorted by path bytes, places it could not see into, problems. */
    public record Result(
            List<WalkEntry> files,
            List<byte[]> unreachable,
            List<Problem> problems,
            long directories,
            boolean complete) {}

    /** (device, inode) of a directory. */
    public record DirKey(long device, long inode) {}

    private final Exclusions exclusions;
    private final int threads;
    private final CancelToken cancel;

    public Walker(Exclusions exclusions, int threads, CancelToken cancel) {
        this.exclusions = exclusions;
        this.threads = Math.max(1, threads);
        this.cancel = cancel;
    }

    public Result walk(String rootName, Path root, long rootDevice, Set<DirKey> otherRoots) {
        byte[] rootBytes = RawPaths.bytes(root);
        int prefix = rootBytes.length + (rootBytes[rootBytes.length - 1] == '/' ? 0 : 1);
        ConcurrentLinkedQueue<List<WalkEntry>> found = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<byte[]> unreachable = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Problem> problems = new ConcurrentLinkedQueue<>();
        AtomicLong dirs = new AtomicLong();
        AtomicInteger pending = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "custos-walk");
            t.setDaemon(true);
            return t;
        });

        final class Lister {
            void submit(Path dir) {
                pending.incrementAndGet();
                pool.execute(() -> {
                    try {
                        if (!cancel.cancelled()) {
                            list(dir);
                        }
                    } finally {
                        if (pending.decrementAndGet() == 0) {
                            done.countDown();
                        }
                    }
                });
            }

            void list(Path dir) {
                dirs.incrementAndGet();
                List<WalkEntry> files = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                    for (Path child : ds) {
                        byte[] full = RawPaths.bytes(child);
                        int nameStart = lastSlash(full) + 1;
                        if (exclusions.excludes(full, nameStart, full.length)) {
                            continue;
                        }
                        FileIdentity id;
                        try {
                            id = FileIdentity.of(child);
                        } catch (NoSuchFileException e) {
                            continue; // gone between listing and stat: it is simply not there
                        } catch (IOException e) {
                            byte[] rel = Arrays.copyOfRange(full, prefix, full.length);
                            unreachable.add(rel);
                            problems.add(new Problem(
                                    rootName, RawPaths.display(rel), "unreadable", "cannot stat: " + message(e)));
                            continue;
                        }
                        switch (id.kind()) {
                            case FILE ->
                                files.add(new WalkEntry(
                                        Arrays.copyOfRange(full, prefix, full.length),
                                        id.size(),
                                        id.mtimeNs(),
                                        id.device(),
                                        id.inode(),
                                        id.links()));
                            case DIRECTORY -> {
                                if (id.device() != rootDevice) {
                                    continue; // another filesystem: not crossed
                                }
                                if (otherRoots.contains(new DirKey(id.device(), id.inode()))) {
                                    continue; // another root: it has its own walk
                                }
                                submit(child);
                            }
                            default -> {
                                // symlinks, sockets, FIFOs and devices are not cataloged
                            }
                        }
                    }
                } catch (IOException | java.nio.file.DirectoryIteratorException e) {
                    byte[] full = RawPaths.bytes(dir);
                    byte[] rel = full.length <= prefix ? new byte[0] : Arrays.copyOfRange(full, prefix, full.length);
                    unreachable.add(rel);
                    problems.add(new Problem(
                            rootName,
                            rel.length == 0 ? "." : RawPaths.display(rel),
                            "unreadable",
                            "cannot list directory: " + message(e)));
                }
                if (!files.isEmpty()) {
                    found.add(files);
                }
            }
        }

        new Lister().submit(root);
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancel.cancel();
        } finally {
            pool.shutdownNow();
        }
        int total = 0;
        for (List<WalkEntry> l : found) {
            total += l.size();
        }
        List<WalkEntry> all = new ArrayList<>(total);
        for (List<WalkEntry> l : found) {
            all.addAll(l);
        }
        all.sort((a, b) -> RawPaths.compare(a.path(), b.path()));
        return new Result(
                all, new ArrayList<>(unreachable), new ArrayList<>(problems), dirs.get(), !cancel.cancelled());
    }

    private static int lastSlash(byte[] b) {
        for (int i = b.length - 1; i >= 0; i--) {
            if (b[i] == '/') {
                return i;
            }
        }
        return -1;
    }

    static String message(Throwable e) {
        Throwable t =
                e instanceof java.nio.file.DirectoryIteratorException d && d.getCause() != null ? d.getCause() : e;
        if (t instanceof AccessDeniedException) {
            return "permission denied";
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }
}
