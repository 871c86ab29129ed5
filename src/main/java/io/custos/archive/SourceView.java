package io.custos.archive;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/** Where one run reads a job's source: a snapshot of it, or the live directory. */
public interface SourceView extends AutoCloseable {
    /** The source directory as of the snapshot (or as it is, without one). */
    Path dir();

    /** The snapshot's short name (after the {@code @}), or null without a snapshot. */
    String snapshot();

    /**
     * The first-level folders changed since the previous snapshot of this job ({@code zfs diff}),
     * or null when that is not known and the manifest decides.
     */
    Set<String> changed();

    /** Releases the view (a clone is destroyed, old snapshots pruned). */
    @Override
    void close() throws IOException;
}
