package io.custos.cli;

import io.custos.catalog.CatalogException;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.RunSummary;
import java.io.PrintWriter;
import picocli.CommandLine;

/** The one {@link CommandLine} factory, used by {@link Main} and by the tests. */
public final class Cli {
    private Cli() {}

    public static CommandLine create(Context ctx) {
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
        cl.setExecutionExceptionHandler((ex, line, parsed) -> handle(ex, line, ctx));
        cl.setParameterExceptionHandler((ex, args) -> {
            ctx.err().println("custos: " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, ctx.err());
            ctx.err()
                    .println("Try 'custos "
                            + (ex.getCommandLine() == cl
                                    ? ""
                                    : ex.getCommandLine().getCommandName() + " ") + "--help' for more information.");
            return ExitCode.USAGE.code();
        });
        return cl;
    }

    /** Parses and runs; returns the exit code. */
    public static int run(String[] args, Context ctx) {
        return create(ctx).execute(args);
    }

    private static int handle(Exception ex, CommandLine line, Context ctx) {
        RootCommand root = line.getCommandSpec().root().userObject() instanceof RootCommand r ? r : null;
        ExitCode code;
        String message;
        if (ex instanceof CustosException ce) {
            code = ce.exitCode();
            message = ce.getMessage();
        } else if (ex instanceof CatalogException) {
            code = ExitCode.ENVIRONMENT;
            message = ex.getMessage();
        } else {
            code = ExitCode.PROBLEMS;
            message = "internal error: " + ex + " (run with --stacktrace for details)";
        }
        ctx.err().println("custos: " + message);
        if (root != null && root.stacktrace()) {
            ex.printStackTrace(ctx.err());
        }
        if (root != null && root.json()) {
            RunSummary s = new RunSummary(line.getCommandName(), ctx.clock().instant())
                    .exitCode(code)
                    .error(message)
                    .finishedAt(ctx.clock().instant());
            ctx.out().println(s.toJson());
        }
        return code.code();
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
