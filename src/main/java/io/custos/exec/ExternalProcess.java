package io.custos.exec;

import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The one way custos runs an external program (par2, zfs): arguments as raw bytes, a timeout, a
 * cancel token, stdout and stderr drained together, and the whole process tree killed when it has
 * to stop.
 */
public final class ExternalProcess {
    /** How much of the merged output is kept: enough for any error message, bounded for chatty tools. */
    static final int OUTPUT_LIMIT = 16 * 1024;

    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final long POLL_MILLIS = 100;
    /** After the program exits, how long a descendant that still holds the pipe may delay the result. */
    private static final long DRAIN_GRACE_MILLIS = 500;

    /**
     * Decodes each positional argument from {@code printf %b} octal escapes, then runs them. The
     * {@code x} sentinel keeps the trailing newlines that {@code $(...)} would strip. The loop
     * rotates the arguments: each pass drops the first encoded one and appends it decoded; the word
     * list of {@code for} is expanded once, before the first pass. Plain POSIX sh, so dash runs it.
     */
    private static final String DECODE_AND_EXEC =
            "for a do shift; a=$(printf '%bx' \"$a\"); set -- \"$@\" \"${a%x}\"; done; exec \"$@\"";

    private ExternalProcess() {}

    /**
     * How a run ended. {@code exitCode} is -1 when timed out or cancelled; {@code output} is the last
     * 16 KiB of stdout and stderr merged (UTF-8, malformed bytes replaced).
     */
    public record Outcome(int exitCode, boolean timedOut, boolean cancelled, String output, long millis) {
        public boolean ok() {
            return exitCode == 0 && !timedOut && !cancelled;
        }

        /** The last non-blank line of output, or "" — for error messages. */
        public String lastLine() {
            String[] lines = output.split("\\R");
            for (int i = lines.length - 1; i >= 0; i--) {
                if (!lines[i].isBlank()) {
                    return lines[i].strip();
                }
            }
            return "";
        }
    }

    /**
     * Runs {@code argv} ({@code argv[0]} = the program, found on PATH or given as a path) and waits at
     * most {@code timeout}, checking {@code cancel} about every 100 ms. On timeout, cancel or
     * interrupt it kills the process and its descendants and waits for the process to end.
     *
     * @throws IOException when the program cannot be found or started
     */
    public static Outcome run(List<byte[]> argv, Duration timeout, CancelToken cancel) throws IOException {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("no program to run");
        }
        long start = System.nanoTime();
        List<byte[]> resolved = new ArrayList<>(argv);
        resolved.set(0, RawPaths.bytes(program(argv.get(0))));

        ProcessBuilder pb = new ProcessBuilder(commandLine(resolved))
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process process = pb.start();
        Tail tail = new Tail(process.getInputStream());
        Thread drain = new Thread(tail, "drain-" + process.pid());
        // A descendant that outlives the program can keep the pipe open: never let it hold up exit.
        drain.setDaemon(true);
        drain.start();

