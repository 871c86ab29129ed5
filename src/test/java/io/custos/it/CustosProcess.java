package io.custos.it;

import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Runs the packaged {@code target/custos.jar} as a process of its own, the way cron does
 * ({@code java -jar custos.jar ...}), and captures its exit code, stdout and stderr.
 */
final class CustosProcess {
    /** A ceiling, not an expectation: a loaded 2-core machine makes parity several times slower. */
    static final Duration TIMEOUT = Duration.ofSeconds(240);

    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final List<String> args;
    private Path jar = packagedJar();
    private String user;
    private Path workDir;
    private final Map<String, String> env = new LinkedHashMap<>();

    private CustosProcess(List<String> args) {
        this.args = args;
    }

    static CustosProcess custos(String... args) {
        return new CustosProcess(Arrays.asList(args));
    }

    /** The jar that {@code mvn package} built (failsafe passes its path as {@code custos.jar}). */
    static Path packagedJar() {
        String p = System.getProperty("custos.jar");
        if (p == null || !Files.isRegularFile(Path.of(p))) {
            fail("system property custos.jar must name the packaged jar (run through mvn verify), got: " + p);
        }
        return Path.of(p);
    }

    /** Runs another copy of the jar (one the user of {@link #asUser} can read). */
    CustosProcess jar(Path jar) {
        this.jar = jar;
        return this;
    }

    /** Runs as another (non-root) user through {@code runuser -u USER --}. */
    CustosProcess asUser(String user) {
        this.user = user;
        return this;
    }

    CustosProcess in(Path dir) {
        this.workDir = dir;
        return this;
    }

    CustosProcess env(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** Starts the process; close the returned handle to be sure it is gone. */
    Running start() {
        List<String> cmd = new ArrayList<>();
        if (user != null) {
            cmd.addAll(List.of("runuser", "-u", user, "--"));
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        // A cron job's environment: nothing of the developer's custos settings leaks in.
        pb.environment().keySet().removeIf(k -> k.startsWith("CUSTOS_"));
        pb.environment().put("LANG", "C.UTF-8");
        pb.environment().putAll(env);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        try {
            return new Running(cmd, pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    /** Starts the process and waits for it to end. */
    Result run() {
        try (Running r = start()) {
            return r.waitFor(TIMEOUT);
        }
    }

    /** Polls {@code condition} every 50 ms; fails the test with {@code what} when it stays false. */
    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail("timed out after " + timeout + " waiting for " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** A started custos process. */
    static final class Running implements AutoCloseable {
        private final List<String> cmd;
        private final Process process;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteArrayOutputStream err = new ByteArrayOutputStream();
        private final Thread outReader;
        private final Thread errReader;

        private Running(List<String> cmd, Process process) {
            this.cmd = cmd;
            this.process = process;
            this.outReader = drain(process.getInputStream(), out);
            this.errReader = drain(process.getErrorStream(), err);
        }

        private static Thread drain(InputStream in, ByteArrayOutputStream sink) {
            Thread t = new Thread(
                    () -> {
                        byte[] buf = new byte[8192];
                        try (in) {
                            for (int n; (n = in.read(buf)) >= 0; ) {
                                synchronized (sink) {
                                    sink.write(buf, 0, n);
                                }
                            }
                        } catch (IOException e) {
                            // the process is gone; what was read is kept
                        }
                    },
                    "custos-it-drain");
            t.setDaemon(true);
            t.start();
            return t;
        }

        long pid() {
            return process.pid();
        }

        boolean isAlive() {
            return process.isAlive();
        }

        /** What the process wrote to stderr so far. */
        String stderrSoFar() {
            synchronized (err) {
                return err.toString(StandardCharsets.UTF_8);
            }
        }

        /** SIGTERM, as {@code docker stop} or systemd would send it. */
        void sigterm() {
            ProcessHandle.of(process.pid()).ifPresent(ProcessHandle::destroy);
        }

        /** SIGINT, as Ctrl-C would send it. */
        void sigint() {
            try {
                Process kill = new ProcessBuilder("kill", "-s", "INT", String.valueOf(process.pid()))
                        .inheritIO()
                        .start();
                if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                    fail("kill -s INT " + process.pid() + " failed");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /** SIGKILL: the process gets no chance to clean up, like a crash or a power cut of the JVM. */
        void sigkill() {
            process.destroyForcibly();
        }

        /** Waits for the end; a process still running after {@code timeout} is killed and the test fails. */
        Result waitFor(Duration timeout) {
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                    fail("custos did not end within " + timeout + ": " + cmd + "\nstderr:\n" + stderrSoFar());
                }
                outReader.join(10_000);
                errReader.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            String o;
            String e;
            synchronized (out) {
                o = out.toString(StandardCharsets.UTF_8);
            }
            synchronized (err) {
                e = err.toString(StandardCharsets.UTF_8);
            }
            return new Result(process.exitValue(), o, e);
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroyForcibly();
                try {
                    process.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** How a custos process ended. */
    record Result(int exitCode, String stdout, String stderr) {
        /** stdout as the one JSON object {@code --json} promises; the test fails when it is anything else. */
        JsonNode json() {
            try {
                JsonNode node = JSON.readTree(stdout);
                if (node == null || !node.isObject()) {
                    fail("stdout is not one JSON object:\n" + stdout + "\nstderr:\n" + stderr);
                }
                return node;
            } catch (IOException e) {
                return fail(
                        "stdout is not one JSON object (" + e.getMessage() + "):\n" + stdout + "\nstderr:\n" + stderr);
            }
        }

        /** A description for assertion failures. */
        String describe() {
            return "exit " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
        }
    }
}
