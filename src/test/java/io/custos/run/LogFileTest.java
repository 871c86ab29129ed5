package io.custos.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.custos.config.Config;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code log.file}: the lines of stderr, with their run id, in a file that rotates by size. */
class LogFileTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T03:00:00Z"), ZoneOffset.UTC);

    @TempDir
    Path tmp;

    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    private String stderr() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    private static Config.LogSettings file(String level, Path file) {
        return new Config.LogSettings(level, file.toString(), null);
    }

    @Test
    void fileGetsTheLinesOfStderrWithTheRunId() throws IOException {
        // given: a log file in a directory that does not exist yet
        Path file = tmp.resolve("var/log/custos/custos.log");
        // when
        try (Log log = Log.open(err, CLOCK, Log.Level.INFO, file("info", file), "nas")) {
            log.info("before the run");
            log.runId(12);
            log.info("scanned %d files", 3);
            log.warn("a warning");
            log.debug("not at info");
        }
        // then
        List<String> expected = List.of(
                "2026-01-01T03:00:00Z INFO before the run",
                "2026-01-01T03:00:00Z INFO [run 12] scanned 3 files",
                "2026-01-01T03:00:00Z WARN [run 12] a warning");
        assertThat(Files.readAllLines(file)).containsExactlyElementsOf(expected);
        assertThat(stderr().lines()).containsExactlyElementsOf(expected);
    }

    @Test
    void appendsToWhatIsThere() throws IOException {
        Path file = tmp.resolve("custos.log");
        Files.writeString(file, "an earlier line\n");
        try (Log log = Log.open(err, CLOCK, Log.Level.INFO, file("info", file), "nas")) {
            log.info("a new one");
        }
        assertThat(Files.readAllLines(file)).containsExactly("an earlier line", "2026-01-01T03:00:00Z INFO a new one");
    }

    @Test
    void quietQuietsStderrButNotTheFile() throws IOException {
        // given: -q (stderr at error) and log.level info
        Path file = tmp.resolve("custos.log");
        try (Log log = Log.open(err, CLOCK, Log.Level.ERROR, file("info", file), "nas")) {
            // when
            log.info("progress");
            log.error("broken");
            // then
            assertThat(log.enabled(Log.Level.INFO)).isTrue();
            assertThat(log.enabled(Log.Level.DEBUG)).isFalse();
        }
        assertThat(stderr().lines()).containsExactly("2026-01-01T03:00:00Z ERROR broken");
        assertThat(Files.readAllLines(file))
                .containsExactly("2026-01-01T03:00:00Z INFO progress", "2026-01-01T03:00:00Z ERROR broken");
    }

    @Test
    void verboseAddsDetailToTheFileToo() throws IOException {
        Path file = tmp.resolve("custos.log");
        try (Log log = Log.open(err, CLOCK, Log.Level.DEBUG, file("info", file), "nas")) {
            log.debug("detail");
        }
        assertThat(Files.readAllLines(file)).containsExactly("2026-01-01T03:00:00Z DEBUG detail");
    }

    @Test
    void withoutFileOrSyslogTheLogIsStderrOnly() {
        Log log = Log.open(err, CLOCK, Log.Level.INFO, new Config.LogSettings("debug", null, null), "nas");
        log.info("x");
        // log.level does not reach stderr through open(): the caller's level is the stderr level
        assertThat(log.enabled(Log.Level.DEBUG)).isFalse();
        assertThat(stderr()).isEqualTo("2026-01-01T03:00:00Z INFO x" + System.lineSeparator());
        assertThat(Files.exists(tmp.resolve("custos.log"))).isFalse();
    }

    @Test
    void rotatesAtTheThresholdAndKeepsTheNewestFiles() throws IOException {
        // given: rotation at 1000 bytes, 3 old files kept; lines of 50 bytes
        Path file = tmp.resolve("custos.log");
        LogFile.Rotation rotation = new LogFile.Rotation(1000, 3);
        int lines = 200;
        // when: 10,000 bytes in all, enough for 10 rotations
        try (Log log = Log.open(err, CLOCK, Log.Level.INFO, file("info", file), "nas", rotation)) {
            log.runId(7);
            for (int i = 0; i < lines; i++) {
                log.info("line %04d", i);
            }
        }
        // then: custos.log, .1, .2, .3 and nothing older
        int lineBytes = "2026-01-01T03:00:00Z INFO [run 7] line 0000\n".length();
        assertThat(tmp.resolve("custos.log.4")).doesNotExist();
        for (int i = 1; i <= 3; i++) {
            long size = Files.size(tmp.resolve("custos.log." + i));
            // a file rotates with the line that took it to the threshold
            assertThat(size).isGreaterThanOrEqualTo(1000).isLessThan(1000 + lineBytes);
        }
        assertThat(Files.size(file)).isLessThan(1000);
        // and the kept lines are the newest ones, in order, none lost between the files
        List<Integer> kept = new ArrayList<>();
        for (String name : List.of("custos.log.3", "custos.log.2", "custos.log.1", "custos.log")) {
            for (String l : Files.readAllLines(tmp.resolve(name))) {
                assertThat(l).startsWith("2026-01-01T03:00:00Z INFO [run 7] line ");
                kept.add(Integer.parseInt(l.substring(l.length() - 4)));
            }
        }
        assertThat(kept.get(kept.size() - 1)).isEqualTo(lines - 1);
        for (int i = 1; i < kept.size(); i++) {
            assertThat(kept.get(i)).isEqualTo(kept.get(i - 1) + 1);
        }
        assertThat(stderr()).doesNotContain("WARN");
    }

    @Test
    void twoWritersAppendingAtOnceKeepEveryLineWhole() throws Exception {
        // given: two logs on one file (two custos processes: a status while a scan runs),
        // rotating often, keeping every rotated file
        Path file = tmp.resolve("custos.log");
        LogFile.Rotation rotation = new LogFile.Rotation(20_000, 1000);
        int perWriter = 3000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> writers = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        for (int w = 1; w <= 2; w++) {
            int run = w;
            Thread t = new Thread(() -> {
                try (Log log = Log.open(err, CLOCK, Log.Level.ERROR, file("info", file), "nas", rotation)) {
                    log.runId(run);
                    start.await();
                    for (int i = 0; i < perWriter; i++) {
                        log.info("line %05d %s", i, "x".repeat(i % 97));
                    }
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            t.start();
            writers.add(t);
        }
        // when
        start.countDown();
        for (Thread t : writers) {
            t.join();
        }
        // then: every line of both, whole, once
        assertThat(failures).isEmpty();
        Pattern whole = Pattern.compile("2026-01-01T03:00:00Z INFO \\[run ([12])] line (\\d{5}) (x*)");
        int[] seen = new int[3];
        List<Path> all;
        try (var s = Files.list(tmp)) {
            all = s.filter(p -> p.getFileName().toString().startsWith("custos.log"))
                    .toList();
        }
        assertThat(all.size()).isGreaterThan(10);
        for (Path p : all) {
            for (String l : Files.readAllLines(p)) {
                var m = whole.matcher(l);
                assertThat(m.matches()).as(l).isTrue();
                assertThat(m.group(3)).hasSize(Integer.parseInt(m.group(2)) % 97);
                seen[Integer.parseInt(m.group(1))]++;
            }
        }
        assertThat(seen[1]).isEqualTo(perWriter);
        assertThat(seen[2]).isEqualTo(perWriter);
        assertThat(stderr()).isEmpty();
    }

    @Test
    void aLogFileThatCannotBeOpenedCostsOneWarningAndStderrGoesOn() throws IOException {
        // given: the log directory's place is taken by a regular file
        Path notADir = Files.writeString(tmp.resolve("logs"), "");
        Path file = notADir.resolve("custos.log");
        // when
        try (Log log = Log.open(err, CLOCK, Log.Level.INFO, file("info", file), "nas")) {
            log.runId(3);
            log.info("one");
            log.error("two");
        }
        // then
        List<String> lines = stderr().lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0))
                .startsWith("2026-01-01T03:00:00Z WARN cannot write the log file " + file)
                .endsWith("logging without it");
        assertThat(lines.subList(1, 3))
                .containsExactly("2026-01-01T03:00:00Z INFO [run 3] one", "2026-01-01T03:00:00Z ERROR [run 3] two");
    }

    @Test
    void aLogFileThatFailsLaterIsReportedOnce() throws IOException {
        // given: an open log whose directory then goes away and becomes a file
        Path dir = Files.createDirectories(tmp.resolve("logs"));
        Path file = dir.resolve("custos.log");
        try (Log log = Log.open(err, CLOCK, Log.Level.INFO, file("info", file), "nas")) {
            log.info("written");
            Files.delete(file);
            Files.delete(dir);
            Files.writeString(dir, "");
            // when
            for (int i = 0; i < 5; i++) {
                log.info("lost %d", i);
            }
        }
        // then: the lines on stderr, and one warning
        String out = stderr();
        assertThat(out.lines().filter(l -> l.contains("cannot write the log file")))
                .hasSize(1);
        assertThat(out.lines().filter(l -> l.contains(" INFO lost "))).hasSize(5);
    }

    @Test
    void defaultRotationIsTenMebibytesKeepingFive() {
        assertThat(LogFile.Rotation.DEFAULT).isEqualTo(new LogFile.Rotation(10L * 1024 * 1024, 5));
    }
}
