package io.custos.cli;

import io.custos.catalog.Catalog;
import io.custos.config.Config;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.run.RunSummary;
import io.custos.run.Units;
import io.custos.torrent.PayloadReport;
import io.custos.torrent.PayloadSync;
import io.custos.torrent.QbClient;
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
        name = "payload",
        mixinStandardHelpOptions = true,
        description = {
            "qBittorrent torrents mapped to payloads: the files under each torrent's content path, with a payload"
                    + " hash from the catalog (scan first). Torrents with the same payload hash are siblings."
        },
        subcommands = {PayloadCommand.Sync.class, PayloadCommand.Show.class, PayloadCommand.Siblings.class})
final class PayloadCommand implements Callable<Integer> {
    private final Context ctx;

    @ParentCommand
    RootCommand root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    PayloadCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(ctx.err());
        return ExitCode.USAGE.code();
    }

    @Command(
            name = "sync",
            mixinStandardHelpOptions = true,
            modelTransformer = NotifyCommand.ExitStatusFooter.class,
            description = {
                "Read every torrent from qBittorrent, map it to its payload and store both in the catalog.",
                "Exits 0; 3 when another run holds the lock; 5 when qBittorrent cannot be reached."
            })
    static final class Sync implements Callable<Integer> {
        private final Context ctx;

        @ParentCommand
        PayloadCommand parent;

        @Option(names = "--dry-run", description = "Read and map, store nothing (no lock, no run recorded).")
        boolean dryRun;

        Sync(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Integer call() {
            RootCommand root = parent.root;
            Config cfg = root.loadConfig();
            Log log = root.log(cfg);
            RunSummary s = new RunSummary("payload sync", ctx.clock().instant());
            QbClient qb = new QbClient(cfg.qbittorrent(), log);
            if (dryRun) {
                try (Catalog c = ReadCommands.open(cfg)) {
                    fill(s, new PayloadSync(cfg, c, qb, log).sync(ctx.clock().millis(), true));
                }
                s.put("dry_run", true)
                        .exitCode(ExitCode.OK)
                        .finishedAt(ctx.clock().instant());
            } else {
                try {
                    root.recorded(cfg, "payload sync", log, s, ws -> {
                        fill(
                                s,
                                new PayloadSync(cfg, ws.catalog(), qb, log)
                                        .sync(ctx.clock().millis(), false));
                        s.put("dry_run", false).exitCode(ExitCode.OK);
                    });
                } catch (RuntimeException e) {
                    throw root.notStarted(cfg, "payload sync", log, e);
                }
            }
            parent.print(s, text(s));
            return s.exitCode().code();
        }

        private static void fill(RunSummary s, PayloadSync.Result r) {
            s.stats(r.stats()).put("payloads", r.payloads());
        }

        @SuppressWarnings("unchecked")
        private static String text(RunSummary s) {
            StringBuilder sb = new StringBuilder();
            sb.append(s.command())
                    .append(s.runId() == null ? "" : " (run " + s.runId() + ")")
                    .append(": ")
                    .append(Render.verdict(s))
                    .append('\n');
            if (s.error() != null) {
                sb.append("  error: ").append(s.error()).append('\n');
            }
            if (s.stats() != null) {
                sb.append("  ").append(Render.counters(s.stats())).append('\n');
            }
            List<Map<String, Object>> ps = (List<Map<String, Object>>) s.extra().get("payloads");
            if (ps != null) {
                int shown = 0;
                for (Map<String, Object> p : ps) {
                    if (!"incomplete".equals(p.get("status"))) {
                        continue;
                    }
                    if (shown++ == 20) {
                        sb.append("  ... more incomplete payloads (--json lists all)\n");
                        break;
                    }
                    sb.append("  incomplete ")
                            .append(p.get("path"))
                            .append(": ")
                            .append(p.get("reason"))
                            .append('\n');
                }
            }
            return sb.toString();
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            modelTransformer = NotifyCommand.ExitStatusFooter.class,
            description = {
                "One payload as the last payload sync stored it: its hash, its instances with their torrents, its"
                        + " files. HASH: a torrent's info-hash or a payload hash, or at least 6 of its first digits.",
                "Exits 0; 2 when HASH names no torrent or payload (or several)."
            })
    static final class Show implements Callable<Integer> {
        private final Context ctx;

        @ParentCommand
        PayloadCommand parent;

        @Parameters(paramLabel = "HASH", description = "Torrent info-hash or payload hash (or a prefix).")
        String hash;

        Show(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Integer call() {
            Config cfg = parent.root.loadConfig();
            RunSummary s = new RunSummary("payload show", ctx.clock().instant());
            try (Catalog c = ReadCommands.open(cfg)) {
                PayloadReport r = new PayloadReport(cfg, c);
                s.put("payload", r.show(r.resolve(hash)));
            }
            s.exitCode(ExitCode.OK).finishedAt(ctx.clock().instant());
            parent.print(s, text(s));
            return 0;
        }

        @SuppressWarnings("unchecked")
        private static String text(RunSummary s) {
            Map<String, Object> p = (Map<String, Object>) s.extra().get("payload");
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(
                    Locale.ROOT,
                    "payload %s (%s): %s files, %s%n",
                    p.get("payload_hash") == null ? "-" : p.get("payload_hash"),
                    p.get("status"),
                    p.get("files"),
                    Units.bytes(((Number) p.get("bytes")).longValue())));
            for (Map<String, Object> i : (List<Map<String, Object>>) p.get("instances")) {
                sb.append(String.format(
                        Locale.ROOT,
                        "  %s [%s, %s]%s%n",
                        i.get("path"),
                        i.get("location"),
                        i.get("status"),
                        i.get("reason") == null ? "" : ": " + i.get("reason")));
                for (Map<String, Object> t : (List<Map<String, Object>>) i.get("torrents")) {
                    sb.append("    ").append(torrentLine(t)).append('\n');
                }
            }
            int n = 0;
            for (Map<String, Object> f : (List<Map<String, Object>>) p.get("file_list")) {
                if (n++ == 20) {
                    sb.append("  ... more files (--json lists all)\n");
                    break;
                }
                sb.append(String.format(
                        Locale.ROOT, "  %10s  %s%n", Units.bytes(((Number) f.get("size")).longValue()), f.get("path")));
            }
            return sb.toString();
        }
    }

    @Command(
            name = "siblings",
            mixinStandardHelpOptions = true,
            modelTransformer = NotifyCommand.ExitStatusFooter.class,
            description = {
                "The torrents that share a payload (same payload hash), as the last payload sync stored them.",
                "Exits 0; 2 when HASH names no torrent or payload (or several)."
            })
    static final class Siblings implements Callable<Integer> {
        private final Context ctx;

        @ParentCommand
        PayloadCommand parent;

        @Parameters(paramLabel = "HASH", description = "Torrent info-hash or payload hash (or a prefix).")
        String hash;

        Siblings(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        @SuppressWarnings("unchecked")
        public Integer call() {
            Config cfg = parent.root.loadConfig();
            RunSummary s = new RunSummary("payload siblings", ctx.clock().instant());
            Map<String, Object> m;
            try (Catalog c = ReadCommands.open(cfg)) {
                PayloadReport r = new PayloadReport(cfg, c);
                m = r.siblings(r.resolve(hash));
            }
            m.forEach(s::put);
            s.exitCode(ExitCode.OK).finishedAt(ctx.clock().instant());
            StringBuilder sb = new StringBuilder();
            sb.append("payload ")
                    .append(m.get("payload_hash") == null ? "-" : m.get("payload_hash"))
                    .append(" (")
                    .append(m.get("status"))
                    .append(m.get("reason") == null ? "" : ": " + m.get("reason"))
                    .append(")\n");
            for (Map<String, Object> t : (List<Map<String, Object>>) m.get("siblings")) {
                sb.append(Boolean.TRUE.equals(t.get("self")) ? "  * " : "    ")
                        .append(torrentLine(t))
                        .append('\n');
            }
            parent.print(s, sb.toString());
            return 0;
        }
    }

    static String torrentLine(Map<String, Object> t) {
        return String.format(
                Locale.ROOT,
                "%s %s  %s  %s%s",
                t.get("hash"),
                t.get("state"),
                t.get("name"),
                t.get("save_path"),
                t.get("category") == null || "".equals(t.get("category")) ? "" : "  [" + t.get("category") + "]");
    }

    void print(RunSummary s, String text) {
        if (root.json()) {
            ctx.out().println(s.toJson());
        } else {
            ctx.out().print(text);
        }
    }
}
