package io.custos.cli;

import io.custos.catalog.Catalog;
import io.custos.config.Config;
import io.custos.config.ConfigLoader;
import io.custos.run.Findings;
import io.custos.run.Log;
import io.custos.run.RunContext;
import io.custos.run.Workspace;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code custos}: the global options; every command below inherits them. */
@Command(
        name = "custos",
        mixinStandardHelpOptions = true,
        versionProvider = RootCommand.Version.class,
        description = "Keeps the data on a NAS safe: a SHA-256 catalog of every file, change tracking, bitrot checks.",
        subcommands = {
            ScanCommand.class,
            VerifyCommand.class,
            RepairCommand.class,
            ZipCommand.class,
            LinkCommand.class,
            PayloadCommand.class,
            RehomeCommand.class,
            StatusCommand.class,
            HistoryCommand.class,
            EventsCommand.class,
            NotifyCommand.class,
            CompletionCommand.class
        })
public final class RootCommand implements Callable<Integer> {
    private final Context ctx;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            scope = ScopeType.INHERIT,
            description = "Configuration file (default: $CUSTOS_CONFIG, else /etc/custos/config.json if present).")
    String config;

    @Option(
            names = "--json",
            scope = ScopeType.INHERIT,
            description = "Print one JSON object with the result on stdout.")
    boolean json;

    @Option(
            names = {"-v", "--verbose"},
            scope = ScopeType.INHERIT,
            description = "More log detail on stderr (-vv for even more).")
    boolean[] verbose = new boolean[0];

    @Option(
            names = {"-q", "--quiet"},
            scope = ScopeType.INHERIT,
            description = "Only errors on stderr.")
    boolean quiet;

    @Option(names = "--stacktrace", scope = ScopeType.INHERIT, description = "Show the stack trace of an error.")
    boolean stacktrace;

    public RootCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(ctx.err());
        return io.custos.run.ExitCode.USAGE.code();
    }

    boolean json() {
        return json;
    }

    boolean stacktrace() {
        return stacktrace;
    }

    /** Loads the configuration (flags > environment > file > defaults). */
    Config loadConfig() {
        return new ConfigLoader(ctx.env()).load(config);
    }

    /** The logger for this invocation: level from -q/-v, else from log.level. */
    Log log(Config cfg) {
        Log.Level level;
        if (quiet) {
            level = Log.Level.ERROR;
        } else if (verbose.length >= 2) {
            level = Log.Level.TRACE;
        } else if (verbose.length == 1) {
            level = Log.Level.DEBUG;
        } else {
            level = cfg == null ? Log.Level.INFO : Log.Level.parse(cfg.log().level());
        }
        return Log.open(ctx.err(), ctx.clock(), level, cfg == null ? null : cfg.log(), ctx.host());
    }

    /** Progress: a bar on a terminal, a log line every 30 s otherwise; with -q none on stderr. */
    io.custos.run.Progress progress(Log log) {
        io.custos.run.Progress.Mode mode;
        if (quiet) {
            // Not on stderr; a log file or syslog that takes info lines still gets them.
            mode = io.custos.run.Progress.Mode.LOG;
        } else if (ctx.err() == System.err && io.custos.run.Progress.stderrIsTerminal()) {
            mode = io.custos.run.Progress.Mode.BAR;
        } else {
            mode = io.custos.run.Progress.Mode.LOG;
        }
        return new io.custos.run.Progress(ctx.err(), log, mode);
    }

    /**
     * A run that could not start (another run holds the lock, par2 missing, an unknown root...):
     * the notification targets hear {@code run.failed}, then the error goes on to the exit code.
     */
    RuntimeException notStarted(Config cfg, String command, Log log, RuntimeException e) {
        if (cfg != null && !cfg.notifications().targets().isEmpty()) {
            io.custos.run.RunSummary s = new io.custos.run.RunSummary(
                            command, ctx.clock().instant())
                    .exitCode(Cli.exitCodeOf(e))
                    .error(Cli.messageOf(e));
            s.finishedAt(ctx.clock().instant());
            io.custos.notify.Notifier notifier =
                    new io.custos.notify.Notifier(cfg.notifications().targets(), log);
            for (io.custos.notify.Notice n : io.custos.notify.RunNotices.of(s, ctx.host(), List.of())) {
                notifier.send(n);
            }
        }
        return e;
    }

    /**
     * A recorded run of a mutating command: the lock and the run row (a failure there is thrown: the
     * run did not start), then {@code body}, whose error goes into the summary; then the summary is
     * written to {@code _logs/}, the catalog backed up, and notices sent once the lock is free.
     */
    void recorded(Config cfg, String command, Log log, io.custos.run.RunSummary summary, Consumer<Workspace> body) {
        try (Workspace ws = Workspace.open(cfg, command, ctx.host(), ctx.clock(), log)) {
            summary.runId(ws.runId());
            try {
                body.accept(ws);
            } catch (RuntimeException e) {
                // The run is recorded with its error, and the object printed is the one recorded.
                summary.exitCode(Cli.report(ctx, stacktrace, e)).error(Cli.messageOf(e));
            }
            long t0 = System.nanoTime();
            ws.finish(summary);
            log.debug("record and back up: %d ms", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /** What the parts of a dry run share: the catalog opened read-only, nothing recorded (run id 0). */
    RunContext dryRun(Config cfg, Catalog catalog, Path par2, Log log, String... counters) {
        return new RunContext(
                cfg,
                catalog,
                Workspace.parityRoot(cfg),
                par2,
                0,
                ctx.clock(),
                log,
                ctx.cancel(),
                new Findings(log, counters),
                progress(log));
    }

    /** {@code --version}: the version of the jar. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"custos " + version()};
        }
    }

    static String version() {
        return io.custos.run.Version.of();
    }
}