        long deadline = start + timeout.toNanos();
        boolean timedOut = false;
        boolean cancelled = false;
        try {
            while (!process.waitFor(Math.min(POLL_MILLIS, Math.max(1, millisUntil(deadline))), TimeUnit.MILLISECONDS)) {
                if (cancel.cancelled()) {
                    cancelled = true;
                    break;
                }
                if (System.nanoTime() - deadline >= 0) {
                    timedOut = true;
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancelled = true;
        }
        int exitCode = -1;
        if (timedOut || cancelled) {
            killTree(process);
        } else {
            exitCode = process.exitValue();
        }
        joinQuietly(drain, timedOut || cancelled ? 2 * DRAIN_GRACE_MILLIS : DRAIN_GRACE_MILLIS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        return new Outcome(exitCode, timedOut, cancelled, tail.text(), millis);
    }

    /** An argument from text, as UTF-8 whatever the locale. */
    public static byte[] arg(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** An argument from a path, as the exact bytes the kernel knows it by. */
    public static byte[] arg(Path p) {
        return RawPaths.bytes(p);
    }

    /**
     * The program to run for {@code binary}: when it contains '/', that file if it is an executable
     * regular file; otherwise the first executable {@code dir/binary} over the entries of
     * {@code env.get("PATH")} (a standard PATH when that is null or empty; empty entries are skipped
     * rather than read as the current directory). Null when not found.
     */
    public static Path find(String binary, Map<String, String> env) {
        if (binary.isEmpty()) {
            return null;
        }
        if (binary.indexOf('/') >= 0) {
            Path p = RawPaths.path(binary);
            return runnable(p) ? p : null;
        }
        String path = env.get("PATH");
        if (path == null || path.isEmpty()) {
            path = DEFAULT_PATH;
        }
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = RawPaths.path(dir).resolve(binary);
            if (runnable(p)) {
                return p;
            }
        }
        return null;
    }

    private static boolean runnable(Path p) {
        return Files.isRegularFile(p) && Files.isExecutable(p);
    }

    /**
     * Resolves the program here, with the same rules whether or not the sh decoder runs it, so that a
     * missing program is an IOException and never an exit code 127 from the shell.
     */
    private static Path program(byte[] name) throws IOException {
        Path p;
        if (indexOf(name, (byte) '/') >= 0) {
            p = RawPaths.path(name);
            if (!runnable(p)) {
                throw new IOException("cannot run " + RawPaths.display(name) + ": not an executable file");
            }
        } else {
            String text = new String(name, StandardCharsets.UTF_8);
            // The child inherits this environment, so its PATH is the one to search.
            p = java.util.Arrays.equals(arg(text), name) ? find(text, System.getenv()) : null;
            if (p == null) {
                throw new IOException("cannot run " + RawPaths.display(name) + ": not found on PATH");
            }
        }
        return p;
    }

    /**
     * The JVM encodes String arguments with {@code sun.jnu.encoding}, which is ASCII under the POSIX
     * locale of many containers and cannot carry names that are not UTF-8. Printable ASCII passes as
     * is; anything else goes through {@code /bin/sh}, escaped to octal, and is decoded there.
     */
    static List<String> commandLine(List<byte[]> argv) {
        boolean plain = true;
        for (byte[] a : argv) {
            for (byte b : a) {
                if (b < 0x20 || b > 0x7e) {
                    plain = false;
                    break;
                }
            }
        }
        List<String> out = new ArrayList<>(argv.size() + 4);
        if (plain) {
            for (byte[] a : argv) {
                out.add(new String(a, StandardCharsets.US_ASCII));
            }
            return out;
        }
        out.add("/bin/sh");
        out.add("-c");
        out.add(DECODE_AND_EXEC);
        out.add("sh");
        for (byte[] a : argv) {
            out.add(octal(a));
        }
        return out;
    }

    /** Letters, digits and {@code /._-} as they are; every other byte as {@code \0NNN}. */
    private static String octal(byte[] a) {
        StringBuilder sb = new StringBuilder(a.length * 2);
        for (byte b : a) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '/'
                    || c == '.'
                    || c == '_'
                    || c == '-') {
                sb.append((char) c);
            } else {
                sb.append("\\0")
                        .append((char) ('0' + (c >> 6)))
                        .append((char) ('0' + ((c >> 3) & 7)))
                        .append((char) ('0' + (c & 7)));
            }
        }
        return sb.toString();
    }

    /**
     * Kills the process first, so that it starts nothing new, then every descendant it had. The
     * descendants are listed before the kill: once the process is gone they belong to init.
     */
    private static void killTree(Process process) {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroyForcibly();
        for (ProcessHandle h : descendants) {
            h.destroyForcibly();
        }
        try {
            process.waitFor(10, TimeUnit.SECONDS);
            // Orphans are reaped by init, not by us: a short wait for them is all that is useful.
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            for (ProcessHandle h : descendants) {
                while (running(h) && System.nanoTime() - until < 0) {
                    Thread.sleep(10);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Alive and not a zombie: a killed orphan stays a zombie until init reaps it (never, in some containers). */
    static boolean running(ProcessHandle h) {
        if (!h.isAlive()) {
            return false;
        }
        try {
            String stat =
                    Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"), StandardCharsets.ISO_8859_1);
            int close = stat.lastIndexOf(')');
            return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
        } catch (IOException e) {
            return h.isAlive();
        }
    }

    private static void joinQuietly(Thread t, long millis) {
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long millisUntil(long deadlineNanos) {
        return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    }

    private static int indexOf(byte[] a, byte b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** Reads a stream to its end and keeps the last {@link #OUTPUT_LIMIT} bytes in a ring. */
    private static final class Tail implements Runnable {
        private final InputStream in;
        private final byte[] ring = new byte[OUTPUT_LIMIT];
        private long total;

        Tail(InputStream in) {
            this.in = in;
        }

        @Override
        public void run() {
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    append(buf, n);
                }
            } catch (IOException e) {
                // The stream closes when the process is killed; what was read is kept.
            }
        }

        private synchronized void append(byte[] buf, int n) {
            int at = (int) (total % OUTPUT_LIMIT);
            int first = Math.min(n, OUTPUT_LIMIT - at);
            System.arraycopy(buf, 0, ring, at, first);
            System.arraycopy(buf, first, ring, 0, n - first);
            total += n;
        }

        synchronized String text() {
            int len = (int) Math.min(total, OUTPUT_LIMIT);
            byte[] out = new byte[len];
            long first = total - len;
            for (int i = 0; i < len; i++) {
                out[i] = ring[(int) ((first + i) % OUTPUT_LIMIT)];
            }
            try {
                return StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPLACE)
                        .onUnmappableCharacter(CodingErrorAction.REPLACE)
                        .decode(ByteBuffer.wrap(out))
                        .toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new IllegalStateException("a replacing decoder does not throw", e);
            }
        }
    }
}
