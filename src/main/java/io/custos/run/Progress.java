package io.custos.run;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How far a long step of a run is (hashing, making parity, verifying, repairing), on stderr and
 * never on stdout: on a terminal a bar redrawn in place (files and bytes done of the total, rate,
 * time left); otherwise one log line every 30 seconds, which is what cron mail and log files can
 * use. Quiet runs show neither.
 */
public final class Progress {
    /** How often a run without a terminal logs where it is. */
    public static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

    private static final long REDRAW_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final int BAR = 24;

    /** The display a run gets: {@code bar} on a terminal, log lines otherwise, nothing when quiet. */
    public enum Mode {
        BAR,
        LOG,
        OFF
    }

    private final PrintStream err;
    private final Log log;
    private final Mode mode;
    private final LongSupplier nanos;

    public Progress(PrintStream err, Log log, Mode mode) {
        this(err, log, mode, System::nanoTime);
    }

    Progress(PrintStream err, Log log, Mode mode, LongSupplier nanos) {
        this.err = err;
        this.log = log;
        this.mode = mode;
        this.nanos = nanos;
    }

    /** Whether this process's stderr is a terminal (Linux: what fd 2 points at). */
    public static boolean stderrIsTerminal() {
        try {
            String target = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/2"))
                    .toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /** No progress at all (tests, dry runs). */
    public static Progress off(Log log) {
        return new Progress(null, log, Mode.OFF);
    }

    /** A step of {@code files} files and {@code bytes} bytes (0 when not known). */
    public Task start(String what, long files, long bytes) {
        return new Task(what, files, bytes);
    }

    /** One step; {@link #done} ends it (clears the bar). Called from one thread. */
    public final class Task implements AutoCloseable {
        private final String what;
        private final long totalFiles;
        private final long totalBytes;
        private final long started;
        private long files;
        private long bytes;
        private long lastShown;
        private boolean drawn;

        private Task(String what, long totalFiles, long totalBytes) {
            this.what = what;
            this.totalFiles = totalFiles;
            this.totalBytes = totalBytes;
            this.started = nanos.getAsLong();
            this.lastShown = started;
        }

        public void advance(long moreFiles, long moreBytes) {
            files += moreFiles;
            bytes += moreBytes;
            if (mode == Mode.OFF) {
                return;
            }
            long now = nanos.getAsLong();
            if (mode == Mode.BAR && now - lastShown >= REDRAW_NANOS) {
                lastShown = now;
                draw(now);
            } else if (mode == Mode.LOG && now - lastShown >= LOG_EVERY_NANOS) {
                lastShown = now;
                log.info("%s", line(now));
            }
        }

        public long files() {
            return files;
        }

        /** Ends the step: the bar is cleared so that what follows starts on a clean line. */
        public void done() {
            if (drawn) {
                synchronized (err) {
                    err.print("\r\033[K");
                    err.flush();
                }
                drawn = false;
                log.barOnLine(false);
            }
        }

        @Override
        public void close() {
            done();
        }

        private void draw(long now) {
            double frac = fraction();
            int fill = (int) Math.round(frac * BAR);
            String bar = "[" + "#".repeat(fill) + "-".repeat(BAR - fill) + "] ";
            synchronized (err) {
                err.print("\r\033[K" + bar + line(now));
                err.flush();
            }
            drawn = true;
            log.barOnLine(true);
        }

        /** "hashing: 450 of 1000 files, 1.2 GB of 2.6 GB (45%), 120 MB/s, 12 s left". */
        String line(long now) {
            StringBuilder sb = new StringBuilder(what).append(": ").append(files);
            if (totalFiles > 0) {
                sb.append(" of ").append(totalFiles);
            }
            sb.append(" files");
            if (totalBytes > 0) {
                sb.append(", ").append(Units.bytes(bytes)).append(" of ").append(Units.bytes(totalBytes));
            }
            double frac = fraction();
            sb.append(String.format(Locale.ROOT, " (%d%%)", Math.round(frac * 100)));
            double secs = (now - started) / 1e9;
            if (secs > 0.5 && bytes > 0) {
                sb.append(", ").append(Units.bytes((long) (bytes / secs))).append("/s");
            }
            if (secs > 0.5 && frac > 0.001 && frac < 1) {
                long left = (long) (secs / frac - secs);
                sb.append(", ").append(duration(left)).append(" left");
            }
            return sb.toString();
        }

        private double fraction() {
            if (totalBytes > 0) {
                return Math.min(1.0, (double) bytes / totalBytes);
            }
            return totalFiles > 0 ? Math.min(1.0, (double) files / totalFiles) : 0;
        }
    }

    static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + " s";
        }
        if (seconds < 3600) {
            return String.format(Locale.ROOT, "%d min %02d s", seconds / 60, seconds % 60);
        }
        return String.format(Locale.ROOT, "%d h %02d min", seconds / 3600, (seconds % 3600) / 60);
    }
}
