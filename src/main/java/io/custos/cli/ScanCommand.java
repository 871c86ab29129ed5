package io.custos.cli;

import io.custos.config.Config;
import io.custos.exec.ProcessPriority;
import io.custos.parity.ParityStore;
import io.custos.run.Log;
import io.custos.run.RunSummary;
import io.custos.scan.ScanRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "scan",
        mixinStandardHelpOptions = true,
        description = {
            "Walk the roots (all, or the named ones), record new, changed, moved and deleted files in the"
                    + " catalog, hashing only what changed.",
            "Keeps a par2 parity set per content for roots with parity on, and verifies verify.percent of"
                    + " the unchanged files.",
            "Deletions and modifications over the guard thresholds are held back until --accept-changes."
        })
final class ScanCommand implements Callable<Integer> {
    private final Context ctx;

    @ParentCommand
    RootCommand root;

    @Parameters(paramLabel = "ROOT", arity = "0..*", description = "Names of the roots to scan (default: all).")
    List<String> roots = new ArrayList<>();

    @Option(
            names = "--accept-changes",
            description = "Apply a large change the guards would hold back (mass deletion or modification).")
    boolean acceptChanges;

    ScanCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        Config cfg = root.loadConfig();
        Log log = root.log(cfg);
        try {
            return run(cfg, log);
        } catch (RuntimeException e) {
            throw root.notStarted(cfg, "scan", log, e);
        }
    }

    private Integer run(Config cfg, Log log) {
        ScanRun.Plan plan = ScanRun.plan(cfg, roots); // exit 2 before anything is touched
        Path par2 = ParityStore.requirePar2(cfg, plan.selected(), ctx.env()); // exit 5 when missing
        ProcessPriority.apply(cfg.process(), log);
        RunSummary summary = new RunSummary("scan", ctx.clock().instant());
        root.recorded(
                cfg,
                "scan",
                log,
                summary,
                ws -> new ScanRun(ws.context(par2, ctx.cancel(), root.progress(log)))
                        .run(plan, acceptChanges, summary));
        Render.summary(ctx, root.json(), summary);
        return summary.exitCode().code();
    }
}
