package io.custos.scan;

import io.custos.catalog.FileRow;
import io.custos.catalog.FileStatus;
import io.custos.catalog.RootRow;
import io.custos.config.Config;
import io.custos.config.RootSet;
import io.custos.fs.PathGlob;
import io.custos.fs.RawPaths;
import io.custos.parity.ParityStore;
import io.custos.repair.RepairChain;
import io.custos.run.RunContext;
import io.custos.run.RunSummary;
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
    public record Options(Integer percent, PathGlob path, boolean repair) {}

    private final RunContext ctx;

    public VerifyRun(RunContext ctx) {
        this.ctx = ctx;
    }

    /** The roots verify may look at: configured, and of the named ones when names are given. */
    public static List<Config.Root> roots(Config config, List<String> names) {
        return RootSet.select(config, RootSet.resolve(config), names);
    }

    public void run(List<Config.Root> selected, Options o, RunSummary summary) {
        ParityStore parity = new ParityStore(ctx);
        parity.prepare();
        Verifier verifier = new Verifier(ctx, parity);
        List<FileStatus> statuses = List.of(FileStatus.OK, FileStatus.DAMAGED);
        List<Config.Root> verified = new ArrayList<>();
        for (Config.Root r : selected) {
            RootRow row = ctx.catalog().roots().byName(r.name());
            if (row == null || ctx.cancel().cancelled()) {
                continue;
            }
            verified.add(r);
            if (o.percent() == null) {
                long after = 0;
                while (!ctx.cancel().cancelled()) {
                    List<FileRow> page = ctx.catalog().files().page(row.id(), after, PAGE, statuses);
                    if (page.isEmpty()) {
                        break;
                    }
                    after = page.get(page.size() - 1).id();
                    verifier.verify(r, filter(r, page, o.path()));
                }
            } else {
                // A sample holds ok files only: a damaged file is re-read by every scan anyway.
                verifier.verify(r, filter(r, verifier.sample(row.id(), o.percent(), Long.MAX_VALUE), o.path()));
            }
        }
        if (o.repair() && !ctx.cancel().cancelled()) {
            repair(verified, verifier.damaged());
        }
        if (ctx.cancel().cancelled()) {
            ctx.findings().interrupted();
        }
        ctx.findings().fill(summary);
    }

    private void repair(List<Config.Root> roots, List<FileRow> damaged) {
        RepairChain chain = new RepairChain(ctx);
        for (FileRow f : damaged) {
            Config.Root r = rootOf(roots, f.rootId());
            if (r == null
                    || ctx.cancel().cancelled()
                    || !chain.repair(r, f, false).repaired()) {
                continue;
            }
            // Found and mended in one run: no longer an open problem.
            String shown = RawPaths.display(f.path());
            ctx.findings()
                    .resolved(p -> p.kind().equals("damaged") && r.name().equals(p.root()) && shown.equals(p.path()));
        }
    }

    private Config.Root rootOf(List<Config.Root> roots, long rootId) {
        for (Config.Root r : roots) {
            RootRow row = ctx.catalog().roots().byName(r.name());
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
}
