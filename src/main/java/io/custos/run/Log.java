package io.custos.run;

import io.custos.config.Config;
import io.custos.fs.RawPaths;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Log lines: {@code 2026-01-01T03:00:00Z INFO [run 12] message}, on stderr and, when configured
 * ({@code log.file}, {@code log.syslog}), in a rotating file and to a syslog server. Results
 * never go here; they go to stdout.
 *
 * <p>The level given (from {@code -q}, {@code -v} or {@code log.level}) is the level of stderr.
 * The file and syslog get the more verbose of {@code log.level} and that level: {@code -q} in a
 * crontab quiets the mail cron sends, not the record kept on disk; {@code -v} adds detail
 * everywhere.
 */
public final class Log implements AutoCloseable {
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

        private Level chattier(Level other) {
            return ordinal() >= other.ordinal() ? this : other;
        }
    }

    /** A destination besides stderr. */
    interface Sink extends AutoCloseable {
        /**
         * Writes one record; never throws. Returns a warning the first time the destination
         * fails (to be logged once), else null.
         */
        String write(Level level, Instant time, String line, String message);

        @Override
        void close();
    }

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    private final PrintStream err;
    private final Clock clock;
    private final Level level;
    private final Level sinkLevel;
    private final List<Sink> sinks;
    private volatile String context = "";
    private volatile boolean closed;

    /** A log on stderr only. */
    public Log(PrintStream err, Clock clock, Level level) {
        this(err, clock, level, level, List.of());
    }

    private Log(PrintStream err, Clock clock, Level level, Level sinkLevel, List<Sink> sinks) {
        this.err = err;
        this.clock = clock;
        this.level = level;
        this.sinkLevel = sinkLevel;
        this.sinks = sinks;
    }

    /**
     * The log of one invocation: stderr at {@code level}, plus {@code log.file} and {@code
     * log.syslog} when set. A destination that cannot be opened costs one warning; custos carries
     * on with the others. {@code host}: the name syslog records carry.
     */
    public static Log open(PrintStream err, Clock clock, Level level, Config.LogSettings settings, String host) {
        return open(err, clock, level, settings, host, LogFile.Rotation.DEFAULT);
    }

    static Log open(
            PrintStream err,
            Clock clock,
            Level level,
            Config.LogSettings settings,
            String host,
            LogFile.Rotation rotation) {
        if (settings == null || (settings.file() == null && settings.syslog() == null)) {
            return new Log(err, clock, level);
        }
        List<Sink> sinks = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        if (settings.file() != null) {
            try {
                sinks.add(LogFile.open(RawPaths.path(settings.file()), rotation));
            } catch (IOException | RuntimeException e) {
                warnings.add(
                        "cannot write the log file " + settings.file() + " (" + reason(e) + "); logging without it");
            }
        }
        if (settings.syslog() != null) {
            try {
                sinks.add(SyslogSender.open(settings.syslog(), host, ZoneId.systemDefault()));
            } catch (IOException | RuntimeException e) {
                warnings.add("cannot log to syslog at " + settings.syslog().host() + ":"
                        + settings.syslog().port() + " (" + reason(e) + "); logging without it");
            }
        }
        Level fromConfig = settings.level() == null ? level : Level.parse(settings.level());
        Log log = new Log(err, clock, level, level.chattier(fromConfig), List.copyOf(sinks));
        for (String w : warnings) {
            log.warn("%s", w);
        }
        return log;
    }

    static String reason(Exception e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + m;
    }

    /** Tags every following line with the run id. */
    public void runId(long runId) {
        this.context = "[run " + runId + "] ";
    }

    /** Whether a line of this level goes anywhere (to skip costly messages). */
    public boolean enabled(Level l) {
        return toStderr(l) || toSinks(l);
    }

    private boolean toStderr(Level l) {
        return l.ordinal() <= level.ordinal();
    }

    private boolean toSinks(Level l) {
        return !sinks.isEmpty() && !closed && l.ordinal() <= sinkLevel.ordinal();
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

    /** Set by {@link Progress} while its bar stands on stderr's current line. */
    private volatile boolean barOnLine;

    void barOnLine(boolean shown) {
        this.barOnLine = shown;
    }

    private void log(Level l, String fmt, Object... args) {
        boolean toErr = toStderr(l);
        boolean toSinks = toSinks(l);
        if (!toErr && !toSinks) {
            return;
        }
        String msg = args.length == 0 ? fmt : String.format(Locale.ROOT, fmt, args);
        Instant now = Instant.now(clock);
        String tagged = context + msg;
        String line = TIME.format(now) + " " + l + " " + tagged;
        if (toErr) {
            synchronized (err) {
                // A progress bar is on the line: wipe it, the next redraw puts it back below.
                err.println(barOnLine ? "\r\033[K" + line : line);
            }
        }
        if (toSinks) {
            List<String> failures = null;
            synchronized (sinks) {
                for (Sink s : sinks) {
                    String failure = s.write(l, now, line, tagged);
                    if (failure != null) {
                        failures = failures == null ? new ArrayList<>() : failures;
                        failures.add(failure);
                    }
                }
            }
            // Each sink reports its failure once, so this cannot recurse more than once per sink.
            if (failures != null) {
                for (String f : failures) {
                    warn("%s", f);
                }
            }
        }
    }

    /** Releases the syslog socket. Lines logged afterwards go to stderr only. */
    @Override
    public void close() {
        synchronized (sinks) {
            closed = true;
            for (Sink s : sinks) {
                s.close();
            }
        }
    }
}
