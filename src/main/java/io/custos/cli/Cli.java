package io.custos.cli;

import io.custos.catalog.CatalogException;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.RunSummary;
import java.io.PrintWriter;
import java.time.Instant;
import picocli.CommandLine;

/** The one {@link CommandLine} factory, used by {@link Main} and by the tests. */
public final class Cli {
    private Cli() {}

    public static CommandLine create(Context ctx) {
        Instant started = ctx.clock().instant();
        CommandLine cl = new CommandLine(new RootCommand(ctx), new Factory(ctx));
        cl.setOut(new PrintWriter(ctx.out(), true));
        cl.setErr(new PrintWriter(ctx.err(), true));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpWidth(100);
        String footer = "%nExit status:%n" + ExitCode.table().replace("%", "%%");
        cl.getCommandSpec().usageMessage().footer(footer);
        for (CommandLine sub : cl.getSubcommands().values()) {
            sub.getCommandSpec().usageMessage().footer(footer);
        }
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            RootCommand root = (RootCommand) line.getCommandSpec().root().userObject();
            ExitCode code = report(ctx, root.stacktrace(), ex);
            if (root.json()) {
                ctx.out()
                        .println(failure(line.getCommandName(), started, ctx, code, ex)
                                .toJson());
            }
            return code.code();
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            ctx.err().println("custos: " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, ctx.err());
            boolean sub = ex.getCommandLine() != cl;
            ctx.err()
                    .println("Try 'custos " + (sub ? ex.getCommandLine().getCommandName() + " " : "")
                            + "--help' for more information.");
            if (java.util.Arrays.asList(args).contains("--json")) {
                ctx.out()
                        .println(failure(
                                        sub ? ex.getCommandLine().getCommandName() : null,
                                        started,
                                        ctx,
                                        ExitCode.USAGE,
                                        ex)
                                .toJson());
            }
            return ExitCode.USAGE.code();
        });
        return cl;
    }

    /** Parses and runs; returns the exit code. */
    public static int run(String[] args, Context ctx) {
        return create(ctx).execute(args);
    }

    /** The exit code an error stands for: its own, 5 for an unusable catalog, else 1. */
    static ExitCode exitCodeOf(Exception ex) {
        if (ex instanceof CustosException ce) {
            return ce.exitCode();
        }
        if (ex instanceof CatalogException) {
            return ExitCode.ENVIRONMENT;
        }
        return ExitCode.PROBLEMS;
    }

    static String messageOf(Exception ex) {
        if (ex instanceof CustosException
                || ex instanceof CatalogException
                || ex instanceof CommandLine.ParameterException) {
            return ex.getMessage();
        }
        return "internal error: " + ex + " (run with --stacktrace for details)";
    }

    /** Tells the user on stderr (with the stack trace when asked); returns the exit code. */
    static ExitCode report(Context ctx, boolean stacktrace, Exception ex) {
        ctx.err().println("custos: " + messageOf(ex));
        if (stacktrace) {
            ex.printStackTrace(ctx.err());
        }
        return exitCodeOf(ex);
    }

    private static RunSummary failure(String command, Instant started, Context ctx, ExitCode code, Exception ex) {
        return new RunSummary(command, started)
                .exitCode(code)
                .error(messageOf(ex))
                .finishedAt(ctx.clock().instant());
    }

    /** Builds commands with the context, so that they need no globals. */
    private static final class Factory implements CommandLine.IFactory {
        private final Context ctx;
        private final CommandLine.IFactory fallback = CommandLine.defaultFactory();

        Factory(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public <K> K create(Class<K> cls) throws Exception {
            try {
                return cls.getDeclaredConstructor(Context.class).newInstance(ctx);
            } catch (NoSuchMethodException e) {
                return fallback.create(cls);
            }
        }
    }
}
