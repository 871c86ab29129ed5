package io.custos.cli;

import io.custos.config.Config;
import io.custos.notify.Notice;
import io.custos.notify.Notifier;
import io.custos.run.ExitCode;
import io.custos.run.RunSummary;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "notify",
        mixinStandardHelpOptions = true,
        description = "Notification targets (notify.targets in the configuration).",
        subcommands = NotifyCommand.Test.class)
final class NotifyCommand implements Callable<Integer> {
    private final Context ctx;

    @ParentCommand
    RootCommand root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    NotifyCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(ctx.err());
        return ExitCode.USAGE.code();
    }

    @Command(
            name = "test",
            mixinStandardHelpOptions = true,
            modelTransformer = ExitStatusFooter.class,
            description = {
                "Send a test message to every configured notification target, whatever its events filter,"
                        + " and report per target whether it arrived.",
                "Exits 1 when a target failed, 0 when all got it or none is configured. Takes no lock and"
                        + " records no run."
            })
    static final class Test implements Callable<Integer> {
        private final Context ctx;

        @ParentCommand
        NotifyCommand parent;

        Test(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Integer call() {
            RootCommand root = parent.root;
            Config cfg = root.loadConfig();
            List<Config.Target> targets = cfg.notifications().targets();
            RunSummary s = new RunSummary("notify", ctx.clock().instant()).stats(Map.of());
            List<Notifier.Delivery> deliveries = targets.isEmpty()
                    ? List.of()
                    : new Notifier(targets, root.log(cfg))
                            .send(Notice.test(ctx.host(), ctx.clock().instant()));
            List<Map<String, Object>> report = new ArrayList<>();
            boolean failed = false;
            for (Notifier.Delivery d : deliveries) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("type", d.type());
                m.put("url", d.url());
                m.put("ok", d.ok());
                m.put("attempts", d.attempts());
                m.put("error", d.error());
                report.add(m);
                failed |= !d.ok();
            }
            s.put("targets", report)
                    .exitCode(failed ? ExitCode.PROBLEMS : ExitCode.OK)
                    .finishedAt(ctx.clock().instant());
            if (root.json()) {
                ctx.out().println(s.toJson());
            } else if (targets.isEmpty()) {
                ctx.out()
                        .println("no notification targets configured: add notify.targets to the configuration"
                                + " (see docs/notifications.md)");
            } else {
                for (Notifier.Delivery d : deliveries) {
                    ctx.out().println(line(d));
                }
            }
            return s.exitCode().code();
        }

        static String line(Notifier.Delivery d) {
            String attempts = d.attempts() == 1 ? "1 attempt" : d.attempts() + " attempts";
            if (d.ok()) {
                return "ok " + d.type() + " " + d.url() + " (" + attempts + ")";
            }
            return "FAILED " + d.type() + " " + d.url() + (d.attempts() == 0 ? "" : " after " + attempts) + ": "
                    + d.error();
        }
    }

    /** Cli adds the exit-code table to the direct subcommands only; this adds it to {@code notify test}. */
    static final class ExitStatusFooter implements CommandLine.IModelTransformer {
        @Override
        public CommandLine.Model.CommandSpec transform(CommandLine.Model.CommandSpec spec) {
            spec.usageMessage().footer("%nExit status:%n" + ExitCode.table().replace("%", "%%"));
            return spec;
        }
    }
}
