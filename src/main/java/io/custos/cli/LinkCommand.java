package io.custos.cli;

import io.custos.catalog.Catalog;
import io.custos.catalog.LinkTable;
import io.custos.config.Config;
import io.custos.dedup.Duplicates;
import io.custos.dedup.LinkExecutor;
import io.custos.dedup.LinkPlanner;
import io.custos.dedup.Plans;
import io.custos.exec.ProcessPriority;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.run.RunContext;
import io.custos.run.RunSummary;
import io.custos.run.Units;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "link",
        mixinStandardHelpOptions = true,
        description = {
            "Hardlink dedup: find files of equal content on one filesystem (from the catalog: scan first),"
                    + " store a plan, then replace each duplicate by a hardlink of one kept file, checking"
                    + " every file before it is touched."
        },
        subcommands = {
            LinkCommand.Analyze.class,
            LinkCommand.Plan.class,
            LinkCommand.ListPlans.class,
            LinkCommand.ShowPlan.class,
            LinkCommand.Execute.class
        })
final class LinkCommand implements Callable<Integer> {
    private static final int TEXT_ROWS = 20;

    private final Context ctx;

    @ParentCommand
    RootCommand root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    LinkCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(ctx.err());
        return ExitCode.USAGE.code();
    }

    /** {@code --min-size}: bytes, or with a K, M, G or T suffix (powers of 1024). */
    static final class ByteSize implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            String v = value.trim().toUpperCase(Locale.ROOT);
            long unit = 1;
            if (v.endsWith("IB")) {
                v = v.substring(0, v.length() - 2);
            } else if (v.endsWith("B")) {
                v = v.substring(0, v.length() - 1);
            }
            if (!v.isEmpty() && "KMGT".indexOf(v.charAt(v.length() - 1)) >= 0) {
                unit = 1L << (10 * ("KMGT".indexOf(v.charAt(v.length() - 1)) + 1));
                v = v.substring(0, v.length() - 1);
            }
            try {
                long n = Long.parseLong(v);
                if (n < 1) {
                    throw new CommandLine.TypeConversionException("must be at least 1 byte, got '" + value + "'");
                }
                return Math.multiplyExact(n, unit);
            } catch (NumberFormatException | ArithmeticException e) {
                throw new CommandLine.TypeConversionException(
                        "'" + value + "' is not a size (bytes, or a number with K, M, G or T)");
            }
        }
    }

    /** The files analyze and plan look at: {@code --min-size} and {@code --root}. */
    static final class Filter {
        @Option(
                names = "--min-size",
                paramLabel = "N",
                converter = ByteSize.class,
                description = "Only files of at least N bytes (K, M, G, T suffixes; default: link.min_size).")
        Long minSize;

        @Option(names = "--root", paramLabel = "R", description = "Only files in this root (repeatable).")
        List<String> roots = new ArrayList<>();

        long minSize(Config cfg) {
            return minSize != null ? minSize : cfg.link().minSize();
        }
    }

    private void print(RunSummary s, String text) {
        if (root.json()) {
            ctx.out().println(s.toJson());
        } else {
            ctx.out().print(text);
        }
    }

    @Command(
            name = "analyze",
            mixinStandardHelpOptions = true,
            modelTransformer = NotifyCommand.ExitStatusFooter.class,
            description = {
                "Duplicate groups from the catalog: files of equal SHA-256 and size on more than one inode of"
                        + " one filesystem, largest reclaimable bytes first. Reads no file; takes no lock.",
                "Exits 0; 2 when no root has been scanned yet."
            })
    static final class Analyze implements Callable<Integer> {
        private final Context ctx;

        @ParentCommand
        LinkCommand parent;

        @Option(
                names = "--cross-device",
                description = "Also list contents found on several filesystems (never linked; for information).")
        boolean crossDevice;

        @CommandLine.Mixin
        Filter filter;

        Analyze(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Integer call() {
            Config cfg = parent.root.loadConfig();
            RunSummary s = new RunSummary("link analyze", ctx.clock().instant());
            long min = filter.minSize(cfg);
            try (Catalog c = ReadCommands.open(cfg)) {
                Plans.Scope scope =
                        Plans.scope(cfg, c, filter.roots, ctx.clock().millis());
                Duplicates.Analysis a = Duplicates.find(c, scope.roots(), min, crossDevice);
                List<Map<String, Object>> groups = new ArrayList<>();
                a.groups().forEach(g -> groups.add(Plans.groupMap(g)));
                Map<String, Long> stats = new java.util.LinkedHashMap<>();
                stats.put("groups", (long) a.groups().size());
                stats.put("files", a.files());
                stats.put("reclaimable_bytes", a.reclaimable());
                stats.put("cross_device_groups", (long) a.crossDevice().size());
                s.stats(stats)
                        .put("min_size", min)
                        .put("warnings", scope.warnings())
                        .put("groups", groups);
                if (crossDevice) {
                    List<Map<String, Object>> cross = new ArrayList<>();
                    a.crossDevice().forEach(x -> cross.add(Plans.crossDeviceMap(x)));
                    s.put("cross_device", cross);
                }
                s.exitCode(ExitCode.OK).finishedAt(ctx.clock().instant());
                parent.print(s, text(a, scope.warnings(), crossDevice));
                return 0;
            }
        }

        private static String text(Duplicates.Analysis a, List<String> warnings, boolean crossDevice) {
            StringBuilder sb = new StringBuilder();
            warnings.forEach(w -> sb.append("warning: ").append(w).append('\n'));
            sb.append(String.format(
                    Locale.ROOT,
                    "%d duplicate groups, %d files, %s reclaimable%n",
                    a.groups().size(),
                    a.files(),
                    Units.bytes(a.reclaimable())));
            int n = 0;
            for (Duplicates.Group g : a.groups()) {
                if (++n > TEXT_ROWS) {
                    sb.append("  ... ")
                            .append(a.groups().size() - TEXT_ROWS)
                            .append(" more groups (--json lists all)\n");
                    break;
                }
                sb.append(String.format(
                        Locale.ROOT,
                        "  %s reclaimable: %d copies of %s (%s)%n",
                        Units.bytes(g.reclaimable()),
                        g.inodes(),
                        Units.bytes(g.size()),
                        java.util.HexFormat.of().formatHex(g.sha256()).substring(0, 12)));
                for (Duplicates.Member m : g.members()) {
                    sb.append(m == g.keep() ? "    keep " : "         ")
                            .append(m.display())
                            .append('\n');
                }
            }
            if (crossDevice) {
                sb.append(a.crossDevice().size())
                        .append(" contents are on several filesystems (not linkable; see --json)\n");
            }
            return sb.toString();
        }
    }

    @Command(
            name = "plan",
            mixinStandardHelpOptions = true,
            modelTransformer = NotifyCommand.ExitStatusFooter.class,
            description = {
                "Store a plan: one action per duplicate path, to be replaced by a hardlink of the group's kept"
                        + " file (lowest inode, then shortest path, then alphabetical). Prints the plan's id.",
                "Exits 0; 2 when no root has been scanned yet; 3 when another run holds the lock."
            })
    static final class Plan implements Callable<Integer> {
        private final Context ctx;

        @ParentCommand
        LinkCommand parent;

        @Option(names = "--name", paramLabel = "N", description = "A name for the plan, shown by link list.")
        String name;

        @CommandLine.Mixin
        Filter filter;

        Plan(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Integer call() {
            RootCommand root = parent.root;
            Config cfg = root.loadConfig();
            Log log = root.log(cfg);
            long min = filter.minSize(cfg);
            RunSummary s = new RunSummary("link plan", ctx.clock().instant());
            try {
                root.recorded(cfg, "link plan", log, s, ws -> {
                    Plans.Scope scope = Plans.scope(
                            cfg, ws.catalog(), filter.roots, ctx.clock().millis());
                    Duplicates.Analysis a = Duplicates.find(ws.catalog(), scope.roots(), min, false);
                    long id = LinkPlanner.store(
                            ws.catalog(),
                            a,
                            name,
                            min,
                            filter.roots,
                            ctx.clock().millis(),
                            ws.runId());
                    LinkTable.Plan p = ws.catalog().links().plan(id);
                    s.put("plan_id", id)
                            .put("plan", Plans.toMap(p, null))
                            .put("warnings", scope.warnings())
                            .exitCode(ExitCode.OK);
                });
                parent.print(s, s.error() != null ? "" : text(s));
            } catch (RuntimeException e) {
                throw root.notStarted(cfg, "link plan", log, e);
            }
            return s.exitCode().code();
        }

        @SuppressWarnings("unchecked")
        private static String text(RunSummary s) {
            StringBuilder sb = new StringBuilder();
            ((List<String>) s.extra().get("warnings"))
                    .forEach(w -> sb.append("warning: ").append(w).append('\n'));
            Map<String, Object> p = (Map<String, Object>) s.extra().get("plan");
            sb.append(String.format(
                    Locale.ROOT,
                    "link plan %s: %s actions in %s groups, %s reclaimable%n",
                    p.get("id"),
                    p.get("actions"),
                    p.get("groups"),
                    Units.bytes(((Number) p.get("reclaimable_bytes")).longValue())));
            if (((Number) p.get("actions")).longValue() > 0) {
                sb.append("  review it:  custos link show-plan ")
                        .append(p.get("id"))
                        .append('\n');
                sb.append("  carry out:  custos link execute ")
                        .append(p.get("id"))
                        .append('\n');
            }
            return sb.toString();
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            modelTransformer = NotifyCommand.ExitStatusFooter.class,
            description = {"The stored link plans, newest first, with their status.", "Exits 0."})
    static final class ListPlans implements Callable<Integer> {
        private final Context ctx;

        @ParentCommand
        LinkCommand parent;

        ListPlans(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Integer call() {
            Config cfg = parent.root.loadConfig();
            RunSummary s = new RunSummary("link list", ctx.clock().instant());
            List<Map<String, Object>> plans = new ArrayList<>();
            try (Catalog c = ReadCommands.open(cfg)) {
                if (c != null) {
                    for (LinkTable.Plan p : c.links().plans()) {
                        plans.add(Plans.toMap(p, c.links().counts(p.id())));
                    }
                }
            }
            s.put("plans", plans).exitCode(ExitCode.OK).finishedAt(ctx.clock().instant());
            StringBuilder sb = new StringBuilder();
            if (plans.isEmpty()) {
                sb.append("no link plans yet: custos link plan makes one\n");
            }
            for (Map<String, Object> p : plans) {
                sb.append(String.format(
                        Locale.ROOT,
                        "%4s  %-11s %s  %s actions, %s reclaimable%s%n",
                        p.get("id"),
                        p.get("status"),
                        p.get("created_at"),
                        p.get("actions"),
                        Units.bytes(((Number) p.get("reclaimable_bytes")).longValue()),
                        p.get("name") == null ? "" : "  (" + p.get("name") + ")"));
            }
            parent.print(s, sb.toString());
            return 0;
        }
    }

    @Command(
            name = "show-plan",
            mixinStandardHelpOptions = true,
            modelTransformer = NotifyCommand.ExitStatusFooter.class,
            description = {
                "One plan and its actions: what is kept, what is replaced, and for each action done, skipped or"
                        + " failed, why.",
                "Exits 0; 2 when there is no such plan."
            })
    static final class ShowPlan implements Callable<Integer> {
        private final Context ctx;

        @ParentCommand
        LinkCommand parent;

        @Parameters(paramLabel = "ID", description = "The plan's id (link list shows them).")
        long id;

        ShowPlan(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Integer call() {
            Config cfg = parent.root.loadConfig();
            RunSummary s = new RunSummary("link show-plan", ctx.clock().instant());
            try (Catalog c = ReadCommands.open(cfg)) {
                LinkTable.Plan p = c == null ? null : c.links().plan(id);
                if (p == null) {
                    throw CustosException.usage("there is no link plan " + id + " (custos link list shows the plans)");
                }
                Map<Long, Duplicates.Root> roots = Plans.rootsById(cfg, c);
                List<Map<String, Object>> actions = new ArrayList<>();
                for (LinkTable.Action a : c.links().actions(id, List.of())) {
                    actions.add(Plans.actionMap(a, roots, a.status(), a.reason()));
                }
                s.put("plan", Plans.toMap(p, c.links().counts(id)))
                        .put("actions", actions)
                        .exitCode(ExitCode.OK)
                        .finishedAt(ctx.clock().instant());
                parent.print(s, text(s));
                return 0;
            }
        }

        @SuppressWarnings("unchecked")
        private static String text(RunSummary s) {
            Map<String, Object> p = (Map<String, Object>) s.extra().get("plan");
            List<Map<String, Object>> actions =
                    (List<Map<String, Object>>) s.extra().get("actions");
            StringBuilder sb = new StringBuilder(planLine(p));
            int shown = 0;
            Object group = null;
            for (Map<String, Object> a : actions) {
                if (shown++ >= 200) {
                    sb.append("  ... ").append(actions.size() - 200).append(" more actions (--json lists all)\n");
                    break;
                }
                if (!a.get("group").equals(group)) {
                    group = a.get("group");
                    sb.append(String.format(
                            Locale.ROOT,
                            "  group %s, %s each, keep %s%n",
                            group,
                            Units.bytes(((Number) a.get("size")).longValue()),
                            where(a.get("keep"))));
                }
                sb.append(String.format(Locale.ROOT, "    %-8s %s", a.get("status"), where(a.get("duplicate"))));
                if (a.get("reason") != null && !"done".equals(a.get("status"))) {
                    sb.append(": ").append(a.get("reason"));
                }
                sb.append('\n');
            }
            return sb.toString();
        }
    }

    @Command(
            name = "execute",
            mixinStandardHelpOptions = true,
            modelTransformer = NotifyCommand.ExitStatusFooter.class,
            description = {
                "Carry a plan out. Each duplicate is checked first (still a regular file on the kept file's"
                        + " filesystem, size and mtime as planned, same content, same owner, group and mode;"
                        + " otherwise skipped with the reason), then replaced atomically by a hardlink of the kept"
                        + " file. An interrupted plan goes on where it stopped; a failed one retries its failed"
                        + " actions.",
                "Exits 1 when an action failed (link show-plan says why), 2 when there is no such plan."
            })
    static final class Execute implements Callable<Integer> {
        private final Context ctx;

        @ParentCommand
        LinkCommand parent;

        @Parameters(paramLabel = "ID", description = "The plan's id (link plan printed it).")
        long id;

        @Option(
                names = "--dry-run",
                description =
                        "Check each action's files (not their content) and say what would happen;" + " change nothing.")
        boolean dryRun;

        @Option(
                names = "--verify",
                paramLabel = "full|fast",
                description = "How equal content is proven: full compares the bytes (default), fast hashes both"
                        + " files and compares with the catalog's SHA-256.")
        String verify = "full";

        @Option(names = "--limit", paramLabel = "N", description = "Carry out at most N actions in this run.")
        Integer limit;

        Execute(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Integer call() {
            RootCommand root = parent.root;
            Config cfg = root.loadConfig();
            Log log = root.log(cfg);
            LinkExecutor.Verify how = switch (verify.toLowerCase(Locale.ROOT)) {
                case "full" -> LinkExecutor.Verify.FULL;
                case "fast" -> LinkExecutor.Verify.FAST;
                default -> throw CustosException.usage("--verify must be full or fast, got '" + verify + "'");
            };
            if (limit != null && limit < 1) {
                throw CustosException.usage("--limit must be at least 1, got " + limit);
            }
            LinkExecutor.Options o = new LinkExecutor.Options(how, limit, dryRun);
            RunSummary s = new RunSummary("link execute", ctx.clock().instant());
            if (dryRun) {
                try (Catalog c = ReadCommands.open(cfg)) {
                    LinkTable.Plan p = c == null ? null : c.links().plan(id);
                    if (p == null) {
                        throw CustosException.usage("there is no link plan " + id);
                    }
                    RunContext run = root.dryRun(cfg, c, null, log, LinkExecutor.COUNTERS);
                    new LinkExecutor(run, Plans.rootsById(cfg, c)).execute(p, o, s);
                    run.findings().fill(s);
                }
                s.finishedAt(ctx.clock().instant());
            } else {
                ProcessPriority.apply(cfg.process(), log);
                try {
                    root.recorded(cfg, "link execute", log, s, ws -> {
                        LinkTable.Plan p = ws.catalog().links().plan(id);
                        if (p == null) {
                            throw CustosException.usage("there is no link plan " + id);
                        }
                        RunContext run = ws.context(null, ctx.cancel(), root.progress(log), LinkExecutor.COUNTERS);
                        new LinkExecutor(run, Plans.rootsById(cfg, ws.catalog())).execute(p, o, s);
                        run.findings().fill(s);
                    });
                } catch (RuntimeException e) {
                    throw root.notStarted(cfg, "link execute", log, e);
                }
            }
            parent.print(s, text(s));
            return s.exitCode().code();
        }

        @SuppressWarnings("unchecked")
        private static String text(RunSummary s) {
            StringBuilder sb = new StringBuilder();
            Map<String, Object> p = (Map<String, Object>) s.extra().get("plan");
            boolean dry = Boolean.TRUE.equals(s.extra().get("dry_run"));
            sb.append(s.command())
                    .append(s.runId() == null ? "" : " (run " + s.runId() + ")")
                    .append(dry ? " --dry-run" : "")
                    .append(": ")
                    .append(Render.verdict(s))
                    .append('\n');
            if (s.error() != null) {
                sb.append("  error: ").append(s.error()).append('\n');
            }
            if (p != null) {
                sb.append(planLine(p));
            }
            if (s.stats() != null && !s.stats().isEmpty()) {
                sb.append("  ").append(Render.counters(s.stats())).append('\n');
            }
            List<Map<String, Object>> actions =
                    (List<Map<String, Object>>) s.extra().get("actions");
            if (actions != null) {
                int shown = 0;
                for (Map<String, Object> a : actions) {
                    String st = String.valueOf(a.get("status"));
                    if (!dry && (st.equals("linked") || st.equals("already_linked"))) {
                        continue;
                    }
                    if (shown++ >= 50) {
                        sb.append("  ... more (see --json or link show-plan)\n");
                        break;
                    }
                    sb.append(String.format(
                            Locale.ROOT,
                            "  %-10s %s -> %s%s%n",
                            st,
                            where(a.get("duplicate")),
                            where(a.get("keep")),
                            a.get("reason") == null ? "" : ": " + a.get("reason")));
                }
            }
            Render.appendProblems(sb, s.problems());
            return sb.toString();
        }
    }

    private static String planLine(Map<String, Object> p) {
        @SuppressWarnings("unchecked")
        Map<String, Object> st = (Map<String, Object>) p.get("action_status");
        return String.format(
                Locale.ROOT,
                "link plan %s%s: %s, %s actions in %s groups, %s reclaimable%s%n",
                p.get("id"),
                p.get("name") == null ? "" : " (" + p.get("name") + ")",
                p.get("status"),
                p.get("actions"),
                p.get("groups"),
                Units.bytes(((Number) p.get("reclaimable_bytes")).longValue()),
                st == null
                        ? ""
                        : String.format(
                                Locale.ROOT,
                                "; %s done, %s skipped, %s failed, %s pending",
                                st.get("done"),
                                st.get("skipped"),
                                st.get("failed"),
                                st.get("pending")));
    }

    @SuppressWarnings("unchecked")
    private static String where(Object o) {
        Map<String, Object> m = (Map<String, Object>) o;
        return m.get("root") + "/" + m.get("path");
    }
}
