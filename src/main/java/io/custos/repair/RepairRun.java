package io.custos.repair;

import io.custos.catalog.Catalog;
import io.custos.catalog.FileRow;
import io.custos.catalog.RootRow;
import io.custos.config.Config;
import io.custos.config.RootSet;
import io.custos.fs.PathGlob;
import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.run.Problem;
import io.custos.run.RunSummary;
import io.custos.run.Stats;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One {@code repair} (SPEC §6): every damaged or truncated file, or those matching {@code --path}. */
public final class RepairRun {
    private final Config config;
    private final Catalog catalog;
    private final Path parityRoot;
    private final Path par2;
    private final long runId;
    private final Clock clock;
    private final Log log;
    private final CancelToken cancel;
    private final Stats stats = new Stats(Stats.SCAN);
    private final List<Problem> problems = new ArrayList<>();
    private ExitCode exit = ExitCode.OK;

    public RepairRun(
            Config config,
            Catalog catalog,
            Path parityRoot,
            Path par2,
            long runId,
            Clock clock,
            Log log,
            CancelToken cancel) {
        this.config = config;
        this.catalog = catalog;
        this.parityRoot = parityRoot;
        this.par2 = par2;
        this.runId = runId;
        this.clock = clock;
        this.log = log;
        this.cancel = cancel;
    }

    /** With {@code dryRun}, says per file which source would be used and writes nothing. */
    public void run(PathGlob glob, boolean dryRun, RunSummary summary) {
        Map<String, Config.Root> configured = RootSet.resolve(config).roots();
        Map<Long, RootRow> rows = new LinkedHashMap<>();
        for (RootRow r : catalog.roots().all()) {
            rows.put(r.id(), r);
        }
        RepairChain chain =
                new RepairChain(config, catalog, parityRoot, par2, runId, clock, log, cancel, stats, this::problem);
        List<Map<String, Object>> files = new ArrayList<>();
        for (FileRow f : catalog.files().needingRepair()) {
            if (cancel.cancelled()) {
                break;
            }
            RootRow rr = rows.get(f.rootId());
            Config.Root root = rr == null ? null : configured.get(rr.name());
            if (rr == null || (glob != null && !glob.matches(rr.name(), f.path()))) {
                continue;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("root", rr.name());
            m.put("path", RawPaths.display(f.path()));
            m.put("status", f.status().sql());
            if (root == null) {
                problem(
                        new Problem(
                                rr.name(),
                                RawPaths.display(f.path()),
                                "repair_failed",
                                "cannot repair: its root is not configured any more"),
                        ExitCode.PROBLEMS);
                m.put("source", null);
                m.put("result", "root not configured");
            } else {
                RepairChain.Outcome o = chain.repair(root, f, dryRun);
                m.put("source", o.source());
                m.put("result", o.message());
                m.put("repaired", o.repaired());
            }
            files.add(m);
        }
        if (cancel.cancelled()) {
            exit = ExitCode.INTERRUPTED;
        }
        summary.exitCode(exit)
                .stats(stats.asMap())
                .problems(problems)
                .put("dry_run", dryRun)
                .put("files", files);
    }

    private void problem(Problem p, ExitCode code) {
        problems.add(p);
        exit = exit.worst(code);
        log.warn("%s/%s: %s", p.root(), p.path(), p.message());
    }
}
