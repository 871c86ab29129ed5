package io.custos.cli;

import io.custos.catalog.Catalog;
import io.custos.catalog.Reports;
import io.custos.config.Config;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.RunSummary;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "history",
        mixinStandardHelpOptions = true,
        description = {
            "Every event recorded for one file, oldest first; works for deleted and moved files too.",
            "Bytes of a name that are not UTF-8 are written and accepted as \\xNN."
        })
final class HistoryCommand implements Callable<Integer> {
    private final Context ctx;

    @ParentCommand
    RootCommand root;

    @Parameters(paramLabel = "PATH", description = "The file: absolute, or relative to the current directory.")
    String path;

    HistoryCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        Config cfg = root.loadConfig();
        try (Catalog c = ReadCommands.open(cfg)) {
            if (c == null) {
                throw new CustosException(
                        ExitCode.USAGE, "no catalog yet under " + cfg.parityRoot() + ": run custos scan first");
            }
            Reports reports = new Reports(c);
            Map<String, Object> h = reports.history(reports.locate(path, ctx.workingDir()));
            RunSummary s = new RunSummary("history", ctx.clock().instant());
            h.forEach(s::put);
            s.finishedAt(ctx.clock().instant());
            if (root.json()) {
                ctx.out().println(s.toJson());
            } else {
                ctx.out().print(text(h));
            }
            return ExitCode.OK.code();
        }
    }

    @SuppressWarnings("unchecked")
    private static String text(Map<String, Object> h) {
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> f : (List<Map<String, Object>>) h.get("files")) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%s/%s: %s, %s bytes, sha256 %s%n",
                    f.get("root"),
                    f.get("path"),
                    f.get("status"),
                    f.get("size"),
                    f.get("sha256")));
        }
        for (Map<String, Object> e : (List<Map<String, Object>>) h.get("events")) {
            sb.append(String.format(
                    Locale.ROOT,
                    "  %s  %-16s %s/%s%s%n",
                    e.get("time"),
                    e.get("type"),
                    e.get("root"),
                    e.get("path"),
                    e.get("detail") == null ? "" : "  " + e.get("detail")));
        }
        return sb.toString();
    }
}
