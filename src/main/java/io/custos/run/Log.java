package io.custos.run;

import java.io.PrintStream;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Log lines on stderr: {@code 2026-01-01T03:00:00Z INFO [run 12] message}. Results never go
 * here; they go to stdout.
 */
public final class Log {
    /** Levels from quiet to chatty. */
    public enum Level {
        ERROR,
        WARN,
        INFO,
        DEBUG,
        TRACE;

        public static Level parse(String s) {
            return valueOf(s.toUpperCase(Locale.ROOT));
        }
    }

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    private final PrintStream err;
    private final Clock clock;
    private final Level level;
    private volatile String context = "";

    public Log(PrintStream err, Clock clock, Level level) {
        this.err = err;
        this.clock = clock;
        this.level = level;
    }

    /** Tags every following line with the run id. */
    public void runId(long runId) {
        this.context = "[run " + runId + "] ";
    }

    public boolean enabled(Level l) {
        return l.ordinal() <= level.ordinal();
    }

    public void error(String fmt, Object... args) {
        log(Level.ERROR, fmt, args);
    }

    public void warn(String fmt, Object... args) {
        log(Level.WARN, fmt, args);
    }

    public void info(String fmt, Object... args) {
        log(Level.INFO, fmt, args);
    }

    public void debug(String fmt, Object... args) {
        log(Level.DEBUG, fmt, args);
    }

    private void log(Level l, String fmt, Object... args) {
        if (!enabled(l)) {
            return;
        }
        String msg = args.length == 0 ? fmt : String.format(Locale.ROOT, fmt, args);
        String line = TIME.format(Instant.now(clock)) + " " + l + " " + context + msg;
        synchronized (err) {
            err.println(line);
        }
    }
}
