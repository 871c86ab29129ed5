package io.custos.dedup;

import io.custos.catalog.Catalog;
import io.custos.catalog.LinkTable;
import io.custos.run.RunSummary;
import java.util.ArrayList;
import java.util.List;

/** Stores a plan: one action per duplicate path, to be replaced by a hardlink of its group's kept file. */
public final class LinkPlanner {
    private LinkPlanner() {}

    /** The stored plan's id. {@code rootNames}: the roots it was limited to, or empty for all. */
    public static long store(
            Catalog catalog,
            Duplicates.Analysis analysis,
            String name,
            long minSize,
            List<String> rootNames,
            long now,
            Long runId) {
        long[] id = new long[1];
        catalog.inTransaction(() -> {
            id[0] = catalog.links()
                    .insertPlan(name, now, runId, minSize, rootNames.isEmpty() ? null : RunSummary.toJson(rootNames));
            List<LinkTable.Action> actions = new ArrayList<>();
            long groupNo = 0;
            long bytes = 0;
            for (Duplicates.Group g : analysis.groups()) {
                groupNo++;
                Duplicates.Member keep = g.keep();
                for (Duplicates.Member d : g.duplicates()) {
                    actions.add(new LinkTable.Action(
                            0,
                            id[0],
                            groupNo,
                            g.sha256(),
                            g.size(),
                            g.device(),
                            keep.fileId(),
                            keep.root().id(),
                            keep.path(),
                            keep.inode(),
                            keep.mtimeNs(),
                            d.fileId(),
                            d.root().id(),
                            d.path(),
                            d.inode(),
                            d.mtimeNs(),
                            "pending",
                            null,
                            null));
                }
                bytes += g.reclaimable();
            }
            catalog.links().insertActions(id[0], actions);
            catalog.links().planTotals(id[0], analysis.groups().size(), actions.size(), bytes);
        });
        return id[0];
    }
}
