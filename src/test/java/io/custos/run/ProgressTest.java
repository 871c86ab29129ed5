package io.custos.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
    final Log log = new Log(errStream, Clock.systemUTC(), Log.Level.INFO);
    final AtomicLong now = new AtomicLong();

    @Test
    void withoutATerminalALineIsLoggedEveryThirtySeconds() {
        Progress p = new Progress(errStream, log, Progress.Mode.LOG, now::get);
        Progress.Task t = p.start("hashing", 1000, 4_000_000_000L);
        now.addAndGet(TimeUnit.SECONDS.toNanos(10));
        t.advance(100, 400_000_000L);
        assertThat(text()).isEmpty();
        now.addAndGet(TimeUnit.SECONDS.toNanos(25));
        t.advance(150, 600_000_000L);
        String out = text();
        assertThat(out.lines()).hasSize(1);
        assertThat(out)
                .contains("INFO")
                .contains("hashing: 250 of 1000 files")
                .contains("(25%)")
                .contains("/s")
                .contains("left");
        now.addAndGet(TimeUnit.SECONDS.toNanos(5));
        t.advance(1, 1);
        assertThat(text().lines()).hasSize(1);
        t.done();
        assertThat(text()).doesNotContain("\r");
    }

    @Test
    void onATerminalABarIsRedrawnInPlaceAndClearedAtTheEnd() {
        Progress p = new Progress(errStream, log, Progress.Mode.BAR, now::get);
        Progress.Task t = p.start("verifying photos", 10, 0);
        now.addAndGet(TimeUnit.SECONDS.toNanos(1));
        t.advance(5, 0);
        now.addAndGet(TimeUnit.SECONDS.toNanos(1));
        t.advance(2, 0);
        String out = text();
        assertThat(out).startsWith("\r\033[K[").contains("verifying photos: 7 of 10 files (70%)");
        assertThat(out).doesNotContain("\n");
        // a log line while the bar stands wipes it first, so the two never mix on one line
        log.warn("a busy file");
        assertThat(text())
                .contains("\r\033[K"
                        + java.time.Year.now(java.time.ZoneOffset.UTC).getValue());
        now.addAndGet(TimeUnit.SECONDS.toNanos(1));
        t.advance(1, 0);
        t.done();
        assertThat(text()).endsWith("\r\033[K");
        String before = text();
        log.warn("after the bar");
        String added = text().substring(before.length());
        assertThat(added).doesNotStartWith("\r").endsWith("after the bar" + System.lineSeparator());
    }

    @Test
    void quietShowsNothing() {
        Progress p = new Progress(errStream, log, Progress.Mode.OFF, now::get);
        Progress.Task t = p.start("hashing", 10, 100);
        now.addAndGet(TimeUnit.MINUTES.toNanos(5));
        t.advance(10, 100);
        t.done();
        assertThat(text()).isEmpty();
    }

    @Test
    void durationsReadNaturally() {
        assertThat(Progress.duration(42)).isEqualTo("42 s");
        assertThat(Progress.duration(125)).isEqualTo("2 min 05 s");
        assertThat(Progress.duration(7260)).isEqualTo("2 h 01 min");
    }

    private String text() {
        return err.toString(StandardCharsets.UTF_8);
    }
}
