package io.custos.cli;

import io.custos.config.Config;
import io.custos.exec.ProcessPriority;
import io.custos.fs.PathGlob;
import io.custos.parity.ParityStore;
import io.custos.run.CustosException;
import io.custos.run.Log;
import io.custos.run.RunSummary;
import io.custos.scan.VerifyRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description = {
            "Re-check cataloged files: re-hash each and check its parity set. A file whose content differs"
                    + " from its recorded hash is marked damaged (exit 1); a missing or damaged parity set of a"
                    + " good file is made again.",
            "Never creates parity for new files and never deletes anything. Files changed since the last scan"
                    + " are left for the next scan."
        })
final class VerifyCommand implements Callable<Integer> {
    private final Context ctx;

    @ParentCommand
    RootCommand root;

    @Parameters(paramLabel = "ROOT", arity = "0..*", description = "Names of the roots to verify (default: all).")
    List<String> roots = new ArrayList<>();

    static final class Amount {
        @Option(
                names = "--percent",
                paramLabel = "N",
                description = "Verify N%% of each root's files: never verified first, then the oldest"
                        + " (default: verify.percent).")
        Integer percent;

        @Option(names = "--all", description = "Verify every file.")
        boolean all;
    }

    @ArgGroup(exclusive = true)
    Amount amount;

    @Option(
            names = "--path",
            paramLabel = "GLOB",
            description = "Only files whose path (relative to the root, or root/path) matches; * and ? stay in one"
                    + " directory, ** crosses directories. Matching files are all verified unless --percent is given.")
    String path;

    @Option(names = "--repair", description = "Repair damaged files at once (see custos repair).")
    boolean repair;

    VerifyCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        Config cfg = root.loadConfig();
        Log log = root.log(cfg);
        try {
            return run(cfg, log);
        } catch (RuntimeException e) {
            throw root.notStarted(cfg, "verify", log, e);
        }
    }

    private Integer run(Config cfg, Log log) {
        Integer percent = cfg.verify().percent();
        if (amount != null && amount.all) {
            percent = null;
        } else if (amount != null && amount.percent != null) {
            if (amount.percent < 0 || amount.percent > 100) {
                throw CustosException.usage("--percent: must be 0 to 100, got " + amount.percent);
            }
            percent = amount.percent;
        } else if (path != null) {
            percent = null;
        }
        PathGlob glob = path == null ? null : new PathGlob(path);
        List<Config.Root> selected = VerifyRun.roots(cfg, roots); // exit 2 before anything is touched
        Path par2 = ParityStore.requirePar2(cfg, selected, ctx.env());
        ProcessPriority.apply(cfg.process(), log);
        RunSummary summary = new RunSummary("verify", ctx.clock().instant());
        VerifyRun.Options options = new VerifyRun.Options(percent, glob, repair);
        root.recorded(
                cfg,
                "verify",
                log,
                summary,
                ws -> new VerifyRun(ws.context(par2, ctx.cancel(), root.progress(log)))
                        .run(selected, options, summary));
        Render.summary(ctx, root.json(), summary);
        return summary.exitCode().code();
    }
}
