package io.custos.testing;

import static io.custos.exec.ExternalProcess.arg;

import io.custos.exec.ExternalProcess;
import io.custos.run.CancelToken;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A throwaway ZFS pool for tests: a sparse 256 MiB file in a temp directory, a pool of a unique
 * name ({@code custos<hex>}) on it, mounted below that directory. Needs root and zfs-fuse (or a
 * kernel ZFS) — see {@link Requirements#zfs()}.
 *
 * <p>zfs-fuse is a daemon. When none answers, the first pool starts {@code zfs-fuse --no-daemon}
 * and remembers its process; when the JVM exits, a shutdown hook destroys any pool still open and
 * stops that process, and only that one. It is not stopped when the last pool closes because
 * zfs-fuse takes 4 s to stop: every test class would pay that. A daemon that was already running
 * is used and left alone. Only pools made here are ever destroyed.
 */
public final class ZfsPool implements AutoCloseable {
    /** zpool and zfs answer in milliseconds; a wedged daemon must not hold the JVM's exit for long. */
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);

    private static final long DAEMON_START_MILLIS = 15_000;
    private static final int DESTROY_ATTEMPTS = 20;
    private static final long DESTROY_PAUSE_MILLIS = 100;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Guards the daemon and the set of open pools. */
    private static final Object LOCK = new Object();
    /** The zfs-fuse this JVM started, or null (none started, or one was running already). */
    private static Process daemon;
    /** Pools made in this JVM and not yet closed. */
    private static final Set<ZfsPool> OPEN = new LinkedHashSet<>();

    /** Every pool name this JVM made: the only ones it destroys, unmounts or sweeps. */
    private static final Set<String> MADE = new HashSet<>();

    private static final Pattern FIXTURE_POOL = Pattern.compile("custos[0-9a-f]{8}");

    private static boolean hookAdded;
    private static boolean swept;

    private final String name;
    private final Path file;
    private final Path mountpoint;
    private boolean closed;

    private ZfsPool(String name, Path file, Path mountpoint) {
        this.name = name;
        this.file = file;
        this.mountpoint = mountpoint;
    }

    /**
     * A new pool on {@code tmpDir/<name>.img}, mounted on {@code tmpDir/mnt} (or {@code
     * tmpDir/<name>} when that is taken). Skips the test (fails it under {@code CI=true}) without
     * root or zfs-fuse. Close it before {@code tmpDir} is deleted.
     */
    public static ZfsPool create(Path tmpDir) {
        Requirements.zfs();
        synchronized (LOCK) {
            addShutdownHook();
            ensureDaemon();
            String name = "custos" + HexFormat.of().formatHex(randomBytes(4));
            Path file = tmpDir.toAbsolutePath().resolve(name + ".img");
            Path mnt = tmpDir.toAbsolutePath().resolve("mnt");
            if (Files.exists(mnt)) {
                mnt = tmpDir.toAbsolutePath().resolve(name);
            }
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                // The same sparse file as `truncate -s 256M`.
                f.setLength(256L * 1024 * 1024);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            ExternalProcess.Outcome o = run("zpool", "create", "-m", mnt.toString(), name, file.toString());
            if (!o.ok()) {
                // Not ours: whatever went wrong, a pool of that name is never destroyed from here.
                deleteQuietly(file);
                throw new IllegalStateException("zpool create " + name + " failed: " + o.output());
            }
            ZfsPool pool = new ZfsPool(name, file, mnt);
            MADE.add(name);
            OPEN.add(pool);
            return pool;
        }
    }

    /** The pool's name, which is also the name of its root dataset. */
    public String name() {
        return name;
    }

    /** Where the pool's root dataset is mounted. */
    public Path mountpoint() {
        return mountpoint;
    }

    /** Creates the dataset {@code <pool>/<child>} (with its parents) and returns where it is mounted. */
    public Path dataset(String child) {
        String dataset = name + "/" + child;
        zfs("create", "-p", dataset);
        return Path.of(zfs("list", "-H", "-o", "mountpoint", dataset).strip());
    }

    /** Runs {@code zfs ARGS} and returns its output; a failure fails the test. */
    public String zfs(String... args) {
        return expectOk("zfs", args);
    }

    /** Runs {@code zpool ARGS} and returns its output; a failure fails the test. */
    public String zpool(String... args) {
        return expectOk("zpool", args);
    }

    /** {@code zpool destroy} (retried while busy, {@code -f} as the last resort), then deletes the pool's file. */
    @Override
    public void close() {
        synchronized (LOCK) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                destroyPool();
            } finally {
                deleteQuietly(file);
                OPEN.remove(this);
            }
        }
    }

    private void destroyPool() {
        ExternalProcess.Outcome o = null;
        for (int attempt = 1; attempt <= DESTROY_ATTEMPTS; attempt++) {
            o = run("zpool", "destroy", name);
            if (o.ok() || !o.output().contains("busy")) {
                break;
            }
            pause(DESTROY_PAUSE_MILLIS);
        }
        if (o != null && !o.ok()) {
            ExternalProcess.Outcome forced = run("zpool", "destroy", "-f", name);
            if (!forced.ok()) {
                throw new IllegalStateException("cannot destroy test pool " + name + " (a file left open in it?): "
                        + forced.output().strip());
            }
        }
    }

    private static String expectOk(String program, String... args) {
        ExternalProcess.Outcome o = run(program, args);
        if (!o.ok()) {
            throw new AssertionError(
                    program + " " + String.join(" ", args) + " failed (exit " + o.exitCode() + "): " + o.output());
        }
        return o.output();
    }

    private static ExternalProcess.Outcome run(String program, String... args) {
        List<byte[]> argv = new ArrayList<>();
        argv.add(arg(program));
        for (String a : args) {
            argv.add(arg(a));
        }
        try {
            return ExternalProcess.run(argv, COMMAND_TIMEOUT, new CancelToken());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Makes sure ZFS answers: reuses what runs, else starts zfs-fuse and waits for it. */
    private static void ensureDaemon() {
        if (answers()) {
            return;
        }
        if (!zfsFuseRunning()) {
            Path zfsFuse = ExternalProcess.find("zfs-fuse", System.getenv());
            if (zfsFuse == null) {
                throw new IllegalStateException("ZFS does not answer and there is no zfs-fuse to start");
            }
            try {
                daemon = new ProcessBuilder(zfsFuse.toString(), "--no-daemon")
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start zfs-fuse", e);
            }
        }
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DAEMON_START_MILLIS);
        while (!answers()) {
            if (daemon != null && !daemon.isAlive()) {
                int code = daemon.exitValue();
                daemon = null;
                throw new IllegalStateException("zfs-fuse --no-daemon exited with " + code + " at start");
            }
            if (System.nanoTime() - until > 0) {
                stopDaemon();
                throw new IllegalStateException(
                        "ZFS did not answer `zpool list` within " + DAEMON_START_MILLIS + " ms");
            }
            pause(50);
        }
        if (!swept) {
            swept = true;
            sweepDeadPools();
        }
    }

    /**
     * A test that leaves a file open in its pool makes zfs-fuse refuse to destroy the pool (even
     * with {@code -f}); the pool's file is deleted all the same, so the next daemon lists the pool
     * as FAULTED. Such a pool is this fixture's by its name, dead (its file is gone) and holds
     * nothing: it is destroyed here, once per JVM, so that leftovers do not pile up.
     */
    private static void sweepDeadPools() {
        for (String line :
                run("zpool", "list", "-H", "-o", "name,health").output().split("\n")) {
            String[] f = line.split("\t");
            if (f.length != 2
                    || !FIXTURE_POOL.matcher(f[0]).matches()
                    || MADE.contains(f[0])
                    || !(f[1].equals("FAULTED") || f[1].equals("UNAVAIL"))) {
                continue;
            }
            Matcher vdev = Pattern.compile("(/\\S*/" + f[0] + "\\.img)")
                    .matcher(run("zpool", "status", f[0]).output());
            if (vdev.find() && !Files.exists(Path.of(vdev.group(1)))) {
                System.err.println("ZfsPool: destroying " + f[0] + ", a dead test pool left by an earlier run");
                run("zpool", "destroy", "-f", f[0]);
            }
        }
    }

    private static boolean answers() {
        return run("zpool", "list").ok();
    }

    private static boolean zfsFuseRunning() {
        return ProcessHandle.allProcesses()
                .anyMatch(h ->
                        h.info().command().map(c -> c.endsWith("/zfs-fuse")).orElse(false));
    }

    /** Stops the daemon this JVM started, if it did; never any other. */
    private static void stopDaemon() {
        if (daemon == null) {
            return;
        }
        Process p = daemon;
        daemon = null;
        p.destroy();
        try {
            // A wedged zfs-fuse ignores SIGTERM.
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
        unmountDeadMounts();
    }

    /** Mounts of this JVM's pools that outlived the daemon ("transport endpoint is not connected"). */
    private static void unmountDeadMounts() {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/mounts"));
        } catch (IOException e) {
            return;
        }
        for (String line : lines) {
            String[] f = line.split(" ");
            if (f.length > 2 && f[2].equals("fuse.zfs") && MADE.contains(f[0].split("/")[0])) {
                // /proc/mounts writes a space as \040
                run("umount", "-l", f[1].replace("\\040", " "));
            }
        }
    }

    /** A JVM that ends without closing its pools (a test killed half-way) still cleans up. */
    private static void addShutdownHook() {
        if (hookAdded) {
            return;
        }
        hookAdded = true;
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            List<ZfsPool> left;
                            synchronized (LOCK) {
                                left = new ArrayList<>(OPEN);
                            }
                            for (ZfsPool pool : left) {
                                try {
                                    pool.close();
                                } catch (RuntimeException e) {
                                    System.err.println("ZfsPool: " + e.getMessage());
                                }
                            }
                            synchronized (LOCK) {
                                if (OPEN.isEmpty()) {
                                    stopDaemon();
                                }
                            }
                        },
                        "zfs-pool-cleanup"));
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // The temp directory's own cleanup removes it.
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
