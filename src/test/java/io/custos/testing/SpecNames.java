package io.custos.testing;

import java.util.List;

/** Names the SPEC fixes, written out here on purpose: a change in the code must fail a test. */
public final class SpecNames {
    private SpecNames() {}

    /** The scan/verify/repair counters of SPEC §2, in order. */
    public static final List<String> SCAN_STATS = List.of(
            "files_scanned",
            "files_new",
            "files_unchanged",
            "files_touched",
            "files_modified",
            "files_moved",
            "files_deleted",
            "files_truncated",
            "files_busy",
            "files_verified",
            "files_damaged",
            "files_repaired",
            "parity_created",
            "parity_recreated",
            "parity_trashed",
            "parity_restored",
            "orphan_parity_cleaned",
            "bytes_hashed",
            "errors");
}
