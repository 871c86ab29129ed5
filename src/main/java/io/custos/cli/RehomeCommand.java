package io.custos.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.custos.catalog.Catalog;
import io.custos.config.Config;
import io.custos.fs.AtomicFiles;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.run.RunContext;
import io.custos.run.RunSummary;
import io.custos.run.Units;
import io.custos.run.Workspace;
import io.custos.torrent.QbClient;
import io.custos.torrent.RehomeApply;
import io.custos.torrent.RehomePlan;
import io.custos.torrent.RehomePlanner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "rehome",
        mixinStandardHelpOptions = true,
        description = {
            "Move seed-only payloads between the fast stash and the big pool without breaking a torrent: plan"
                    + " (BLOCK, REUSE or MOVE), then apply. custos moves the data itself and only points torrents at"
                    + " files already in place."
        },
        subcommands = {RehomeCommand.Plan.class, RehomeCommand.Apply.class})
final class RehomeCommand implements Callable<Integer> {
    private static final DateTimeFormatter FILE_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final Duration UNDO_PATIENCE = Duration.ofMinutes(2);

    private final Context ctx;

    @ParentCommand
    RootCommand root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    RehomeCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(ctx.err());
        return ExitCode.USAGE.code();
    }

    static final class Direction {
        @Option(names = "--demote", required = true, description = "From the stash to the pool.")
        boolean demote;

        @Option(names = "--promote", required = true, description = "From the pool to the stash (reuse only).")
        boolean promote;
    }

    static final class Subject {
        @Option(
                names = "--torrent",
                paramLabel = "H",
                required = true,
                description = "A torrent's info-hash (or a" + " prefix of at least 6 digits); its siblings go with it.")
        String torrent;

        @Option(
                names = "--payload",
                paramLabel = "P",
                required = true,
                description = "A payload hash (or a prefix" + " of at least 6 digits).")
        String payload;
    }

    @Command(
            name = "plan",
            mixinStandardHelpOptions = true,
            modelTransformer = NotifyCommand.ExitStatusFooter.class,
            description = {
                "Decide BLOCK, REUSE or MOVE for a payload and all its sibling torrents, and write the plan file"
                        + " (default: <parity_root>/_rehome/<time>-<hash>-<direction>.json). Reads qBittorrent, the"
                        + " catalog and the disk; changes nothing else.",
                "Exits 0 when the plan is written, whatever its decision; 2 on a usage or configuration error; 5"
                        + " when qBittorrent cannot be reached."
            })
    static final class Plan implements Callable<Integer> {
        private final Context ctx;

        @ParentCommand
        RehomeCommand parent;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Direction direction;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Subject subject;

        @Option(
                names = {"-o", "--output"},
                paramLabel = "FILE",
                description = "Write the plan here.")
        String output;

        Plan(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Integer call() throws IOException {
            Config cfg = parent.root.loadConfig();
            Log log = parent.root.log(cfg);
            RunSummary s = new RunSummary("rehome plan", ctx.clock().instant());
            RehomePlan.Request req =
                    new RehomePlan.Request(direction.demote ? "demote" : "promote", subject.torrent, subject.payload);
            RehomePlan plan;
            try (Catalog c = ReadCommands.open(cfg)) {
                QbClient qb = new QbClient(cfg.qbittorrent(), log);
                plan = new RehomePlanner(cfg, c, qb, ctx.clock(), ctx.host())
                        .plan(req)
                        .plan();
            }
            Path file = output != null
                    ? ctx.workingDir().resolve(output)
                    : Workspace.parityRoot(cfg)
                            .resolve("_rehome")
                            .resolve(FILE_TIME.format(ctx.clock().instant()) + "-"
                                    + (plan.payloadHash() == null
                                            ? "nohash"
                                            : plan.payloadHash().substring(0, 12))
                                    + "-" + req.direction() + ".json");
            java.nio.file.Files.createDirectories(file.toAbsolutePath().getParent());
            AtomicFiles.write(file, (plan.toJson() + "\n").getBytes(StandardCharsets.UTF_8), true);
            @SuppressWarnings("unchecked")
            Map<String, Object> m = new ObjectMapper().readValue(plan.toJson(), Map.class);
            s.put("plan_file", file.toString()).put("decision", plan.decision()).put("plan", m);
            s.exitCode(ExitCode.OK).finishedAt(ctx.clock().instant());
            parent.print(s, text(plan, file));
            return 0;
        }

        private static String text(RehomePlan p, Path file) {
            StringBuilder sb = new StringBuilder();
            sb.append("rehome plan --")
                    .append(p.direction())
                    .append(": ")
                    .append(p.decision())
                    .append('\n');
            p.reasons().forEach(r -> sb.append("  because ").append(r).append('\n'));
            sb.append("  payload ")
                    .append(p.payloadHash() == null ? "-" : p.payloadHash())
                    .append(": ");
            sb.append(p.files())
                    .append(" files, ")
                    .append(Units.bytes(p.bytes()))
                    .append('\n');
            sb.append("  from ").append(p.source().path()).append('\n');
            if (p.target() != null) {
                sb.append("  to   ")
                        .append(p.target().path())
                        .append(p.sameFilesystem() == null ? "" : p.sameFilesystem() ? " (same filesystem)" : " (copy)")
                        .append('\n');
            }
            for (RehomePlan.Sibling t : p.siblings()) {
                sb.append(String.format(
                        Locale.ROOT, "  torrent %s %-6s %s (%s)%n", t.hash(), t.action(), t.name(), t.state()));
            }
            sb.append("  plan written to ").append(file).append('\n');
            if (!p.blocked()) {
                sb.append("  carry out:  custos rehome apply ").append(file).append(" --force\n");
            }
            return sb.toString();
        }
    }

    @Command(
            name = "apply",
            mixinStandardHelpOptions = true,
            modelTransformer = NotifyCommand.ExitStatusFooter.class,
            description = {
                "Carry a rehome plan out. The facts are checked again first: a BLOCK plan, or one whose facts"
                        + " changed, is refused. Any failure puts every torrent back on the source, which is never"
                        + " touched before the torrents are confirmed on the target.",
                "Exits 1 when the apply failed (and was undone), 2 for a BLOCK plan or a usage error, 3 when another"
                        + " run holds the lock, 4 when the plan is stale, 5 when qBittorrent cannot be reached."
            })
    static final class Apply implements Callable<Integer> {
        private final Context ctx;

        @ParentCommand
        RehomeCommand parent;

        @Parameters(paramLabel = "FILE", description = "The plan file rehome plan wrote.")
        String file;

        @Option(names = "--dry-run", description = "List the steps; change nothing (no lock, no run recorded).")
        boolean dryRun;

        @Option(names = "--force", description = "Carry the plan out.")
        boolean force;

        @Option(
                names = "--spot-check",
                paramLabel = "N",
                description = "After a copy across filesystems, read back N files (the largest first) and compare"
                        + " their SHA-256 with the catalog (default 3; 0: none; every byte is hashed while copied).")
        int spotCheck = 3;

        @Option(
                names = "--cleanup-source",
                description = "With REUSE, also remove the source copy once the torrents are confirmed (a MOVE always"
                        + " does).")
        boolean cleanupSource;

        Apply(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Integer call() {
            if (dryRun == force) {
                throw CustosException.usage("rehome apply needs exactly one of --dry-run (list the steps) and --force"
                        + " (carry the plan out)");
            }
            if (spotCheck < 0) {
                throw CustosException.usage("--spot-check must be 0 or more, got " + spotCheck);
            }
            RootCommand root = parent.root;
            Config cfg = root.loadConfig();
            Log log = root.log(cfg);
            Path planFile = ctx.workingDir().resolve(file);
            RehomePlan plan = RehomePlan.read(planFile);
            RehomeApply.Options o = new RehomeApply.Options(dryRun, spotCheck, cleanupSource, UNDO_PATIENCE);
            QbClient qb = new QbClient(cfg.qbittorrent(), log);
            QbClient.Sleeper sleeper = d -> Thread.sleep(d.toMillis());
            RunSummary s = new RunSummary("rehome apply", ctx.clock().instant());
            if (dryRun) {
                try (Catalog c = ReadCommands.open(cfg)) {
                    RunContext run = root.dryRun(cfg, c, null, log, RehomeApply.COUNTERS);
                    new RehomeApply(run, qb, ctx.host(), sleeper)
                            .apply(plan, planFile, new RehomePlanner(cfg, c, qb, ctx.clock(), ctx.host()), o, s);
                    run.findings().fill(s);
                }
                s.finishedAt(ctx.clock().instant());
            } else {
                try {
                    root.recorded(cfg, "rehome apply", log, s, ws -> {
                        RunContext run = ws.context(null, ctx.cancel(), root.progress(log), RehomeApply.COUNTERS);
                        new RehomeApply(run, qb, ctx.host(), sleeper)
                                .apply(
                                        plan,
                                        planFile,
                                        new RehomePlanner(cfg, ws.catalog(), qb, ctx.clock(), ctx.host()),
                                        o,
                                        s);
                        run.findings().fill(s);
                    });
                } catch (RuntimeException e) {
                    throw root.notStarted(cfg, "rehome apply", log, e);
                }
            }
            parent.print(s, text(s));
            return s.exitCode().code();
        }

        @SuppressWarnings("unchecked")
        private static String text(RunSummary s) {
            StringBuilder sb = new StringBuilder();
            sb.append(s.command())
                    .append(s.runId() == null ? "" : " (run " + s.runId() + ")")
                    .append(Boolean.TRUE.equals(s.extra().get("dry_run")) ? " --dry-run" : "")
                    .append(": ")
                    .append(
                            s.extra().get("status") == null
                                    ? Render.verdict(s)
                                    : s.extra().get("status"))
                    .append('\n');
            if (s.error() != null) {
                sb.append("  error: ").append(s.error()).append('\n');
            }
            sb.append("  ")
                    .append(s.extra().get("decision"))
                    .append(' ')
                    .append(s.extra().get("source"))
                    .append(" -> ")
                    .append(s.extra().get("target"))
                    .append('\n');
            List<Map<String, Object>> steps =
                    (List<Map<String, Object>>) s.extra().get("steps");
            if (steps != null) {
                for (Map<String, Object> st : steps) {
                    sb.append(String.format(
                            Locale.ROOT,
                            "  %-7s %s%s%s%s%n",
                            st.get("status"),
                            st.get("action"),
                            st.get("torrent") == null || "".equals(st.get("torrent")) ? "" : " " + st.get("torrent"),
                            st.get("path") == null ? "" : " " + st.get("path"),
                            st.get("detail") == null ? "" : ": " + st.get("detail")));
                }
            }
            if (s.stats() != null && !s.stats().isEmpty()) {
                sb.append("  ").append(Render.counters(s.stats())).append('\n');
            }
            Render.appendProblems(sb, s.problems());
            return sb.toString();
        }
    }

    void print(RunSummary s, String text) {
        if (root.json()) {
            ctx.out().println(s.toJson());
        } else {
            ctx.out().print(text);
        }
    }
}
