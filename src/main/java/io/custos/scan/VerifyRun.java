package io.custos.scan;

import io.custos.catalog.Catalog;
import io.custos.catalog.FileRow;
import io.custos.catalog.FileStatus;
import io.custos.catalog.RootRow;
import io.custos.config.Config;
import io.custos.config.RootSet;
import io.custos.fs.PathGlob;
import io.custos.parity.ParityStore;
import io.custos.repair.RepairChain;
import io.custos.run.CancelToken;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.run.Problem;
import io.custos.run.RunSummary;
import io.custos.run.Stats;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code verify} (SPEC §5.3): re-checks cataloged files of the named roots against their
 * recorded hash and parity set, {@code --percent} of them or all. Never creates parity for new
 * files and never deletes anything; a damaged file is reported (exit 1) and, with
 * {@code --repair}, repaired at once.
 */
public final class VerifyRun {
    private static final int PAGE = 5000;

    /** What to verify: {@code percent} null means all. */
    public record Options(List<String> roots, Integer percent, PathGlob path, boolean repair) {}

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

    public VerifyRun(
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

    public void run(List<Config.Root> selected, Options o, RunSummary summary) {
        ParityStore parity =
                new ParityStore(config, catalog, parityRoot, par2, runId, clock, log, cancel, stats, this::problem);
        parity.prepare();
        Verifier verifier = new Verifier(config, catalog, parity, runId, clock, log, cancel, stats, this::problem);
        List<FileStatus> statuses = List.of(FileStatus.OK, FileStatus.DAMAGED);
        for (Config.Root r : selected) {
            RootRow row = catalog.roots().byName(r.name());
            if (row == null || cancel.cancelled()) {
                continue;
            }
            if (o.percent() == null) {
                long after = 0;
                while (!cancel.cancelled()) {
                    List<FileRow> page = catalog.files().page(row.id(), after, PAGE, statuses);
                    if (page.isEmpty()) {
                        break;
                    }
                    after = page.get(page.size() - 1).id();
                    verifier.verify(r, filter(r, page, o.path()));
                }
            } else {
                List<FileRow> sample = verifier.sample(row.id(), o.percent(), Long.MAX_VALUE);
                // A damaged file is looked at again whenever it is chosen by --path or --all; in a
                // sample it is not (the scan re-reads it every run).
                verifier.verify(r, filter(r, sample, o.path()));
            }
        }
        if (o.repair() && !cancel.cancelled() && !verifier.damaged().isEmpty()) {
            RepairChain chain =
                    new RepairChain(config, catalog, parityRoot, par2, runId, clock, log, cancel, stats, this::problem);
            for (FileRow f : verifier.damaged()) {
                Config.Root r = rootOf(selected, f.rootId());
                if (r != null
                        && !cancel.cancelled()
                        && chain.repair(r, f, false).repaired()) {
                    // Found and mended in one run: no longer an open problem.
                    String shown = io.custos.fs.RawPaths.display(f.path());
                    problems.removeIf(
                            p -> p.kind().equals("damaged") && r.name().equals(p.root()) && shown.equals(p.path()));
                }
            }
            // Every problem verify and repair report means exit 1.
            exit = problems.isEmpty() ? ExitCode.OK : ExitCode.PROBLEMS;
        }
        if (cancel.cancelled()) {
            exit = ExitCode.INTERRUPTED;
        }
        summary.exitCode(exit).stats(stats.asMap()).problems(problems);
    }

    private Config.Root rootOf(List<Config.Root> selected, long rootId) {
        for (Config.Root r : selected) {
            RootRow row = catalog.roots().byName(r.name());
            if (row != null && row.id() == rootId) {
                return r;
            }
        }
        return null;
    }

    private static List<FileRow> filter(Config.Root r, List<FileRow> rows, PathGlob glob) {
        if (glob == null) {
            return rows;
        }
        List<FileRow> out = new ArrayList<>();
        for (FileRow f : rows) {
            if (glob.matches(r.name(), f.path())) {
                out.add(f);
            }
        }
        return out;
    }

    /** The roots verify may look at: configured, and of the named ones when names are given. */
    public static List<Config.Root> roots(Config config, List<String> names) {
        RootSet.Resolved resolved = RootSet.resolve(config);
        return RootSet.select(config, resolved, names);
    }

    private void problem(Problem p, ExitCode code) {
        problems.add(p);
        exit = exit.worst(code);
        log.warn("%s%s: %s", p.root() == null ? "" : p.root(), p.path() == null ? "" : "/" + p.path(), p.message());
    }
}
