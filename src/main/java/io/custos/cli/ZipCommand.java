package io.custos.cli;

import io.custos.archive.Archiver;
import io.custos.archive.ZipJobRun;
import io.custos.catalog.Catalog;
import io.custos.config.Config;
import io.custos.exec.ProcessPriority;
import io.custos.run.Log;
import io.custos.run.RunContext;
import io.custos.run.RunSummary;
import io.custos.run.Stats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "zip",
        mixinStandardHelpOptions = true,
        description = {
            "The archive job: zip every first-level folder of each job's source whose name matches its"
                    + " folder_pattern, from a read-only ZFS snapshot when the source is on ZFS, into"
                    + " <target>/<NAME>/ with metadata.json and MD5/SHA-256 sidecars, keeping the current and the"
                    + " previous archive. Unchanged folders are skipped; failed ones are retried next run.",
            "Exits 1 when a folder failed."
        })
final class ZipCommand implements Callable<Integer> {
    private final Context ctx;

    @ParentCommand
    RootCommand root;

    @Parameters(paramLabel = "JOB", arity = "0..*", description = "Names of the jobs to run (default: all).")
    List<String> jobs = new ArrayList<>();

    @Option(names = "--folder", paramLabel = "NAME", description = "Only this folder (of each job run).")
    String folder;

    @Option(
            names = "--dry-run",
            description = "Say which folders would be zipped; make no snapshot, no file, no catalog entry.")
    boolean dryRun;

    ZipCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        Config cfg = root.loadConfig();
        Log log = root.log(cfg);
        try {
            return run(cfg, log);
        } catch (RuntimeException e) {
            throw root.notStarted(cfg, "zip", log, e);
        }
    }

    private Integer run(Config cfg, Log log) {
        List<Config.ZipJob> selected = ZipJobRun.select(cfg, jobs); // exit 2 before anything is touched
        RunSummary summary = new RunSummary("zip", ctx.clock().instant());
        ZipJobRun.Options o = new ZipJobRun.Options(jobs, folder, dryRun);
        if (dryRun) {
            try (Catalog c = ReadCommands.open(cfg)) {
                RunContext run = root.dryRun(cfg, c, null, log, Stats.ZIP);
                new ZipJobRun(run, ctx.host(), new Archiver(run, ctx.env())).run(selected, o, summary);
            }
            summary.finishedAt(ctx.clock().instant());
        } else {
            ProcessPriority.apply(cfg.process(), log);
            root.recorded(cfg, "zip", log, summary, ws -> {
                RunContext run = ws.context(null, ctx.cancel(), root.progress(log), Stats.ZIP);
                new ZipJobRun(run, ctx.host(), new Archiver(run, ctx.env())).run(selected, o, summary);
            });
        }
        Render.summary(ctx, root.json(), summary);
        return summary.exitCode().code();
    }
}
