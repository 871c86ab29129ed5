package io.custos.cli;

import io.custos.catalog.Catalog;
import io.custos.config.Config;
import io.custos.config.RootSet;
import io.custos.fs.PathGlob;
import io.custos.parity.ParityStore;
import io.custos.repair.RepairRun;
import io.custos.run.Log;
import io.custos.run.RunContext;
import io.custos.run.RunSummary;
import io.custos.run.Stats;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "repair",
        mixinStandardHelpOptions = true,
        description = {
            "Repair damaged and truncated files: from another cataloged copy of the same content, else with"
                    + " par2 from the content's parity set. The result must hash to the recorded SHA-256 before it"
                    + " replaces the file (same owner, mode and modification time); the damaged file is kept in"
                    + " _quarantine/ under the parity root.",
            "A file nothing can repair stays damaged (exit 1)."
        })
final class RepairCommand implements Callable<Integer> {
    private final Context ctx;

    @ParentCommand
    RootCommand root;

    @Option(
            names = "--path",
            paramLabel = "GLOB",
            description = "Only files whose path (relative to the root, or root/path) matches.")
    String path;

    @Option(names = "--dry-run", description = "Say which source would repair each file; change nothing.")
    boolean dryRun;

    RepairCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        Config cfg = root.loadConfig();
        Log log = root.log(cfg);
        try {
            return run(cfg, log);
        } catch (RuntimeException e) {
            throw root.notStarted(cfg, "repair", log, e);
        }
    }

    private Integer run(Config cfg, Log log) {
        PathGlob glob = path == null ? null : new PathGlob(path);
        List<Config.Root> all = new ArrayList<>(RootSet.resolve(cfg).roots().values());
        Path par2 = ParityStore.requirePar2(cfg, all, ctx.env());
        RunSummary summary = new RunSummary("repair", ctx.clock().instant());
        if (dryRun) {
            // Touches nothing: no lock, no run row, no temp directory.
            try (Catalog c = ReadCommands.open(cfg)) {
                if (c != null) {
                    RunContext run = root.dryRun(cfg, c, par2, log, Stats.SCAN);
                    new RepairRun(run).run(glob, true, summary);
                } else {
                    summary.put("dry_run", true).put("files", List.of());
                }
            }
            summary.finishedAt(ctx.clock().instant());
        } else {
            root.recorded(
                    cfg,
                    "repair",
                    log,
                    summary,
                    ws -> new RepairRun(ws.context(par2, ctx.cancel(), root.progress(log))).run(glob, false, summary));
        }
        Render.summary(ctx, root.json(), summary);
        return summary.exitCode().code();
    }
}
