package io.custos.repair;

import io.custos.catalog.FileRow;
import io.custos.catalog.RootRow;
import io.custos.config.Config;
import io.custos.config.RootSet;
import io.custos.fs.PathGlob;
import io.custos.fs.RawPaths;
import io.custos.run.ExitCode;
import io.custos.run.Problem;
import io.custos.run.Progress;
import io.custos.run.RunContext;
import io.custos.run.RunSummary;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One {@code repair} (SPEC §6): every damaged or truncated file, or those matching {@code --path}. */
public final class RepairRun {
    private final RunContext ctx;

    public RepairRun(RunContext ctx) {
        this.ctx = ctx;
    }

    /** With {@code dryRun}, says per file which source would be used and writes nothing. */
    public void run(PathGlob glob, boolean dryRun, RunSummary summary) {
        Map<String, Config.Root> configured = RootSet.resolve(ctx.config()).roots();
        Map<Long, RootRow> rows = new LinkedHashMap<>();
        for (RootRow r : ctx.catalog().roots().all()) {
            rows.put(r.id(), r);
        }
        RepairChain chain = new RepairChain(ctx);
        List<Map<String, Object>> files = new ArrayList<>();
        List<FileRow> bad = ctx.catalog().files().needingRepair();
        Progress.Task progress = ctx.progress().start(dryRun ? "checking" : "repairing", bad.size(), 0);
        for (FileRow f : bad) {
            if (ctx.cancel().cancelled()) {
                ctx.findings().interrupted();
                break;
            }
            RootRow rr = rows.get(f.rootId());
            if (rr == null || (glob != null && !glob.matches(rr.name(), f.path()))) {
                continue;
            }
            Config.Root root = configured.get(rr.name());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("root", rr.name());
            m.put("path", RawPaths.display(f.path()));
            m.put("status", f.status().sql());
            if (root == null) {
                ctx.problem(
                        new Problem(
                                rr.name(),
                                RawPaths.display(f.path()),
                                "repair_failed",
                                "cannot repair: its root is not configured any more"),
                        ExitCode.PROBLEMS);
                m.put("source", null);
                m.put("result", "root not configured");
                m.put("repaired", false);
            } else {
                RepairChain.Outcome o = chain.repair(root, f, dryRun);
                m.put("source", o.source());
                m.put("result", o.message());
                m.put("repaired", o.repaired());
            }
            files.add(m);
            progress.advance(1, 0);
        }
        progress.done();
        ctx.findings().fill(summary);
        summary.put("dry_run", dryRun).put("files", files);
    }
}
