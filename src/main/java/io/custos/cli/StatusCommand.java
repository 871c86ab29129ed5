package io.custos.cli;

import io.custos.catalog.Catalog;
import io.custos.catalog.Reports;
import io.custos.config.Config;
import io.custos.run.ExitCode;
import io.custos.run.RunSummary;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = {
            "Catalog totals per root and status, verification age, the last runs, open problems.",
            "Exits 1 when a file is damaged or truncated."
        })
final class StatusCommand implements Callable<Integer> {
    private final Context ctx;

    @ParentCommand
    RootCommand root;

    StatusCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        Config cfg = root.loadConfig();
        RunSummary s = new RunSummary("status", ctx.clock().instant());
        try (Catalog c = ReadCommands.open(cfg)) {
            if (c == null) {
                s.put("catalog", null)
                        .put("roots", List.of())
                        .put("last_runs", List.of())
                        .put("open_problems", List.of());
                s.finishedAt(ctx.clock().instant());
                if (root.json()) {
                    ctx.out().println(s.toJson());
                } else {
                    ctx.out().println("no catalog yet under " + cfg.parityRoot() + ": run custos scan first");
                }
                return ExitCode.OK.code();
            }
            Map<String, Object> report = new Reports(c).status(ctx.clock().millis());
            report.forEach(s::put);
            @SuppressWarnings("unchecked")
            Map<String, Object> totals = (Map<String, Object>) report.get("totals");
            long bad = ((Number) totals.get("damaged_or_truncated")).longValue();
            s.exitCode(bad > 0 ? ExitCode.PROBLEMS : ExitCode.OK)
                    .finishedAt(ctx.clock().instant());
            if (root.json()) {
                ctx.out().println(s.toJson());
            } else {
                ctx.out().print(text(report));
            }
            return s.exitCode().code();
        }
    }

    @SuppressWarnings("unchecked")
    private static String text(Map<String, Object> r) {
        StringBuilder sb = new StringBuilder();
        Map<String, Object> totals = (Map<String, Object>) r.get("totals");
        sb.append(String.format(
                Locale.ROOT,
                "catalog %s: %s files, %s%n",
                r.get("catalog"),
                totals.get("files"),
                io.custos.run.Units.bytes(((Number) totals.get("bytes")).longValue())));
        for (Map<String, Object> root : (List<Map<String, Object>>) r.get("roots")) {
            Map<String, Map<String, Object>> files = (Map<String, Map<String, Object>>) root.get("files");
            sb.append(String.format(Locale.ROOT, "  %-16s %s%n", root.get("name"), root.get("path")));
            sb.append(String.format(
                    Locale.ROOT,
                    "    ok %s, damaged %s, truncated %s, deleted %s; last scan %s%n",
                    files.get("ok").get("files"),
                    files.get("damaged").get("files"),
                    files.get("truncated").get("files"),
                    files.get("deleted").get("files"),
                    root.get("last_scan_at") == null ? "never" : root.get("last_scan_at")));
            sb.append(String.format(
                    Locale.ROOT,
                    "    never verified %s, oldest verification %s%n",
                    root.get("never_verified"),
                    root.get("oldest_verification") == null ? "-" : root.get("oldest_verification")));
        }
        Map<String, Object> parity = (Map<String, Object>) r.get("parity");
        if (parity != null) {
            sb.append(String.format(
                    Locale.ROOT,
                    "parity: %s sets, %s (%s%% of the data)%s; trash %s sets, %s%n",
                    parity.get("sets"),
                    io.custos.run.Units.bytes(((Number) parity.get("bytes")).longValue()),
                    parity.get("percent_of_data"),
                    ((Number) parity.get("owed")).longValue() > 0 ? ", " + parity.get("owed") + " still owed" : "",
                    parity.get("trash_sets"),
                    io.custos.run.Units.bytes(((Number) parity.get("trash_bytes")).longValue())));
        }
        sb.append("last runs:\n");
        for (Map<String, Object> run : (List<Map<String, Object>>) r.get("last_runs")) {
            sb.append(String.format(
                    Locale.ROOT,
                    "  %5s %-8s %s  exit %s%n",
                    run.get("run_id"),
                    run.get("command"),
                    run.get("started_at"),
                    run.get("exit_code") == null ? "(running or crashed)" : run.get("exit_code")));
        }
        List<Map<String, Object>> open = (List<Map<String, Object>>) r.get("open_problems");
        if (!open.isEmpty()) {
            sb.append("open problems:\n");
            for (Map<String, Object> p : open) {
                sb.append(String.format(Locale.ROOT, "  [%s] %s/%s%n", p.get("status"), p.get("root"), p.get("path")));
            }
        }
        return sb.toString();
    }
}
